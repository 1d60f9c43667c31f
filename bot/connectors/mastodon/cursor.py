"""The persisted mention cursor, when mentions are answered concurrently and come twice.

Mentions arrive from the stream and from the catch-up poll, and are answered in lanes that
finish in any order. The cursor (the last notification handled, in the store) must still never
pass one that is not finished, or a restart would skip it; and a notification brought by both
the stream and the poll must be answered once. So the cursor tracks, in memory, the
notifications admitted and not finished (`pending`) and those finished above the persisted
position (`done`), and moves to the highest finished id below every pending one.

A catch-up sweep admits the notifications after the cursor page by page; until it has
finished, a notification from the stream may be newer than some the sweep has not reached yet,
so the cursor moves no further than the sweep's progress (`_swept`) while one runs. The
bookkeeping of pending and finished ids is the conversation layer's `Watermark`.
"""

from __future__ import annotations

import asyncio
import logging

from bot.clock import Clock
from bot.conversation.watermark import Watermark
from bot.store.errors import UNAVAILABLE
from bot.store.store import Store

log = logging.getLogger(__name__)


class MentionCursor:
    def __init__(self, store: Store, name: str, clock: Clock) -> None:
        self.store = store
        self.name = name
        self.clock = clock
        self._marks = Watermark()
        self._stored: int | None = None
        self._loaded = False
        self._swept: int | None = None  # a sweep's progress; None when no sweep runs
        self._writing = asyncio.Lock()

    async def load(self) -> int | None:
        """The persisted position, read once per process (then this object is the truth)."""
        if not self._loaded:
            stored = await self.store.cursor(self.name)
            self._stored = int(stored) if stored is not None else None
            self._marks = Watermark(self._stored)
            self._loaded = True
        return self.position

    @property
    def position(self) -> int | None:
        """The last notification handled (None: never handled any, the very first run)."""
        return self._marks.position

    def admit(self, notification_id: str) -> bool:
        """True the first time a notification after the cursor is seen: it is now pending and
        must be `finish`ed; False for one handled or in hand already."""
        return self._marks.admit(int(notification_id))

    @property
    def pending(self) -> int:
        return self._marks.pending

    def sweep_from(self) -> int | None:
        """A sweep starts at the cursor: the cursor holds still until `swept_to` says more."""
        self._swept = self.position if self.position is not None else 0
        return self.position

    def swept_to(self, notification_id: str) -> None:
        """Every notification up to this one has been admitted (or handled before)."""
        self._swept = max(self._swept or 0, int(notification_id))

    async def sweep_done(self) -> None:
        self._swept = None
        await self._advance()

    async def finish(self, notification_id: str) -> None:
        """The notification was answered, ignored, or given up: the cursor may pass it."""
        self._marks.finish(int(notification_id))
        await self._advance()

    async def _advance(self) -> None:
        if not self._marks.advance(ceiling=self._swept):
            return
        async with self._writing:  # writes in order: the last one carries the latest position
            if self.position != self._stored:
                position = self.position
                try:
                    await self.store.set_cursor(self.name, str(position), self.clock.now())
                except UNAVAILABLE as error:  # the store is sick: the next move writes it
                    log.error("Mastodon cursor %s not saved: %s", self.name, error)
                    return
                self._stored = position
