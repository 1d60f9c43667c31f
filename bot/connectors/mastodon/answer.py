"""Answering mentions and direct messages to the bot account, through the conversation service.

This module only translates: a mention becomes an `Incoming` (the conversation is the status
the reply goes under, the sender the author's account id, `asked_before` the question of our
suggestions when the mention replies to them, so « 2 » works after a restart), and the `Reply`
becomes a thread of statuses under it. What to answer is the service's business.

Mentions arrive from the stream and the catch-up poll (`listen.py`), are admitted once by the
`MentionCursor` and answered in `Lanes`, one per author: one person's mentions in order, nobody
waiting behind somebody else. Never twice, even across restarts: the cursor moves only past
finished mentions, each reply carries an Idempotency-Key derived from the question's id, and a
question whose thread already holds the bot's reply is not answered again.

A 429 or our own pacing waits for the announced reset and is not a failure. A reply refused for
good (the question deleted: 404; 422) is logged, written to the audit log and skipped; a
transient failure (network, 5xx) is retried with the one backoff, `ATTEMPTS` times at most, and
then skipped the same way: a poison mention never holds the cursor or the mentions after it.

Since Mastodon 4.3, private mentions from accounts the bot does not follow are *filtered* by
default: they never reach the notification list. At start the answerer sets the account's
notification policy to accept them (scope `write:notifications`); when it may not, it accepts
the pending notification requests on each poll instead (which releases their notifications)
and answers their last status, relying on the thread check against doubles.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from mastodon import Mastodon
from mastodon.errors import MastodonError, MastodonRatelimitError
from mastodon.return_types import Account, Context, Notification, Status

from bot.backoff import Backoff, Retries
from bot.clock import Clock
from bot.connectors.mastodon.client import MastodonClient, Throttled, delivery_error
from bot.connectors.mastodon.config import MastodonAccount
from bot.connectors.mastodon.cursor import MentionCursor
from bot.connectors.mastodon.text import question_of, split_thread
from bot.conversation import Capabilities, ConversationService, Identity, Incoming, Lanes, Reply
from bot.outbox.target import DeliveryError, RetryableError
from bot.store.store import Store
from bot.waiting import Sleep

log = logging.getLogger(__name__)
T = TypeVar("T")

PLATFORM = "mastodon"
PAGE = 40
PICK_HINT = "Répondez à ce message par le numéro de votre question."
CAPABILITIES = Capabilities(pick_hint=PICK_HINT)
ATTEMPTS = 5  # transient failures of one mention before it is skipped
RETRY = Backoff(base=2.0, ceiling=120.0)
FIRST_RUN_HORIZON = dt.timedelta(hours=24)  # on the very first poll, older mentions are history
WANTED_POLICY = {
    "for_not_following": "accept",
    "for_not_followers": "accept",
    "for_new_accounts": "accept",
    "for_private_mentions": "accept",
}


@dataclass(frozen=True)
class Mention:
    """A status to answer; `notification_id` None for one released from a filtered request."""

    notification_id: str | None
    author: Account
    status: Status | None


class GaveUp(Exception):
    def __init__(self, failure: DeliveryError, attempts: int) -> None:
        super().__init__(f"{failure} (after {attempts} attempt{'s' if attempts > 1 else ''})")
        self.failure = failure


class MentionAnswerer:
    def __init__(
        self,
        account: MastodonAccount,
        client: MastodonClient,
        service: ConversationService,
        store: Store,
        clock: Clock,
        *,
        sleep: Sleep = asyncio.sleep,
        max_characters: int = 500,
    ) -> None:
        self.account = account
        self.client = client
        self.service = service
        self.store = store
        self.clock = clock
        self.sleep = sleep
        self.max_characters = max_characters
        self.cursor_name = account.target_name
        self.cursor = MentionCursor(store, self.cursor_name, clock)
        self.lanes: Lanes[Mention] = Lanes(self._answer, name=self.cursor_name)
        self.me: Account | None = None
        self.streaming_url: str | None = None  # as the instance announces it
        self.accept_requests = False  # True when the policy could not be set to accept
        self.answered = 0
        self.ignored = 0
        self.refused = 0
        service.add_platform(PLATFORM, CAPABILITIES)

    async def prepare(self) -> None:
        """Who the bot is, the instance's limit and streaming address, and a notification
        policy that lets questions in (see the module docstring)."""
        self.me = await self.client.call(lambda api: api.account_verify_credentials())
        info = await self.client.call(lambda api: api.instance_v2())
        self.max_characters = int(info.configuration.statuses.max_characters)
        self.streaming_url = info.configuration.urls.get("streaming")
        try:
            policy = await self.client.call(lambda api: api.notifications_policy())
            if any(policy.get(key) != value for key, value in WANTED_POLICY.items()):
                await self.client.call(lambda api: api.update_notifications_policy(**WANTED_POLICY))
                log.info("%s: notification policy set to accept private mentions", self.cursor_name)
        except Throttled:
            raise
        except MastodonError as error:
            self.accept_requests = True
            log.warning(
                "%s: cannot set the notification policy (%s); filtered mentions will be "
                "accepted one request at a time (grant write:notifications to avoid this)",
                self.cursor_name,
                error,
            )

    # Where mentions come from --------------------------------------------------------------

    def received(self, notification: Notification) -> bool:
        """A notification from the stream: answered in its lane unless seen already."""
        if notification.type != "mention" or not self.cursor.admit(str(notification.id)):
            return False
        return self._submit(
            Mention(str(notification.id), notification.account, notification.status)
        )

    async def catch_up(self) -> int:
        """Admit every mention after the cursor, oldest first, into the lanes; returns how
        many were new. Does not wait for the answers (see `poll_once`)."""
        if self.me is None:
            await self.prepare()
        admitted = 0
        if self.accept_requests:
            admitted += await self._accept_requests()
        position = await self.cursor.load()
        after = self.cursor.sweep_from()
        horizon = self.clock.now() - FIRST_RUN_HORIZON if position is None else None
        try:
            while True:
                page = sorted(
                    await self.client.call(_mentions(after)), key=lambda n: int(str(n.id))
                )
                for notification in page:
                    if self.cursor.admit(str(notification.id)):
                        admitted += 1
                        old = horizon is not None and notification.created_at < horizon
                        status = None if old else notification.status
                        self._submit(Mention(str(notification.id), notification.account, status))
                    self.cursor.swept_to(str(notification.id))
                if len(page) < PAGE:
                    return admitted
                after = int(str(page[-1].id))
        finally:
            await self.cursor.sweep_done()

    async def poll_once(self) -> int:
        """One catch-up, and the answers to what it found: how many mentions it found."""
        admitted = await self.catch_up()
        await self.lanes.join()
        return admitted

    def _submit(self, mention: Mention) -> bool:
        return self.lanes.submit(str(mention.author.id), mention)

    async def _accept_requests(self) -> int:
        """Fallback when the policy stays at "filter": accept each pending request and answer
        the status that triggered it."""
        requests = await self.client.call(lambda api: list(api.notification_requests()))
        for request in requests:
            await self.client.call(_accept(request.id))
            if request.last_status is not None:
                self._submit(Mention(None, request.account, request.last_status))
        return len(requests)

    # One mention ---------------------------------------------------------------------------

    async def _answer(self, mention: Mention) -> None:
        """A lane's work: answer, or give up on, one mention; the cursor may then pass it."""
        try:
            await self.handle(mention.author, mention.status)
        except GaveUp as gave_up:
            await self._refused(mention, gave_up)
        finally:
            if mention.notification_id is not None:
                await self.cursor.finish(mention.notification_id)

    async def handle(self, author: Account, status: Status | None) -> bool:
        """Answer one mention unless it must be ignored; True when a reply was posted.
        Raises GaveUp when the platform refuses it for good or fails too often."""
        assert self.me is not None
        if status is None or author.bot or author.id == self.me.id:
            self.ignored += 1
            return False
        context = await self._patiently(_context(status.id))
        if self._answered_in(context, status):
            self.ignored += 1
            return False
        incoming = Incoming(
            PLATFORM,
            str(status.id),
            Identity(PLATFORM, str(author.id)),
            question_of(status.content),
            asked_before=self._asked_before(context, status),
            private=status.visibility == "direct",
        )
        reply = await self.service.handle(incoming)
        if reply is None:  # the author is flooding: ignored for a while
            self.ignored += 1
            return False
        await self._post(reply, author, status)
        self.answered += 1
        return True

    async def reply_to(self, status_id: str, reply: Reply) -> None:
        """A reply of the bot's own initiative under a status (the conversation service has
        something to say after the question was answered)."""
        status = await self._patiently(_status(status_id))
        await self._post(reply, status.account, status)

    async def _post(self, reply: Reply, author: Account, status: Status) -> None:
        """The reply as a thread under the question, in the question's visibility (a direct
        question gets a direct answer)."""
        mention = f"@{author.acct} "
        parts = split_thread(reply.text, self.max_characters, reserved=len(mention))
        previous: Any = status.id
        for index, text in enumerate(parts):
            key = f"reply:{self.account.name}:{status.id}:{index}"
            posted = await self._patiently(
                _reply(mention + text, previous, status.visibility, key), statuses=1
            )
            previous = posted.id

    async def _patiently(self, work: Callable[[Mastodon], T], *, statuses: int = 0) -> T:
        """`client.call`, waiting out 429s and pacing until the announced reset (never an
        exponential guess), retrying transient failures with the one backoff."""
        retries = Retries(RETRY)
        while True:
            try:
                return await self.client.call(work, statuses=statuses)
            except Throttled as throttled:
                wait = throttled.wait
            except MastodonRatelimitError:
                wait = self.client.retry_after()
            except Exception as error:
                failure = delivery_error(error, self.client)
                if not isinstance(failure, RetryableError) or retries.failures + 1 >= ATTEMPTS:
                    raise GaveUp(failure, retries.failures + 1) from error
                wait = retries.failed(failure.retry_after)
                log.info("%s: %s; retrying in %.0f s", self.cursor_name, failure, wait)
            await self.sleep(wait)

    async def _refused(self, mention: Mention, gave_up: GaveUp) -> None:
        """A poison mention: said, recorded in the audit log, skipped."""
        self.refused += 1
        status_id = mention.status.id if mention.status is not None else "?"
        log.warning("%s: mention %s skipped: %s", self.cursor_name, status_id, gave_up)
        sender = Identity(PLATFORM, str(mention.author.id))
        detail = f"status {status_id} notification {mention.notification_id}: {gave_up}"
        try:
            await self.store.audit(
                str(sender), f"{PLATFORM}.mention.refused", self.clock.now(), detail
            )
        except Exception as error:  # the skip stands; only its record is lost
            log.error("%s: audit of the skipped mention failed: %s", self.cursor_name, error)

    def _answered_in(self, context: Context, status: Status) -> bool:
        assert self.me is not None
        return any(
            reply.account.id == self.me.id and reply.in_reply_to_id == status.id
            for reply in context.descendants
        )

    def _asked_before(self, context: Context, status: Status) -> str | None:
        """In reply to a status of ours: the question our thread answered (its top's parent).
        Nothing is remembered between polls: the thread says it."""
        assert self.me is not None
        if status.in_reply_to_account_id != self.me.id:
            return None
        above = {str(ancestor.id): ancestor for ancestor in context.ancestors}
        asked = above.get(str(status.in_reply_to_id))
        while asked is not None and asked.account.id == self.me.id:  # a thread of ours: its top
            asked = above.get(str(asked.in_reply_to_id))
        return question_of(asked.content) if asked is not None else None


def _mentions(after: int | None) -> Callable[[Mastodon], list[Notification]]:
    def work(api: Mastodon) -> list[Notification]:
        found = api.notifications(types=["mention"], min_id=after, limit=PAGE)
        return list(found) if isinstance(found, list) else [found]

    return work


def _context(status_id: Any) -> Callable[[Mastodon], Context]:
    def work(api: Mastodon) -> Context:
        context = api.status_context(status_id)
        assert isinstance(context, Context)
        return context

    return work


def _status(status_id: str) -> Callable[[Mastodon], Status]:
    def work(api: Mastodon) -> Status:
        status = api.status(status_id)
        assert isinstance(status, Status)
        return status

    return work


def _accept(request_id: str) -> Callable[[Mastodon], None]:
    def work(api: Mastodon) -> None:
        api.accept_notification_request(request_id)

    return work


def _reply(text: str, reply_to: Any, visibility: str, key: str) -> Callable[[Mastodon], Status]:
    def work(api: Mastodon) -> Status:
        status = api.status_post(
            text, in_reply_to_id=reply_to, visibility=visibility, language="fr", idempotency_key=key
        )
        assert isinstance(status, Status)
        return status

    return work
