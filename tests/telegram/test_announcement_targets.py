"""TNL_TARGETS names any audience a connector offers, as organisers may choose it: announcements
can go to the Telegram subscribers without the channel."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.connectors.telegram.platform import TelegramPlatform
from bot.conversation import ConversationService
from bot.conversation.connector import Parts
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.runtime.assembly import announcement_targets
from bot.store.store import Store
from tests.fakes.telegram_server import FakeTelegram
from tests.manual_clock import ManualClock
from tests.telegram.conftest import FAST, settings_for


@pytest.fixture
async def platform(
    fake: FakeTelegram, service: ConversationService, store: Store, clock: ManualClock
) -> AsyncIterator[TelegramPlatform]:
    outbox = Outbox(store)
    worker = DeliveryWorker(outbox, [], clock)
    parts = Parts(settings_for(fake), service, store, clock, outbox, worker, lambda _: None, {})
    running = TelegramPlatform(parts, sleep=clock.sleep, timeouts=FAST)
    try:
        yield running
    finally:
        await running.stop()


def test_the_subscribers_audience_is_a_target_name(
    fake: FakeTelegram, platform: TelegramPlatform
) -> None:
    chosen = settings_for(fake, targets="telegram:abonnes, jsonl")
    assert announcement_targets(chosen, [platform]) == ["telegram:abonnes", "jsonl"]
    assert announcement_targets(settings_for(fake), [platform]) == ["telegram"]  # unset: all


def test_an_unknown_name_is_refused_with_the_names_known(
    fake: FakeTelegram, platform: TelegramPlatform
) -> None:
    known = r"\(known: console, jsonl, telegram, telegram:abonnes\)$"
    with pytest.raises(ValueError, match=r"^unknown target\(s\) telegram:abonnés .*" + known):
        announcement_targets(settings_for(fake, targets="telegram:abonnés"), [platform])
