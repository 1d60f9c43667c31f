"""A typed, asynchronous face on Mastodon.py for one account, with pacing.

Mastodon.py is blocking; every call runs in a worker thread (`asyncio.to_thread`) so the event
loop keeps serving Telegram, the scheduler and the outbox. Calls of one account are serialised
by a lock: Mastodon.py's rate-limit bookkeeping is not thread-safe. Mastodon.py is told to
*throw* on a 429 (never to sleep in its thread); the budget below paces requests on the injected
clock so that the server's limits (300 requests / 5 min, 300 statuses / 3 h, 30 deletions /
30 min per account) are not reached in the first place, and the X-RateLimit-* headers stop us
early when something else spends the same token.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time
from collections.abc import Callable
from typing import TypeVar

import requests
import urllib3.exceptions
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonIOError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonServiceUnavailableError,
    MastodonUnauthorizedError,
)

from bot.clock import Clock
from bot.connectors.mastodon.config import MastodonAccount
from bot.outbox.ratelimit import RateLimiter
from bot.outbox.target import DeliveryError, PermanentError, RateLimit, RetryableError

log = logging.getLogger(__name__)
T = TypeVar("T")

REQUEST_TIMEOUT = 10.0  # seconds; the outbox retries, a hung call must not hold the queue
REQUESTS = RateLimit(300, 300)  # Mastodon's default per account
STATUSES = RateLimit(300, 3 * 3600)
DELETES = RateLimit(30, 30 * 60)  # rack-attack's `throttle_api_delete`: deleting statuses
HEADROOM = 10  # requests kept for `whoami`, `setup` and a human using the same token
USER_AGENT = "tnl-bot (+https://territoire-numerique-libre.org)"


class Throttled(Exception):
    """Not sent: the call would break a rate limit. `wait` seconds until it would not."""

    def __init__(self, reason: str, wait: float) -> None:
        super().__init__(f"{reason}; retry in {wait:.0f} s")
        self.reason = reason
        self.wait = wait


class RateBudget:
    """The account's limits as the project's `RateLimiter`s (sliding windows on the injected
    clock), blocked until the server's announced reset when its headers say the window is
    spent: by us, or by anything else using the same token."""

    def __init__(
        self,
        clock: Clock,
        requests_limit: RateLimit = REQUESTS,
        statuses_limit: RateLimit = STATUSES,
        headroom: int = HEADROOM,
        deletes_limit: RateLimit = DELETES,
    ) -> None:
        self.clock = clock
        self.requests = RateLimiter(
            [RateLimit(max(requests_limit.count - headroom, 1), requests_limit.seconds)]
        )
        self.statuses = RateLimiter([statuses_limit])  # only the bot posts: no headroom needed
        self.deletes = RateLimiter([deletes_limit])
        self.server_remaining: int | None = None
        self.server_reset: dt.datetime | None = None

    def wait_for(
        self, requests_needed: int, statuses_needed: int = 0, deletes_needed: int = 0
    ) -> float:
        """Seconds until `requests_needed` requests creating `statuses_needed` statuses and
        deleting `deletes_needed` fit."""
        now = self.clock.now()
        free = self.requests.free_at(now, requests_needed)
        if statuses_needed:
            free = max(free, self.statuses.free_at(now, statuses_needed))
        if deletes_needed:
            free = max(free, self.deletes.free_at(now, deletes_needed))
        if (
            self.server_remaining is not None
            and self.server_reset is not None
            and self.server_remaining < requests_needed
        ):
            free = max(free, self.server_reset)
        return (free - now).total_seconds()

    def spend(self, requests_used: int, statuses_used: int = 0, deletes_used: int = 0) -> None:
        now = self.clock.now()
        for _ in range(requests_used):
            self.requests.record(now)
        for _ in range(statuses_used):
            self.statuses.record(now)
        for _ in range(deletes_used):
            self.deletes.record(now)

    def observe(self, remaining: int | None, reset_in: float | None) -> None:
        """The server's X-RateLimit-Remaining and seconds until X-RateLimit-Reset."""
        self.server_remaining = remaining
        now = self.clock.now()
        self.server_reset = now + dt.timedelta(seconds=reset_in) if reset_in is not None else None


