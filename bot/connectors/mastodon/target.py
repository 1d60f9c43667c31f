"""`MastodonTarget`: the outbox publishes announcements to one Mastodon account through it.

Exactly once, even across crashes: each status carries an `Idempotency-Key` derived from the
outbox key, so a resend after a crash returns the status already created instead of a second
one. Mastodon remembers a key for one hour only; an item *in doubt* (an earlier attempt may have
created statuses) for longer than that is first looked for among the account's recent statuses
(same text, same thread, not already the receipt of another outbox item) and only the missing
statuses are posted.

In doubt means that an attempt may have reached the server: it was interrupted while `sending`
(a crash), or a status request failed without a refusal (timeout, dropped connection, 500/502/
504; see `may_have_taken_effect`), or part of a thread was posted. Refusals (4xx, 429, 503,
local pacing) prove that nothing was created and never put an item in doubt: a 503 storm that
outlasts the key's hour must end in a post, not in another item's identical status. The
target marks such an attempt's reason with `IN_DOUBT`; `attempt_in_doubt` reads it back from
the outbox's attempt records.
"""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mastodon import Mastodon
from mastodon.errors import MastodonNetworkError, MastodonRatelimitError, MastodonServerError
from mastodon.return_types import Account, MediaAttachment, Status

from bot.clock import Clock
from bot.connectors.mastodon.client import (
    HEADROOM,
    REQUESTS,
    MastodonClient,
    Throttled,
    delivery_error,
    may_have_taken_effect,
)
from bot.connectors.mastodon.config import MastodonAccount
from bot.connectors.mastodon.text import (
    DEFAULT_MAX_CHARACTERS,
    same_text,
    split_thread,
    with_hashtags,
)
from bot.outbox.post import Post
from bot.outbox.target import DeliveryError, PermanentError, RateLimit, Receipt, RetryableError
from bot.textsplit import MASTODON_URL_LENGTH, mastodon_length

log = logging.getLogger(__name__)

# Mastodon keeps an Idempotency-Key for 3600 s; past 55 minutes we stop trusting it.
IDEMPOTENCY_WINDOW = dt.timedelta(minutes=55)
RECENT_PAGES = 3  # 3 × 40 recent statuses searched for an item in doubt
SEARCH_MARGIN = dt.timedelta(minutes=5)  # statuses this much older than the doubt still count
INSTANCE_TTL = dt.timedelta(hours=24)
# Statuses this process returned as receipts, remembered until the outbox surely holds them
# (the worker records an idempotent target's outcomes once per batch, after all its sends).
CLAIM_MEMORY = dt.timedelta(hours=6)
# Starts the reason of an attempt that may have left statuses on the server (Telegram uses the
# same words); the outbox records the reason as the attempt's detail. Not `InDoubtError`: the
# outbox counts its `in_doubt` outcome as "maybe doubled", which the Idempotency-Key and the
# search below prevent here; and a partial thread cut by a 422 stays a `PermanentError`.
IN_DOUBT = "in doubt: "
# Attempt outcomes whose detail says whether they are in doubt. Any other outcome
# ("interrupted" after a crash, "in_doubt", or one this code does not know) is taken as in doubt:
# the cost of a wrong "in doubt" is a search, that of a wrong "refused" a duplicate.
DETAILED_OUTCOMES = frozenset({"retry", "failed"})


class History(Protocol):
    """What the outbox knows of earlier attempts; `bot.connectors.mastodon.runtime` provides it.

    Without it a target only knows what happened in its own process."""

    async def doubt_since(self, target: str, key: str) -> dt.datetime | None:
        """The earliest moment an earlier attempt of (target, key) may have reached the server,
        or None when none may have (first attempt, or only refusals)."""
        ...

    async def claimed(self, target: str, key: str, since: dt.datetime) -> frozenset[str]:
        """Ids of the statuses other items of `target` hold as receipts (sent since `since`)."""
        ...


def attempt_in_doubt(outcome: str, detail: str | None) -> bool:
    """Whether a recorded attempt (`Outbox.attempts`) may have created statuses."""
    if outcome == "sent":
        return False
    if outcome not in DETAILED_OUTCOMES:
        return True
    return IN_DOUBT in (detail or "")  # "failed" wraps it: "deadline … last error: in doubt: …"


def receipt_status_ids(receipt: str) -> list[str]:
    """The status ids of a recorded receipt ("id1,id2,id3 url", see `MastodonTarget.publish`)."""
    words = receipt.split()
    return [part for part in words[0].split(",") if part] if words else []


@dataclass(frozen=True)
class InstanceLimits:
    max_characters: int = DEFAULT_MAX_CHARACTERS
    url_length: int = MASTODON_URL_LENGTH
    description_limit: int = 1500


def thread_keys(key: str, count: int) -> list[str]:
    """One Idempotency-Key per status: the outbox key itself for a single status."""
    return [key] if count == 1 else [f"{key}#{n}/{count}" for n in range(1, count + 1)]


