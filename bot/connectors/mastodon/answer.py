"""Answering mentions and direct messages to the bot account with the FAQ core.

Polling `/api/v1/notifications?types[]=mention&min_id=<cursor>` is the reliable base: the
cursor (the last notification processed, in the store under `mastodon:<account>`) moves only
after a mention has been answered or deliberately ignored, so a restart neither skips nor
answers twice. A crash between the reply and the cursor update is covered twice more: the reply
carries an Idempotency-Key derived from the question's id, and a question whose thread already
holds the bot's reply is not answered again.

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
from typing import Any

from mastodon import Mastodon
from mastodon.errors import MastodonError
from mastodon.return_types import Account, Context, Notification, Status

from bot.clock import Clock
from bot.connectors.mastodon.client import MastodonClient, Throttled
from bot.connectors.mastodon.config import MastodonAccount
from bot.connectors.mastodon.text import question_of, split_thread
from bot.core import Core, Incoming, Reply
from bot.store.store import Store
from bot.waiting import Sleep, pause

log = logging.getLogger(__name__)

PAGE = 40
PICK_HINT = "Répondez à ce message par le numéro de votre question."
FIRST_RUN_HORIZON = dt.timedelta(hours=24)  # on the very first poll, older mentions are history
WANTED_POLICY = {
    "for_not_following": "accept",
    "for_not_followers": "accept",
    "for_new_accounts": "accept",
    "for_private_mentions": "accept",
}


class MentionAnswerer:
    def __init__(
        self,
        account: MastodonAccount,
        client: MastodonClient,
        core: Core,
        store: Store,
        clock: Clock,
        *,
        sleep: Sleep = asyncio.sleep,
        max_characters: int = 500,
    ) -> None:
        self.account = account
        self.client = client
        self.core = core
        self.store = store
        self.clock = clock
        self.sleep = sleep
        self.max_characters = max_characters
        self.cursor_name = account.target_name
        self.me: Account | None = None
        self.accept_requests = False  # True when the policy could not be set to accept
        self.answered = 0
        self.ignored = 0

    async def prepare(self) -> None:
        """Who the bot is, the instance's limit, and a notification policy that lets
        questions in (see the module docstring)."""
        self.me = await self.client.call(lambda api: api.account_verify_credentials())
        info = await self.client.call(lambda api: api.instance_v2())
        self.max_characters = int(info.configuration.statuses.max_characters)
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

    async def poll_once(self) -> int:
        """Answer every mention after the cursor, oldest first; returns how many were handled."""
        if self.me is None:
            await self.prepare()
        handled = 0
        if self.accept_requests:
            handled += await self._accept_requests()
        while True:
            cursor = await self.store.cursor(self.cursor_name)
            page = await self.client.call(_mentions(cursor))
            horizon = self.clock.now() - FIRST_RUN_HORIZON if cursor is None else None
            for notification in sorted(page, key=lambda n: int(str(n.id))):
                if horizon is None or notification.created_at >= horizon:
                    await self.handle(notification.account, notification.status)
                await self.store.set_cursor(
                    self.cursor_name, str(notification.id), self.clock.now()
                )
                handled += 1
            if len(page) < PAGE:
                return handled

    async def handle(self, author: Account, status: Status | None) -> bool:
        """Answer one mention unless it must be ignored; True when a reply was posted."""
        assert self.me is not None
        if status is None or author.bot or author.id == self.me.id:
            self.ignored += 1
            return False
        context = await self.client.call(lambda api: api.status_context(status.id))
        if self._answered_in(context, status):
            self.ignored += 1
            return False
        question = question_of(status.content)
        incoming = Incoming("mastodon", str(status.id), author.acct, question)
        reply = self._picked(context, status, incoming) or self.core.handle(incoming)
        if reply.answer is not None and reply.answer.unanswered:
            await self.store.log_unanswered(
                question, reply.answer.score, self.clock.now(), platform="mastodon"
            )
        text = f"{reply.text}\n\n{PICK_HINT}" if reply.suggestions else reply.text
        mention = f"@{author.acct} "
        parts = split_thread(text, self.max_characters, reserved=len(mention))
        previous: Any = status.id
        for index, text in enumerate(parts):
            key = f"reply:{self.account.name}:{status.id}:{index}"
            posted = await self.client.call(
                _reply(mention + text, previous, status.visibility, key), statuses=1
            )
            previous = posted.id
        self.answered += 1
        return True

    def _answered_in(self, context: Context, status: Status) -> bool:
        assert self.me is not None
        return any(
            reply.account.id == self.me.id and reply.in_reply_to_id == status.id
            for reply in context.descendants
        )

    def _picked(self, context: Context, status: Status, incoming: Incoming) -> Reply | None:
        """« 2 » in reply to the bot's suggestions: the answer to the second one. Nothing is
        remembered between polls: the suggestions are those the question above still gets."""
        assert self.me is not None
        number = incoming.text.strip().rstrip(".")
        if (
            not (number.isdecimal() and len(number) <= 2)
            or status.in_reply_to_account_id != self.me.id
        ):
            return None
        above = {str(ancestor.id): ancestor for ancestor in context.ancestors}
        ours = above.get(str(status.in_reply_to_id))
        while ours is not None and ours.account.id == self.me.id:  # a thread of ours: its top
            ours = above.get(str(ours.in_reply_to_id))
        if ours is None:
            return None
        asked = self.core.handle(
            Incoming("mastodon", str(ours.id), incoming.user_id, question_of(ours.content))
        )
        if not 1 <= int(number) <= len(asked.suggestions):
            return None
        return self.core.choose(incoming, asked.suggestions[int(number) - 1].entry)

    async def _accept_requests(self) -> int:
        """Fallback when the policy stays at "filter": accept each pending request and answer
        the status that triggered it."""
        requests = await self.client.call(lambda api: list(api.notification_requests()))
        for request in requests:
            await self.client.call(_accept(request.id))
            if request.last_status is not None:
                await self.handle(request.account, request.last_status)
        return len(requests)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop`, every `poll_seconds`; pacing and errors only delay the next poll."""
        backoff = self.account.poll_seconds
        while not stop.is_set():
            wait = self.account.poll_seconds
            try:
                await self.poll_once()
                backoff = self.account.poll_seconds
            except Throttled as throttled:
                wait = max(throttled.wait, 1.0)
            except Exception as error:  # network, 5xx, 429: keep the cursor, try again later
                log.warning("%s: polling mentions failed: %s", self.cursor_name, error)
                backoff = min(backoff * 2, 600.0)
                wait = backoff
            await pause(self.sleep, wait, stop)


def _mentions(cursor: str | None) -> Callable[[Mastodon], list[Notification]]:
    def work(api: Mastodon) -> list[Notification]:
        found = api.notifications(types=["mention"], min_id=cursor, limit=PAGE)
        return list(found) if isinstance(found, list) else [found]

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
