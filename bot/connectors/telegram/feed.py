"""Updates in, once each: parse one by one, process, then persist the last update id.

Polling and webhook both end here. The cursor is written only after a batch is processed, so a
crash re-fetches (Telegram keeps unconfirmed updates) rather than skips; updates at or below the
cursor are dropped, so a restart never answers twice what it already answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.clock import Clock
from bot.store.store import Store

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ALLOWED_UPDATES = ["message", "callback_query"]


class UpdateFeed:
    def __init__(
        self, application: Application[Any, Any, Any, Any, Any, Any], store: Store, clock: Clock
    ) -> None:
        self.application = application
        self.store = store
        self.clock = clock
        self.last: int | None = None
        self.processed = 0
        self.skipped = 0  # malformed updates, logged and confirmed anyway
        self.busy = False  # processing a batch: a graceful stop lets it finish

    async def load(self) -> None:
        position = await self.store.cursor(PLATFORM)
        self.last = int(position) if position and position.lstrip("-").isdigit() else None

    @property
    def offset(self) -> int | None:
        return None if self.last is None else self.last + 1

    async def process(self, raw_updates: list[Any]) -> None:
        """Process a batch: chats concurrently (a slow chat does not hold the others), each
        chat's updates in order; then move the cursor past the whole batch."""
        self.busy = True
        try:
            await self._process(raw_updates)
        finally:
            self.busy = False

    async def _process(self, raw_updates: list[Any]) -> None:
        by_chat: defaultdict[int | None, list[Update]] = defaultdict(list)
        highest = self.last
        for raw in raw_updates:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int):
                self.skipped += 1
                log.warning("ignored an update without an update_id: %.80r", raw)
                continue
            if self.last is not None and update_id <= self.last:
                continue  # already processed before a restart or a webhook redelivery
            highest = update_id if highest is None else max(highest, update_id)
            update = self._parse(update_id, raw)
            if update is not None:
                chat = update.effective_chat
                by_chat[chat.id if chat is not None else None].append(update)
        await asyncio.gather(*(self._in_order(updates) for updates in by_chat.values()))
        if highest is not None and highest != self.last:
            await self.store.set_cursor(PLATFORM, str(highest), self.clock.now())
            self.last = highest

    def _parse(self, update_id: int, raw: dict[str, Any]) -> Update | None:
        try:
            return Update.de_json(raw, self.application.bot)
        except Exception as error:  # anything the platform (or an attacker) may send
            self.skipped += 1
            log.warning(
                "ignored malformed update %s: %s: %s", update_id, type(error).__name__, error
            )
            return None

    async def _in_order(self, updates: list[Update]) -> None:
        for update in updates:
            try:
                await self.application.process_update(update)
            except Exception as error:  # handlers' errors go to the error handler; belt and braces
                log.error("update %s failed: %s: %s", update.update_id, type(error).__name__, error)
            self.processed += 1
