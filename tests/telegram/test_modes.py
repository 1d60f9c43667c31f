"""Polling restarts where it stopped (and answers what a stop left unanswered), webhook mode
checks its secret, failures never end the bot, and the token never reaches the logs."""

from __future__ import annotations

import logging
import random

import aiohttp
import pytest

from bot.connectors.telegram import TelegramConnector
from bot.connectors.telegram.polling import BACKOFF
from bot.connectors.telegram.webhook import PATH, SECRET_HEADER
from bot.conversation import ConversationService
from bot.runtime.logs import MASK, Redactor
from bot.runtime.web import WebApp
from bot.store.store import Store
from tests.fakes.telegram_server import FakeTelegram
from tests.manual_clock import ManualClock
from tests.outbox.faults import WriteFaults
from tests.telegram.conftest import FAST, settings_for

CONTACT, OTHER = 1234, 5678


async def start(
    fake: FakeTelegram, service: ConversationService, store: Store, clock: ManualClock
) -> TelegramConnector:
    connector = await TelegramConnector(
        settings_for(fake), service, store, clock, sleep=clock.sleep, timeouts=FAST
    ).start()
    await fake.wait_for(connector.ready.is_set)
    return connector


async def test_a_restart_neither_skips_nor_reanswers(
    fake: FakeTelegram, service: ConversationService, store: Store, clock: ManualClock
) -> None:
    first = await start(fake, service, store, clock)
    answered = fake.say(CONTACT, "comment candidater ?")
    await fake.wait_for(lambda: len(fake.texts(CONTACT)) == 1)
    await fake.wait_for(lambda: first.feed.last == answered["update_id"])
    await first.stop()

    fake.push(answered)  # Telegram never heard the confirmation: it sends the update again
    fake.say(CONTACT, "la candidature est-elle gratuite ?")  # arrived while we were down
    second = await start(fake, service, store, clock)
    try:
        await fake.wait_for(lambda: len(fake.texts(CONTACT)) == 2)
        await fake.wait_for(lambda: second.stats["processed"] == 1)
        assert "gratuit" in fake.texts(CONTACT)[1].casefold()
        assert second.stats["processed"] == 1  # the old update was skipped, not re-answered
    finally:
        await second.stop()


async def test_questions_confirmed_but_unanswered_at_a_stop_are_answered_after_the_restart(
    fake: FakeTelegram, service: ConversationService, store: Store, clock: ManualClock
) -> None:
    first = await start(fake, service, store, clock)
    fake.hold("sendMessage")  # the answers are on their way when the bot goes down
    fake.say(CONTACT, "comment candidater ?")
    last = fake.say(OTHER, "la candidature est-elle gratuite ?")
    await fake.wait_for(lambda: fake.confirmed(last["update_id"]))
    await fake.wait_for(lambda: fake.holding["sendMessage"] == 2)
    await first.stop(grace=0)  # no time to finish: as a crash, for what is in flight
    fake.release("sendMessage")
    assert not fake.texts(CONTACT)
    assert not fake.texts(OTHER)

    second = await start(fake, service, store, clock)
    try:
        await fake.wait_for(lambda: len(fake.texts(CONTACT)) == 1 == len(fake.texts(OTHER)))
        assert "gratuit" in fake.texts(OTHER)[0].casefold()
        await fake.wait_for(lambda: second.feed.last == last["update_id"])
        assert second.stats["replayed"] == 2
    finally:
        await second.stop()
    third = await start(fake, service, store, clock)  # nothing is handed over twice
    try:
        assert third.stats["replayed"] == 0
        assert len(fake.texts(CONTACT)) == 1 == len(fake.texts(OTHER))
    finally:
        await third.stop()


async def test_a_store_that_cannot_keep_an_update_confirms_nothing(
    fake: FakeTelegram, service: ConversationService, store: Store, clock: ManualClock
) -> None:
    faults = WriteFaults(store)
    connector = await start(fake, service, store, clock)
    try:
        faults.failing = True
        update = fake.say(CONTACT, "comment candidater ?")
        await fake.wait_for(lambda: faults.refused >= 2)  # tried, backed off, tried again
        assert not fake.confirmed(update["update_id"])
        assert not fake.texts(CONTACT)
        faults.failing = False
        await fake.wait_for(lambda: len(fake.texts(CONTACT)) == 1)
        await fake.wait_for(lambda: connector.feed.last == update["update_id"])
        assert len(fake.texts(CONTACT)) == 1
    finally:
        await connector.stop()


