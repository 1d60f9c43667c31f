"""The one backoff policy: how long to wait after a failure, for every loop that retries.

The outbox worker, the connectors' connect and poll loops and their streaming reconnections all
wait through `Backoff`; a platform's own instruction (HTTP Retry-After, Telegram's
`retry_after`, Mastodon's X-RateLimit-Reset) always takes precedence over a guess.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with "equal jitter": half the delay is fixed, half is random, so
    retries never hammer a recovering platform in step, and never come back immediately."""

    base: float = 5.0
    factor: float = 2.0
    ceiling: float = 3600.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait after the `attempt`-th consecutive failure (1 for the first)."""
        delay = min(self.ceiling, self.base * self.factor ** max(attempt - 1, 0))
        return delay / 2 + (rng or random).uniform(0, delay / 2)


class Retries:
    """A loop's consecutive failures under a policy: `failed()` says how long to wait next,
    `succeeded()` starts over."""

    def __init__(self, policy: Backoff, rng: random.Random | None = None) -> None:
        self.policy = policy
        self.rng = rng
        self.failures = 0  # consecutive, since the last success
        self.total = 0  # since start, for statistics

    def failed(self, retry_after: float | None = None) -> float:
        """One more failure: the platform's `retry_after` when it gave one, else the policy's
        delay for this many consecutive failures."""
        self.failures += 1
        self.total += 1
        if retry_after is not None:
            return max(retry_after, 0.0)
        return self.policy.delay(self.failures, self.rng)

    def succeeded(self) -> None:
        self.failures = 0
