"""`OutboxItem`: one (message key, target) of the outbox, its post decoded.

A module of its own so that `Outcome` (what an attempt did to an item) and `Outbox` (which
records outcomes) can both name it without importing each other.
"""

from __future__ import annotations

from typing import TypeAlias

from bot.outbox.post import Post
from bot.store.items import StoredItem

OutboxItem: TypeAlias = StoredItem[Post]
