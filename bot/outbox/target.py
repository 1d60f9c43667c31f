"""The contract between the outbox and whatever publishes: console, jsonl, Telegram, Mastodon.

A connector implements `Target`; the outbox worker owns retries, rate limits and bookkeeping, so
a target only publishes once per call and says, by the exception it raises, whether trying again
can help.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.outbox.post import Post


@dataclass(frozen=True)
class Receipt:
    """What the platform answered: its id of the published message, and a link when it has one."""

    id: str
    url: str | None = None

    def __str__(self) -> str:
        return f"{self.id} {self.url}" if self.url else self.id


@dataclass(frozen=True)
class RateLimit:
    """At most `count` publications per `seconds` (e.g. Mastodon: 300 per 300 s)."""

    count: int
    seconds: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.seconds <= 0:
            raise ValueError(f"invalid rate limit {self.count}/{self.seconds}s")


class DeliveryError(Exception):
    """Base of what `Target.publish` may raise; anything else is treated as retryable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryableError(DeliveryError):
    """Network error, timeout, 5xx, 429: the same publication may succeed later.

    `retry_after` (seconds) is the platform's own instruction (HTTP Retry-After, Telegram's
    `retry_after`); the worker waits at least that long before calling this target again.
    """

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class InDoubtError(RetryableError):
    """The publication may or may not have arrived (a timeout after the request left, on a
    platform without an idempotency key). The worker retries it — a rare duplicate beats a loss —
    and records the attempt as `in_doubt`, so that `tnl-bot outbox list` counts them."""


class PermanentError(DeliveryError):
    """4xx other than 429, blocked by the user, text too long: retrying cannot help."""


@runtime_checkable
class Target(Protocol):
    """Somewhere the outbox publishes to, named in the configuration (`console`, `mastodon`…)."""

    @property
    def name(self) -> str:
        """Stable name stored with each outbox item; renaming a target orphans its items."""
        ...

    @property
    def idempotent(self) -> bool:
        """True when publishing twice with the same key publishes once (Mastodon's
        Idempotency-Key). Items interrupted in `sending` are then resumed exactly; otherwise they
        are re-sent and may show up twice (at-least-once, measured by the crash test)."""
        ...

    @property
    def limits(self) -> tuple[RateLimit, ...]:
        """Every window the platform enforces; the worker respects all of them."""
        ...

    async def publish(self, post: Post, key: str) -> Receipt:
        """Publish once. Raise RetryableError or PermanentError; never retry internally."""
        ...