async def test_webhook_mode_accepts_only_telegram(
    fake: FakeTelegram, service: ConversationService, store: Store, clock: ManualClock
) -> None:
    settings = settings_for(
        fake,
        telegram_mode="webhook",
        telegram_webhook_url="https://bot.example.org/telegram/webhook",
        telegram_webhook_secret="s3cret-s3cret",
    )
    connector = TelegramConnector(settings, service, store, clock, sleep=clock.sleep, timeouts=FAST)
    web = WebApp(port=0)
    web.add_routes(connector.routes())
    await web.start()
    await connector.start()
    try:
        await fake.wait_for(connector.ready.is_set)
        assert fake.webhook is not None
        assert fake.webhook["url"] == "https://bot.example.org/telegram/webhook"
        assert fake.webhook["secret_token"] == "s3cret-s3cret"
        assert fake.webhook["max_connections"] == 1
        update = fake.say(CONTACT, "comment candidater ?")
        url = f"{web.url}{PATH}"
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update, headers={SECRET_HEADER: "guess"}) as refused:
                assert refused.status == 401
            async with http.post(url, json=update) as anonymous:
                assert anonymous.status == 401
            for _ in range(2):  # a redelivery is answered once
                async with http.post(
                    url, json=update, headers={SECRET_HEADER: "s3cret-s3cret"}
                ) as ok:
                    assert ok.status == 200
            async with http.post(
                url, data=b"\xff{", headers={SECRET_HEADER: "s3cret-s3cret"}
            ) as junk:
                assert junk.status == 200
            # 200 means kept and queued in the chat's lane: the answer and the cursor follow.
            await fake.wait_for(lambda: connector.feed.last == update["update_id"])
            assert len(fake.texts(CONTACT)) == 1
            assert await store.cursor("telegram") == str(update["update_id"])

            faults = WriteFaults(store)  # the store cannot keep the next one: Telegram retries
            faults.failing = True
            later = fake.say(OTHER, "la candidature est-elle gratuite ?")
            headers = {SECRET_HEADER: "s3cret-s3cret"}
            async with http.post(url, json=later, headers=headers) as refused_now:
                assert refused_now.status == 503
            faults.failing = False
            async with http.post(url, json=later, headers=headers) as retried:
                assert retried.status == 200
            await fake.wait_for(lambda: len(fake.texts(OTHER)) == 1)
        assert not fake.method_calls("getUpdates")
    finally:
        await connector.stop()
        await web.stop()


@pytest.mark.parametrize("broken", ["token", "network"])
async def test_a_bad_token_or_an_unreachable_api_is_retried_with_one_line_each(
    fake: FakeTelegram,
    service: ConversationService,
    store: Store,
    clock: ManualClock,
    *,
    caplog: pytest.LogCaptureFixture,
    broken: str,
) -> None:
    caplog.set_level(logging.INFO)
    overrides: dict[str, object] = (
        {"telegram_token": "999:wrong-token-wrong-token"}
        if broken == "token"
        else {"telegram_api_url": "http://127.0.0.1:9"}  # nothing listens on the discard port
    )
    settings = settings_for(fake, **overrides)
    connector = await TelegramConnector(
        settings, service, store, clock, sleep=clock.sleep, timeouts=FAST, rng=random.Random(5)
    ).start()
    try:
        await fake.wait_for(lambda: len(clock.slept) >= 4)
    finally:
        await connector.stop()
    # The one backoff policy: about 1, 2, 4, 8 s, each with its jitter (half fixed, half random).
    jitter = random.Random(5)
    assert clock.slept[:4] == [BACKOFF.delay(attempt, jitter) for attempt in (1, 2, 3, 4)]
    assert all(2**n / 2 <= slept <= 2**n for n, slept in enumerate(clock.slept[:4]))
    ours = [r for r in caplog.records if r.name.startswith("bot.connectors.telegram")]
    assert len(ours) >= 4
    expected = "rejected the bot token" if broken == "token" else "http://127.0.0.1:9"
    assert all(expected in r.getMessage() and "retrying in" in r.getMessage() for r in ours)
    assert all(r.exc_info is None for r in ours)  # one line each, no traceback
    assert not connector.ready.is_set()


async def test_the_token_never_reaches_the_logs(
    fake: FakeTelegram,
    service: ConversationService,
    store: Store,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # PTB logs the Bot API URL (token included) at DEBUG
    caplog.set_level(logging.DEBUG, logger="telegram")  # whatever an earlier run configured
    wrong = "777:another-secret-token-xyz"
    # What `tnl-bot run` installs on its log handler: every configured secret is masked.
    caplog.handler.addFilter(Redactor([*settings_for(fake).secrets(), wrong]))
    connector = await TelegramConnector(
        settings_for(fake), service, store, clock, sleep=clock.sleep, timeouts=FAST
    ).start()
    rejected = await TelegramConnector(
        settings_for(fake, telegram_token=wrong),
        service,
        store,
        clock,
        sleep=clock.sleep,
        timeouts=FAST,
    ).start()
    try:
        fake.say(CONTACT, "comment candidater ?")
        await fake.wait_for(lambda: len(fake.texts(CONTACT)) == 1)
        await fake.wait_for(lambda: len(clock.slept) >= 1)
    finally:
        await connector.stop()
        await rejected.stop()
    text = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert fake.token not in text
    assert wrong not in text
    assert MASK in text  # the Bot API URL was logged, masked
    assert (
        "settings" not in text or "SecretStr" in text or fake.token not in str(settings_for(fake))
    )
    assert fake.token not in repr(settings_for(fake))
