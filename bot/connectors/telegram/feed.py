"""Updates in, once each, in order within a chat and concurrently across chats.

Polling and webhook both end here. `accept` takes a batch at once: each update is parsed alone
(a malformed one is logged and skipped) and queued in its chat's lane (`Lanes`), and the caller
goes straight back to Telegram for more — the poll loop never waits for a slow chat (one whose
user floods the bot and whose replies are paced at one per second, or one held back by a 429).

Two positions, deliberately different:

- **confirmed to Telegram**: every accepted update. The poller asks for `accepted + 1` next,
  which tells Telegram to forget everything below (the webhook's 200 does the same). Confirming
  only what is handled would make Telegram send the same first 100 updates again and again
  while one chat is slow: head-of-line blocking, and a busy loop.
- **persisted cursor** (`last`, in the store): the highest update id at or below which every
  accepted update has been handled. Updates at or below it are dropped when they come again
  (a redelivery, or a restart), so the bot never answers twice what it handled below it.

What a crash (SIGKILL, power loss) can therefore cost is bounded by what is in flight:

- **lost**: updates accepted but not yet handled (queued in the lanes: `pending`, at most
  `depth` per chat). Telegram has forgotten them; nobody gets an answer to those messages;
- **answered twice**: updates above the cursor already handled (out of order, in faster lanes)
  *and* redelivered by Telegram, which only happens for the last batch when the crash comes
  between receiving it and asking for the next (the webhook: between handling and answering
  200). Bounded by one batch (100 updates), and rare in practice.

A graceful stop lets the lanes finish within a grace period and then saves the cursor: nothing
is lost then, and nothing repeats.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.clock import Clock
from bot.conversation import Lanes
from bot.conversation.watermark import Watermark
from bot.store.store import Store

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ALLOWED_UPDATES = ["message", "callback_query"]
# Updates one chat may have waiting. A flooder's first replies leave at one per second while the
# rest of what they send waits to be turned away by the flood guard: room for a scripted flood
# (a few MB at most), and a bound on the memory one sender can take.
DEPTH = 1000


class UpdateFeed:
    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        store: Store,
        clock: Clock,
        *,
        depth: int = DEPTH,
    ) -> None:
        self.application = application
        self.store = store
        self.clock = clock
        self.lanes: Lanes[Update] = Lanes(self._handle, depth=depth, name="telegram")
        self.last: int | None = None  # persisted: every update up to it handled
        self.accepted: int | None = None  # highest update id taken in (confirmed to Telegram)
        self.processed = 0
        self.skipped = 0  # malformed updates, logged and confirmed anyway
        self._marks = Watermark()  # which accepted updates are handled, in any order
        self._saving: asyncio.Task[None] | None = None

    async def load(self) -> None:
        position = await self.store.cursor(PLATFORM)
        self.last = int(position) if position and position.lstrip("-").isdigit() else None
        self.accepted = self.last
        self._marks = Watermark(self.last)

    @property
    def offset(self) -> int | None:
        """What to ask Telegram for next: confirms every accepted update."""
        return None if self.accepted is None else self.accepted + 1

    @property
    def pending(self) -> int:
        """Updates accepted and not handled yet: what a crash now would lose."""
        return self.lanes.pending

    def accept(self, raw_updates: list[Any]) -> None:
        """Queue a batch in the chats' lanes and return at once."""
        for raw in raw_updates:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int):
                self.skipped += 1
                log.warning("ignored an update without an update_id: %.80r", raw)
                continue
            if self.accepted is not None and update_id <= self.accepted:
                continue  # already taken in: a webhook redelivery, or handled before a restart
            self.accepted = update_id
            self._marks.admit(update_id)
            update = self._parse(update_id, raw)
            if update is None:
                self._marks.finish(update_id)
                continue
            chat = update.effective_chat
            if not self.lanes.submit(str(chat.id) if chat is not None else "", update):
                log.warning("update %s dropped: its chat has too many waiting", update_id)
                self._marks.finish(update_id)
        self._advance()

    async def close(self, grace: float) -> None:
        """Let the lanes finish within `grace` seconds (what is left is lost), save the cursor."""
        await self.lanes.close(grace)
        while self._saving is not None:
            await self._saving

    def _parse(self, update_id: int, raw: dict[str, Any]) -> Update | None:
        try:
            return Update.de_json(raw, self.application.bot)
        except Exception as error:  # anything the platform (or an attacker) may send
            self.skipped += 1
            log.warning(
                "ignored malformed update %s: %s: %s", update_id, type(error).__name__, error
            )
            return None

    async def _handle(self, update: Update) -> None:
        try:
            await self.application.process_update(update)
        except Exception as error:  # handlers' errors go to the error handler; belt and braces
            log.error("update %s failed: %s: %s", update.update_id, type(error).__name__, error)
        # Not reached when cancelled at a stop past its grace: the cursor stays below it.
        self.processed += 1
        self._marks.finish(update.update_id)
        self._advance()

    def _advance(self) -> None:
        """Save the cursor when it moved; one write at a time, each covering every move since."""
        self._marks.advance()
        target = self._marks.position
        moved = target is not None and (self.last is None or target > self.last)
        if moved and self._saving is None:
            self._saving = asyncio.create_task(self._save(), name="telegram-cursor")

    async def _save(self) -> None:
        try:
            while (target := self._marks.position) is not None and (
                self.last is None or target > self.last
            ):
                try:
                    await self.store.set_cursor(PLATFORM, str(target), self.clock.now())
                except Exception as error:  # the store is sick: try again on the next move
                    log.error("Telegram cursor not saved: %s: %s", type(error).__name__, error)
                    return
                self.last = target
        finally:
            self._saving = None
