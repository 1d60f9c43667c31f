"""How far a platform's cursor may move when messages are handled in any order.

Connectors take messages in by increasing id (Telegram update ids, Mastodon notification ids)
and hand them to lanes that finish in any order. The persisted cursor must never pass a message
not finished yet — a restart would skip it — and a message that comes twice (a redelivery, the
stream and the catch-up poll both bringing it) must be taken in once. `Watermark` is that
bookkeeping, pure: the connector says what it admits and what is finished, and reads the
position to persist.
"""

from __future__ import annotations


class Watermark:
    def __init__(self, position: int | None = None) -> None:
        self.position = position  # every admitted id up to it is finished; None: none yet
        self._pending: set[int] = set()
        self._done: set[int] = set()  # finished above the position

    @property
    def pending(self) -> int:
        return len(self._pending)

    def admit(self, number: int) -> bool:
        """True the first time an id after the position is seen: it must be `finish`ed; False
        for one finished or in hand already."""
        if self.position is not None and number <= self.position:
            return False
        if number in self._pending or number in self._done:
            return False
        self._pending.add(number)
        return True

    def finish(self, number: int) -> None:
        self._pending.discard(number)
        self._done.add(number)

    def advance(self, ceiling: int | None = None) -> bool:
        """Move to the highest finished id below every pending one (and not above `ceiling`,
        when the connector knows older ids may still come); True when it moved."""
        limit = min(self._pending, default=None)
        passable = [
            n
            for n in self._done
            if (limit is None or n < limit) and (ceiling is None or n <= ceiling)
        ]
        if not passable:
            return False
        self.position = max(passable)
        self._done = {n for n in self._done if n > self.position}
        return True
