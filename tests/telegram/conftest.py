"""The real PTB Application against the fake Bot API, a store, and a clock that only moves when
the code under test sleeps (retry-afters and backoffs pass instantly)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from bot.connectors.telegram import TelegramConnector, Timeouts
from bot.conversation import ConversationService
from bot.conversation.flood import FloodGuard
from bot.faq.engine import FaqEngine
from bot.store.store import Store
from tests.fakes.telegram_limits import Limits
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.manual_clock import ManualClock
from tests.storage import database_url, store

__all__ = ["database_url", "store"]

FAST = Timeouts(connect=2.0, read=2.0, write=2.0, pool=2.0, long_poll=5)


@pytest.fixture
def clock(now: dt.datetime) -> ManualClock:
    return ManualClock(now)


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram(limits=Limits(scale=10), clock=clock).start()
    try:
        yield server
    finally:
        await server.close()


FLOOD_MESSAGES, FLOOD_PAUSE = 20, 600.0


@pytest.fixture
def service(engine: FaqEngine, store: Store, clock: ManualClock) -> ConversationService:
    """What `tnl-bot run` builds: one service, its flood guard on the settings' limits."""
    flood = FloodGuard(clock, FLOOD_MESSAGES, FLOOD_PAUSE)
    return ConversationService(engine, store, clock, flood=flood)


def settings_for(fake: FakeTelegram, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "telegram_token": fake.token,
        "telegram_api_url": fake.url,
        "flood_messages": FLOOD_MESSAGES,
        "flood_pause": FLOOD_PAUSE,
    }
    values.update(overrides)
    return Settings.model_validate(values)  # the environment of the machine is not read


@pytest.fixture
async def connector(
    fake: FakeTelegram, service: ConversationService, store: Store, clock: ManualClock
) -> AsyncIterator[TelegramConnector]:
    running = await TelegramConnector(
        settings_for(fake), service, store, clock, sleep=clock.sleep, timeouts=FAST
    ).start()
    try:
        await fake.wait_for(running.ready.is_set)
        yield running
    finally:
        await running.stop()


__all__ += ["TOKEN", "connector", "fake", "service"]
