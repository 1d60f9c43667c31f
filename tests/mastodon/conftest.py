"""A fake Mastodon on the test's manual clock, the bot's account on it, and the real client."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from bot.connectors.mastodon.answer import MentionAnswerer
from bot.connectors.mastodon.client import MastodonClient
from bot.connectors.mastodon.config import MastodonAccount
from bot.connectors.mastodon.runtime import outbox_history
from bot.connectors.mastodon.target import MastodonTarget
from bot.conversation import ConversationService
from bot.conversation.flood import FloodGuard
from bot.faq.engine import FaqEngine
from bot.store.store import Store
from tests.fakes.mastodon_entities import Json
from tests.fakes.mastodon_server import FakeMastodon
from tests.manual_clock import ManualClock
from tests.storage import database_url, store

__all__ = ["database_url", "store"]

TOKEN = "bot-token-ne-jamais-afficher"
TIMEOUT = 0.3  # seconds: the injected "timeout" fault costs this much real time


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(dt.datetime(2027, 3, 24, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeMastodon]:
    server = FakeMastodon(clock)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def bot_account(fake: FakeMastodon) -> Json:
    return fake.add_account("tnl", TOKEN, bot=True)


@pytest.fixture
def account(fake: FakeMastodon, bot_account: Json) -> MastodonAccount:
    return MastodonAccount("main", fake.base, SecretStr(TOKEN), poll_seconds=30.0)


def new_client(account: MastodonAccount, clock: ManualClock) -> MastodonClient:
    return MastodonClient(account, clock, timeout=TIMEOUT)


def new_target(account: MastodonAccount, clock: ManualClock, store: Store) -> MastodonTarget:
    """What a fresh process builds: nothing remembered in memory."""
    return MastodonTarget(account, new_client(account, clock), clock, history=outbox_history(store))


@dataclass
class World:
    """The usual cast of a scenario, in one fixture."""

    fake: FakeMastodon
    bot: Json
    account: MastodonAccount
    clock: ManualClock
    store: Store

    def parts(self) -> tuple[FakeMastodon, Json, MastodonAccount, ManualClock, Store]:
        return self.fake, self.bot, self.account, self.clock, self.store


@pytest.fixture
def world(
    fake: FakeMastodon,
    bot_account: Json,
    account: MastodonAccount,
    clock: ManualClock,
    store: Store,
) -> World:
    return World(fake, bot_account, account, clock, store)


def answerer(
    account: MastodonAccount, engine: FaqEngine, store: Store, clock: ManualClock
) -> MentionAnswerer:
    """A fresh process answering mentions: nothing in memory, only the store."""
    service = ConversationService(engine, store, clock, flood=FloodGuard(clock, 20, 600))
    return MentionAnswerer(
        account, new_client(account, clock), service, store, clock, sleep=clock.sleep
    )


@pytest.fixture
def alice(fake: FakeMastodon) -> Json:
    return fake.add_account("alice", "alice-token")
