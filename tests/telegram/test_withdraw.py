"""Withdrawing a published post from a Telegram chat: every message of it, within 48 hours."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot import texts
from bot.broadcasts.organisers import OrganiserCommands
from bot.connectors.telegram.pacing import TelegramLimits
from bot.connectors.telegram.platform import TelegramPlatform
from bot.conversation import ConversationService, Identity, Incoming, Roles
from bot.conversation.connector import Parts
from bot.conversation.identity import ORGANISER
from bot.outbox import Post
from bot.outbox.queue import Outbox
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store
from tests.fakes.telegram_server import FakeTelegram
from tests.manual_clock import ManualClock
from tests.telegram.conftest import FAST, settings_for

CHAT = 1001
LONG = Post("Les lauréats de l'édition 2025 sont connus. " * 150)  # two messages
KEY = "2025:laureates"


@pytest.fixture
async def platform(
    fake: FakeTelegram, service: ConversationService, store: Store, clock: ManualClock
) -> AsyncIterator[TelegramPlatform]:
    outbox = Outbox(store)
    parts = Parts(
        settings_for(fake),
        service,
        store,
        clock,
        outbox,
        DeliveryWorker(outbox, [], clock),
        mount=lambda _: None,
        environ={},
    )
    running = TelegramPlatform(
        parts, sleep=clock.sleep, timeouts=FAST, limits=TelegramLimits(scale=10)
    )
    try:
        yield running
    finally:
        await running.stop()


async def published(platform: TelegramPlatform, clock: ManualClock) -> tuple[str, dt.datetime]:
    """The post sent to the chat as its outbox item is, and the receipt the outbox keeps."""
    receipt = await platform.delivery.target(str(CHAT)).publish(LONG, KEY)
    return str(receipt), clock.now()


async def test_a_two_message_post_is_withdrawn_whole_then_reported_gone(
    fake: FakeTelegram, platform: TelegramPlatform, clock: ManualClock
) -> None:
    receipt, at = await published(platform, clock)
    first, second = (message["message_id"] for message in fake.sent[CHAT])
    assert receipt == f"{CHAT}:{first},{second}"
    clock.advance(47 * 3600)
    assert await platform.withdraw(f"telegram:{CHAT}", receipt, at) == texts.WITHDRAWN
    assert fake.sent[CHAT] == []
    assert sorted(message["message_id"] for message in fake.deleted[CHAT]) == [first, second]
    assert await platform.withdraw(f"telegram:{CHAT}", receipt, at) == texts.ALREADY_WITHDRAWN


async def test_a_receipt_of_the_older_format_names_one_message(
    fake: FakeTelegram, platform: TelegramPlatform, clock: ManualClock
) -> None:
    _, at = await published(platform, clock)
    last = fake.sent[CHAT][-1]["message_id"]
    assert await platform.withdraw(f"telegram:{CHAT}", f"{CHAT}:{last}", at) == texts.WITHDRAWN
    assert [message["message_id"] for message in fake.deleted[CHAT]] == [last]
    assert len(fake.sent[CHAT]) == 1


async def test_after_48_hours_nothing_is_asked_and_telegram_would_refuse(
    fake: FakeTelegram, platform: TelegramPlatform, clock: ManualClock
) -> None:
    receipt, at = await published(platform, clock)
    clock.advance(48 * 3600)
    assert await platform.withdraw(f"telegram:{CHAT}", receipt, at) == texts.TOO_OLD_TO_WITHDRAW
    assert fake.method_calls("deleteMessage") == []
    # Had the outbox recorded the send later than it happened, Telegram's own rule answers.
    late = clock.now() - dt.timedelta(minutes=1)
    refused = await platform.withdraw(f"telegram:{CHAT}", receipt, late)
    assert refused == texts.WITHDRAW_REFUSED.format(
        platform="Telegram", reason="Message can't be deleted"
    )
    assert len(fake.sent[CHAT]) == 2


async def test_the_fan_out_item_is_withdrawn_chat_by_chat(
    fake: FakeTelegram, platform: TelegramPlatform, clock: ManualClock
) -> None:
    for fan_out in ("telegram", "telegram:abonnes"):
        outcome = await platform.withdraw(fan_out, "3 chats", clock.now())
        assert outcome == texts.WITHDRAWN_PER_CHAT
    with pytest.raises(ValueError, match="not a target"):
        await platform.withdraw("mastodon:main", "1", clock.now())
    assert fake.method_calls("deleteMessage") == []


async def never(_: float) -> None:
    """The drafts' expiry timers: they do not go off during the test."""
    await asyncio.Event().wait()


async def test_a_broadcast_to_the_subscribers_is_withdrawn_from_each_of_them(
    fake: FakeTelegram,
    platform: TelegramPlatform,
    service: ConversationService,
    store: Store,
    clock: ManualClock,
) -> None:
    """`/diffuser abonnes` then `/retirer`: the fan-out item `telegram:abonnes` published
    nothing itself; each subscriber's messages are deleted."""
    organiser = Identity("telegram", "900")
    service.roles = Roles({ORGANISER: [organiser]})
    outbox = Outbox(store)
    commands = OrganiserCommands(service, outbox, clock, [platform], sleep=never)

    async def says(text: str) -> str:
        reply = await service.handle(Incoming("telegram", "900", organiser, text))
        assert reply is not None
        return reply.text

    try:
        for chat in (501, 502):
            await store.subscribe("telegram", str(chat), clock.now())
        await platform.prepare()
        await says("/diffuser abonnes Réunion des abonnés jeudi")
        await says("/confirmer")
        worker = DeliveryWorker(outbox, platform.targets(), clock, sleep=clock.sleep)
        platform.delivery.attach(worker)
        await worker.drain()
        assert fake.texts(501) == fake.texts(502) == ["Réunion des abonnés jeudi"]
        # Two subscribers reached: the fan-out item itself is no third delivery.
        assert "n° 1 (confirmée)\u00a0: telegram:* envoyés 2\n" in await says("/etat") + "\n"
        preview = await says("/retirer 1")
        assert "telegram:* : 2 publiés, supprimés si possible" in preview
        assert "— telegram:* : 2 supprimé" in await says("/confirmer")
        assert len(fake.method_calls("deleteMessage")) == 2
    finally:
        await commands.close()