class MastodonClient:
    """One account's API; `call` runs a Mastodon.py method off the loop, within the budget."""

    def __init__(
        self,
        account: MastodonAccount,
        clock: Clock,
        *,
        timeout: float = REQUEST_TIMEOUT,
        budget: RateBudget | None = None,
    ) -> None:
        self.account = account
        self.clock = clock
        self.budget = budget or RateBudget(clock)
        session = requests.Session()
        session.trust_env = False  # no proxy or .netrc surprises for a bot token
        self.api = Mastodon(
            access_token=account.token.get_secret_value(),
            api_base_url=account.url,
            ratelimit_method="throw",
            request_timeout=timeout,
            user_agent=USER_AGENT,
            session=session,
        )
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"MastodonClient({self.account.name!r}, {self.account.url!r})"

    async def call(
        self,
        work: Callable[[Mastodon], T],
        *,
        statuses: int = 0,
        requests: int = 1,
        deletes: int = 0,
    ) -> T:
        """Run `work(api)` in a thread. Raises Throttled (nothing sent) or MastodonError."""
        async with self._lock:
            wait = self.budget.wait_for(requests, statuses, deletes)
            if wait > 0:
                raise Throttled(f"{self.account.name}: pacing under the rate limits", wait)
            self.budget.spend(requests, statuses, deletes)
            try:
                return await asyncio.to_thread(work, self.api)
            finally:
                self._observe_headers()

    def _observe_headers(self) -> None:
        """Mastodon.py keeps the last X-RateLimit-* values, with Reset moved to the local clock
        through the server's Date header; turn them into a duration on our clock, rounded up to
        10 ms so that the real time spent since the header was read never brings us back
        before the reset."""
        reset = self.api.ratelimit_reset
        reset_in = (
            math.ceil(max(float(reset) - time.time(), 0.0) * 100) / 100
            if reset is not None
            else None
        )
        self.budget.observe(self.api.ratelimit_remaining, reset_in)

    def retry_after(self) -> float:
        """After a 429: how long the server asked us to wait (until its window resets), never
        longer; a minute when it did not say."""
        reset = self.budget.server_reset
        if reset is None:
            return 60.0
        return max((reset - self.clock.now()).total_seconds(), 0.0)


def delivery_error(error: Exception, client: MastodonClient) -> DeliveryError:  # noqa: PLR0911
    """Say whether retrying can help: network trouble, 5xx and 429 can; other 4xx cannot.

    One return per class of failure reads better than a table: the order matters (subclasses
    first)."""
    if isinstance(error, Throttled):
        return RetryableError(error.reason, error.wait)
    if isinstance(error, MastodonRatelimitError):
        return RetryableError("HTTP 429 rate limited", client.retry_after())
    if isinstance(error, MastodonNetworkError):
        return RetryableError(f"network: {_short(error)}")
    if isinstance(error, MastodonServerError):
        return RetryableError(f"HTTP {_status(error)} server error")
    if isinstance(error, MastodonUnauthorizedError):
        return PermanentError("HTTP 401: the access token is invalid or revoked")
    if isinstance(error, MastodonNotFoundError):
        return PermanentError("HTTP 404: not found")
    if isinstance(error, MastodonAPIError):
        status = _status(error)
        if status in (408, 409, 425):
            return RetryableError(f"HTTP {status}")
        return PermanentError(f"HTTP {status}: {_message(error)}")
    if isinstance(error, MastodonIOError):
        return PermanentError(f"cannot read the image: {_short(error)}")
    if isinstance(error, MastodonError):
        return PermanentError(f"{type(error).__name__}: {_short(error)}")
    return RetryableError(f"{type(error).__name__}: {_short(error)}")


def may_have_taken_effect(error: Exception) -> bool:
    """Whether a request that failed with `error` may still have been carried out by the server
    (a status created although we got no answer): what puts an outbox item in doubt.

    A refusal proves it was not: `Throttled` and bad arguments never left this process; a 429
    comes from rack-attack before the request reaches the application; other 4xx are the
    application saying no. A 503 is taken as a refusal too: Mastodon answers it for a temporary
    failure that rolled back (lock not obtained, serialization failure) and proxies for
    maintenance or no backend, before forwarding; the fake server refuses to inject a 503
    "after the fact" for this reason. 500, 502, 504 and other 5xx may come after the
    application committed (an error while rendering, a proxy giving up on a slow backend), and
    a timeout or a dropped connection after the request was sent leaves us not knowing:
    those are in doubt, as is anything unexpected (a response Mastodon.py could not parse).
    """
    if isinstance(error, Throttled | MastodonIllegalArgumentError | MastodonRatelimitError):
        return False
    if isinstance(error, MastodonNetworkError):
        return not _never_connected(error)
    if isinstance(error, MastodonServiceUnavailableError):
        return False
    if isinstance(error, MastodonServerError):
        return True
    if isinstance(error, MastodonAPIError):  # 401, 404, 422… with a status code
        status = _status(error)
        return not (isinstance(status, int) and 400 <= status < 500)
    return True


def _never_connected(error: MastodonNetworkError) -> bool:
    """The connection was refused or could not be opened in time: no byte of the request left.
    Mastodon.py raises its network error inside the `except` of the requests error (context)."""
    cause = error.__cause__ or error.__context__
    while cause is not None:
        if isinstance(cause, requests.exceptions.ConnectTimeout):
            return True
        if isinstance(cause, requests.exceptions.ConnectionError):
            reason = getattr(cause.args[0], "reason", None) if cause.args else None
            return isinstance(reason, urllib3.exceptions.NewConnectionError)
        cause = cause.__cause__ or cause.__context__
    return False


def _status(error: MastodonError) -> int | str:
    return error.args[1] if len(error.args) > 1 else "?"


def _message(error: MastodonError) -> str:
    return str(error.args[3]) if len(error.args) > 3 and error.args[3] else "rejected"


def _short(error: Exception) -> str:
    text = str(error)
    return text if len(text) <= 200 else text[:199] + "…"