class MastodonTarget:
    idempotent = True
    # Each outbox item is at least one request. The client's budget counts the real requests
    # and statuses (threads, images) and refuses with a retry-after before a limit is hit; a
    # statuses window here would also count those refusals (the worker counts every attempt)
    # and stall the queue for hours, so the 3-hour statuses limit is left to the budget.
    limits: tuple[RateLimit, ...] = (RateLimit(REQUESTS.count - HEADROOM, REQUESTS.seconds),)

    def __init__(
        self,
        account: MastodonAccount,
        client: MastodonClient,
        clock: Clock,
        *,
        history: History | None = None,
    ) -> None:
        self.account = account
        self.client = client
        self.clock = clock
        self.history = history
        self.name = account.target_name
        self._limits: tuple[InstanceLimits, dt.datetime] | None = None
        self._me: Account | None = None
        # key → start of its first attempt in this process that may have created statuses
        self._doubt: dict[str, dt.datetime] = {}
        # status id → (outbox key, when) of the receipts this process returned
        self._claims: dict[str, tuple[str, dt.datetime]] = {}

    async def publish(self, post: Post, key: str) -> Receipt:
        try:
            return await self._publish(post, key)
        except DeliveryError:
            raise
        except Exception as error:
            raise delivery_error(error, self.client) from error

    async def instance_limits(self) -> InstanceLimits:
        """`configuration.statuses` of /api/v2/instance, cached a day; 500 / 23 if unknown."""
        now = self.clock.now()
        if self._limits is not None and now - self._limits[1] < INSTANCE_TTL:
            return self._limits[0]
        try:
            info = await self.client.call(lambda api: api.instance_v2())
            configuration = info.configuration
            limits = InstanceLimits(
                int(configuration.statuses.max_characters),
                int(configuration.statuses.characters_reserved_per_url),
                int(configuration.media_attachments.get("description_limit", 1500)),
            )
        except (MastodonNetworkError, MastodonServerError, MastodonRatelimitError, Throttled):
            raise
        except Exception as error:  # an old or unusual server: the documented defaults
            log.warning("%s: no /api/v2/instance limits (%s); using 500", self.name, error)
            limits = InstanceLimits()
        self._limits = (limits, now)
        return limits

    def parts(self, post: Post, limits: InstanceLimits) -> list[str]:
        """The statuses of the thread: the post's own parts as they are (each must fit), or
        its text with the account's hashtags, cut where the instance's limit requires."""
        if post.parts:
            reserved = len(post.content_warning or "")
            for part in post.parts:
                if mastodon_length(part, limits.url_length) + reserved > limits.max_characters:
                    raise PermanentError(
                        f"a status of {mastodon_length(part, limits.url_length)} characters: "
                        f"this instance accepts {limits.max_characters}"
                    )
            return list(post.parts)
        text = with_hashtags(post.text, self.account.hashtags)
        reserved = len(post.content_warning or "")  # the CW counts towards the limit
        try:
            return split_thread(
                text, limits.max_characters, url_length=limits.url_length, reserved=reserved
            )
        except ValueError as error:
            raise PermanentError(str(error)) from error

    async def _publish(self, post: Post, key: str) -> Receipt:
        limits = await self.instance_limits()
        parts = self.parts(post, limits)
        if post.image is not None and len(post.image_alt or "") > limits.description_limit:
            raise PermanentError(f"alt text longer than {limits.description_limit} characters")
        requests = len(parts) + (1 if post.image is not None else 0)
        wait = self.client.budget.wait_for(requests, len(parts))
        if wait > 0:  # never start a thread that pacing would cut in the middle
            raise RetryableError(f"{self.name}: pacing under the rate limits", wait)
        keys = thread_keys(key, len(parts))
        published = await self._already_published(key, parts)
        media_ids: list[Any] | None = None
        if post.image is not None and 0 not in published:  # an orphan upload is harmless
            media = await self.client.call(_uploader(post.image, post.image_alt or ""))
            media_ids = [media.id]
        statuses: list[Status] = []
        previous: object = None
        started, created = self.clock.now(), 0
        try:
            for index, (text, status_key) in enumerate(zip(parts, keys, strict=True)):
                if index in published:
                    statuses.append(published[index])
                    previous = published[index].id
                    continue
                status = await self.client.call(
                    _poster(text, previous, media_ids if index == 0 else None, post, status_key),
                    statuses=1,
                )
                statuses.append(status)
                previous = status.id
                created += 1
        except Exception as error:
            if created or may_have_taken_effect(error):
                self._doubt.setdefault(key, started)
                raise _in_doubt(self._failure(error), created, len(parts)) from error
            raise
        self._claim(key, statuses)
        first = statuses[0]
        return Receipt(",".join(str(s.id) for s in statuses), first.url)

    def _failure(self, error: Exception) -> DeliveryError:
        return error if isinstance(error, DeliveryError) else delivery_error(error, self.client)

    def _claim(self, key: str, statuses: list[Status]) -> None:
        """Remember the statuses now `key`'s, until the outbox has recorded the receipt."""
        now = self.clock.now()
        for status_id, (_, at) in list(self._claims.items()):
            if now - at > CLAIM_MEMORY:
                del self._claims[status_id]
        self._claims.update((str(status.id), (key, now)) for status in statuses)

    async def _doubt_since(self, key: str) -> dt.datetime | None:
        """The earliest moment an earlier attempt may have reached the server, from this
        process and from the outbox (an earlier process); None when no attempt may have."""
        moments = [self._doubt[key]] if key in self._doubt else []
        if self.history is not None:
            recorded = await self.history.doubt_since(self.name, key)
            if recorded is not None:
                moments.append(recorded)
        return min(moments, default=None)

    async def _claimed(self, key: str, since: dt.datetime) -> frozenset[str]:
        """Statuses that are other items' receipts: never this item's, whatever their text."""
        mine = {status_id for status_id, (owner, _) in self._claims.items() if owner != key}
        if self.history is not None:
            mine |= await self.history.claimed(self.name, key, since)
        return frozenset(mine)

    async def _already_published(self, key: str, parts: list[str]) -> dict[int, Status]:
        """Statuses of this thread already on the account, by index, for an item in doubt for
        longer than the server remembers its Idempotency-Key.

        Text and thread alone do not identify an item (a reminder may be queued twice with the
        same words), so statuses another item holds as its receipt are left out."""
        since = await self._doubt_since(key)
        if since is None or self.clock.now() - since < IDEMPOTENCY_WINDOW:
            return {}
        start = since - SEARCH_MARGIN
        claimed = await self._claimed(key, start)
        recent = [s for s in await self._recent_statuses(start) if str(s.id) not in claimed]
        found: dict[int, Status] = {}
        for index, text in enumerate(parts):
            parent = found[index - 1].id if index else None
            match = next(
                (
                    status
                    for status in recent
                    if same_text(status.content, text)
                    and (index == 0 or status.in_reply_to_id == parent)
                ),
                None,
            )
            if match is None:
                break
            found[index] = match
        if found:
            log.warning(
                "%s: item %s was already published (%d of %d statuses); not posting those again",
                self.name,
                key,
                len(found),
                len(parts),
            )
        return found

    async def _recent_statuses(self, since: dt.datetime) -> list[Status]:
        """The account's own statuses created after `since`, oldest first."""
        if self._me is None:
            self._me = await self.client.call(_verify_credentials)
        me_id = self._me.id
        statuses: list[Status] = []
        max_id: object = None
        for _ in range(RECENT_PAGES):
            page = await self.client.call(_page(me_id, max_id))
            statuses.extend(page)
            if len(page) < 40 or min(s.created_at for s in page) < since:
                break
            max_id = page[-1].id
        return sorted((s for s in statuses if s.created_at >= since), key=lambda s: s.created_at)


