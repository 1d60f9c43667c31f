"""Updates in, once each, in order within a chat and concurrently across chats.

Polling and webhook both end here. `accept` takes a batch at once: it is written to the inbox
(`bot.store.inbox`), then each update is parsed alone (a malformed one is logged and skipped) and
queued in its chat's lane (`Lanes`), and the caller goes straight back to Telegram for more — the
poll loop never waits for a slow chat (one whose user floods the bot and whose replies are paced
at one per second, or one held back by a 429).

Three positions, deliberately different:

- **confirmed to Telegram**: every accepted update. The poller asks for `accepted + 1` next,
  which tells Telegram to forget everything below (the webhook's 200 does the same). Confirming
  only what is handled would make Telegram send the same first 100 updates again and again
  while one chat is slow: head-of-line blocking, and a busy loop.
- **kept**: an update is in the inbox before it is confirmed; if the inbox cannot be written,
  the batch is not confirmed (the poller backs off and Telegram sends it again; the webhook
  answers 503 and Telegram retries).
- **persisted cursor** (`last`, in the store): the highest update id at or below which every
  accepted update has been handled. The inbox forgets what the cursor passes; above it, the
  updates handled out of order are marked so.

What a crash (SIGKILL, power loss) can therefore cost:

- **lost**: nothing Telegram was told we have. A restart hands the kept updates that were not
  handled to their lanes again, in order, once the bot is connected;
- **answered twice**: updates handled whose mark was not written yet — those handled while the
  previous mark was being written (marks are written one transaction at a time, each covering
  everything handled since) — and, as before, updates the store could not mark while it was
  failing.

A graceful stop lets the lanes finish within a grace period and then saves the cursor: nothing
is lost then, and nothing repeats.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.clock import Clock
from bot.conversation import Lanes
from bot.conversation.watermark import Watermark
from bot.store.inbox import Inbox
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
        self.inbox = Inbox(store, PLATFORM)
        self.lanes: Lanes[Update] = Lanes(self._handle, depth=depth, name="telegram")
        self.last: int | None = None  # persisted: every update up to it handled
        self.accepted: int | None = None  # highest update id taken in (confirmed to Telegram)
        self.processed = 0
        self.skipped = 0  # malformed updates, logged and confirmed anyway
        self.replayed = 0  # kept by a previous run and handed over again
        self._marks = Watermark()  # which accepted updates are handled, in any order
        self._handled: set[int] = set()  # handled, not yet marked in the inbox
        self._replay: list[tuple[int, str]] = []  # kept by a previous run, for `resume`
        self._saving: asyncio.Task[None] | None = None

    async def load(self) -> None:
        """The saved cursor, and what a previous run kept above it."""
        position = await self.store.cursor(PLATFORM)
        self.last = int(position) if position and position.lstrip("-").isdigit() else None
        self._marks = Watermark(self.last)
        kept = await self.inbox.kept(self.last)  # all above the cursor
        self.accepted = self.last if kept.highest is None else kept.highest
        for number in kept.handled:
            self._marks.admit(number)
            self._marks.finish(number)
        for number, _ in kept.waiting:
            self._marks.admit(number)
        self._replay = kept.waiting

    def resume(self) -> None:
        """Hand the updates a previous run kept and did not handle to their lanes (once the
        bot can answer them: after it connected)."""
        replay, self._replay = self._replay, []
        for number, payload in replay:
            self.replayed += 1
            self._queue(number, json.loads(payload))  # written by `accept`: a JSON object
        if replay:
            log.warning("%d update(s) received before a restart handed over again", len(replay))
        self._advance()

    @property
    def offset(self) -> int | None:
        """What to ask Telegram for next: confirms every accepted update."""
        return None if self.accepted is None else self.accepted + 1

    @property
    def pending(self) -> int:
        """Updates accepted and not handled yet: what a restart now would hand over again."""
        return self.lanes.pending + len(self._replay)

    async def accept(self, raw_updates: list[Any]) -> None:
        """Keep a batch in the inbox, queue it in the chats' lanes and return: raises (and
        confirms nothing) when the inbox cannot be written."""
        fresh: list[tuple[int, dict[str, Any]]] = []
        highest = self.accepted
        for raw in raw_updates:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int):
                self.skipped += 1
                log.warning("ignored an update without an update_id: %.80r", raw)
                continue
            if highest is not None and update_id <= highest:
                continue  # already taken in: a webhook redelivery, or handled before a restart
            highest = update_id
            fresh.append((update_id, raw))
        if not fresh:
            return
        await self.inbox.keep([(n, json.dumps(raw)) for n, raw in fresh], self.clock.now())
        newest = fresh[-1][0]  # a concurrent call (the webhook) may have gone further meanwhile
        self.accepted = newest if self.accepted is None else max(self.accepted, newest)
        for update_id, raw in fresh:
            if self._marks.admit(update_id):  # not taken in meanwhile by a concurrent call
                self._queue(update_id, raw)
        self._advance()

    async def close(self, grace: float) -> None:
        """Let the lanes finish within `grace` seconds (what is left stays kept), save the
        cursor."""
        await self.lanes.close(grace)
        while self._saving is not None:
            await self._saving

    def _queue(self, update_id: int, raw: dict[str, Any]) -> None:
        update = self._parse(update_id, raw)
        if update is None:
            self._done(update_id)
            return
        chat = update.effective_chat
        if not self.lanes.submit(str(chat.id) if chat is not None else "", update):
            log.warning("update %s dropped: its chat has too many waiting", update_id)
            self._done(update_id)

    def _done(self, update_id: int) -> None:
        self._marks.finish(update_id)
        self._handled.add(update_id)

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
        # Not reached when cancelled at a stop past its grace: it stays kept, for the next run.
        self.processed += 1
        self._done(update.update_id)
        self._advance()

    def _advance(self) -> None:
        """Save the cursor and the marks when they changed; one write at a time, each covering
        every change since."""
        self._marks.advance()
        if self._saving is None and (self._moved() or self._handled):
            self._saving = asyncio.create_task(self._save(), name="telegram-cursor")

    def _moved(self) -> bool:
        target = self._marks.position
        return target is not None and (self.last is None or target > self.last)

    async def _save(self) -> None:
        try:
            while self._moved() or self._handled:
                target = self._marks.position if self._moved() else None
                handled = set(self._handled)
                try:
                    await self.inbox.settle(handled, target, self.clock.now())
                except Exception as error:  # the store is sick: try again on the next change
                    log.error("Telegram cursor not saved: %s: %s", type(error).__name__, error)
                    return
                self._handled -= handled
                if target is not None:
                    self.last = target
        finally:
            self._saving = None
