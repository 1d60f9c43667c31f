"""Lifecycle of an outbox item: pending → sending → sent | failed | cancelled."""

from __future__ import annotations

import enum


class State(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed; a crash here leaves it to `recover`
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