def _in_doubt(failure: DeliveryError, created: int, count: int) -> DeliveryError:
    """The same failure, its reason marked `IN_DOUBT` for the outbox's attempt record."""
    reason = f"{IN_DOUBT}{failure.reason}"
    if created:
        reason += f" after {created} of {count} statuses were posted"
    if isinstance(failure, RetryableError):
        return RetryableError(reason, failure.retry_after)
    return PermanentError(reason)


def _uploader(image: Path, alt: str) -> Callable[[Mastodon], MediaAttachment]:
    """Upload bytes, not a path: Mastodon.py leaves a file it opened itself unclosed."""

    def work(api: Mastodon) -> MediaAttachment:
        try:
            data = image.read_bytes()
        except OSError as error:
            raise PermanentError(f"cannot read the image {image}: {error.strerror}") from error
        mime = mimetypes.guess_type(image.name)[0]
        if mime is None or not mime.startswith("image/"):
            raise PermanentError(f"{image.name} is not an image")
        media: MediaAttachment = api.media_post(
            data, mime_type=mime, description=alt, file_name=image.name
        )
        return media

    return work


def _verify_credentials(api: Mastodon) -> Account:
    account: Account = api.account_verify_credentials()
    return account


def _page(account_id: object, max_id: object) -> Callable[[Mastodon], list[Status]]:
    def work(api: Mastodon) -> list[Status]:
        return list(
            api.account_statuses(
                account_id,
                limit=40,
                exclude_reblogs=True,
                max_id=max_id,
            )
        )

    return work


def _poster(
    text: str, reply_to: object, media_ids: list[Any] | None, post: Post, key: str
) -> Callable[[Mastodon], Status]:
    def work(api: Mastodon) -> Status:
        status = api.status_post(
            text,
            in_reply_to_id=reply_to,
            media_ids=media_ids,
            sensitive=bool(post.content_warning),
            visibility=post.visibility,
            spoiler_text=post.content_warning,
            language=post.language,
            idempotency_key=key,
        )
        assert isinstance(status, Status)  # not a ScheduledStatus: no scheduled_at given
        return status

    return work
