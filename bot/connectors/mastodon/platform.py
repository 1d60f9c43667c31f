"""Mastodon as the runtime sees it: one connector per configured account, under the contract.

Each account's one client (one rate budget) serves its outbox target and, when the account
answers mentions, its listener (stream, catch-up poll, answers through the service).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence

from mastodon.errors import MastodonNotFoundError

from bot.clock import Clock
from bot.connectors.mastodon.answer import MentionAnswerer
from bot.connectors.mastodon.client import MastodonClient
from bot.connectors.mastodon.listen import MentionListener
from bot.connectors.mastodon.runtime import connect, outbox_history
from bot.connectors.mastodon.target import History, MastodonTarget
from bot.connectors.mastodon.withdraw import delete_thread
from bot.conversation import ConversationService, Reply
from bot.conversation.connector import Connector, Health, Parts, Preview
from bot.outbox.post import Post
from bot.outbox.target import Target
from bot.store.store import Store
from bot.waiting import Sleep

log = logging.getLogger(__name__)


class MastodonPlatform:
    def __init__(
        self,
        client: MastodonClient,
        service: ConversationService,
        store: Store,
        clock: Clock,
        history: History,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        account = client.account
        self.name = account.target_name
        self.client = client
        self.target = MastodonTarget(account, client, clock, history=history)
        self.answerer = MentionAnswerer(account, client, service, store, clock, sleep=sleep)
        self.listener = (
            MentionListener(self.answerer, sleep=sleep) if account.answer_mentions else None
        )
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def health(self) -> Health:
        if self._stop.is_set():
            return Health.STOPPED
        if self.listener is None:
            return Health.UP  # publishing only: the outbox reports its failures
        if self._task is None:
            return Health.STANDBY  # another instance leads and answers the mentions
        if self.answerer.me is None:
            return Health.STARTING
        return Health.UP if self.listener.streaming else Health.DEGRADED

    def targets(self) -> Sequence[Target]:
        return [self.target]

    async def start(self) -> None:
        if self.listener is not None:
            log.info("answering Mastodon mentions as %s", self.name)
            self._task = asyncio.create_task(self.listener.run(self._stop), name=self.name)

    def audiences(self) -> Sequence[str]:
        """The account's followers, through its one target."""
        return (self.name,)

    async def preview(self, post: Post, audience: str | None = None) -> Preview:
        """The thread as the target would post it; followers as the server counts them."""
        if audience not in (None, self.name):
            raise ValueError(f"{audience} is not an audience of {self.name}")
        texts = tuple(self.target.parts(post, await self.target.instance_limits()))
        me = self.answerer.me
        followers = int(me.followers_count) if me is not None else None
        return Preview(self.name, texts, followers)

    async def resolve(self, handle: str) -> str | None:
        """`user@instance` → the account id, as this account's server knows it."""
        try:
            account = await self.client.call(lambda api: api.account_lookup(handle))
        except MastodonNotFoundError:
            return None
        return str(account.id)

    async def withdraw(self, target: str, receipt: str, published_at: dt.datetime) -> str:
        """Every status of the thread; Mastodon lets an account delete its statuses at any
        age, so `published_at` does not matter here."""
        if target != self.name:
            raise ValueError(f"{target} is not a target of {self.name}")
        return await delete_thread(self.client, receipt)

    async def send(self, conversation: str, reply: Reply) -> None:
        await self.answerer.reply_to(conversation, reply)

    async def stop(self, grace: float = 10.0) -> None:
        """The listener stops taking mentions; answers in progress finish within `grace`."""
        self._stop.set()
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=grace)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def connectors(parts: Parts) -> Sequence[Connector]:
    """The registry's entry: one connector per configured account (none when unconfigured)."""
    clients = connect(parts.settings, parts.clock, parts.environ)
    history = outbox_history(parts.store)
    return [
        MastodonPlatform(client, parts.service, parts.store, parts.clock, history)
        for client in clients.values()
    ]
