"""End to end: the running bot's /healthz and /metrics, as a probe and Prometheus see them.

The real `tnl-bot run` against the fake platforms (tests/test_run.py sets the scene); the test
reads the web port from the start-up log and polls the endpoints, never sleeping blindly.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.faq.engine import FaqEngine
from tests.test_run import (
    ASKER,
    CHANNEL,
    MASTODON_TOKEN,
    QUESTION,
    Bot,
    environment,
    fakes,
    prepare,
    running,
    statuses_posted,
)

LISTENING = re.compile(r"web: listening on (http://127\.0\.0\.1:\d+)/")
Json = dict[str, object]


def get(url: str) -> tuple[int, bytes]:
    """One GET on loopback; an HTTP error status is an answer too."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), bytes(error.read())


async def health(base: str) -> tuple[int, Json]:
    import asyncio

    status, body = await asyncio.to_thread(get, f"{base}/healthz")
    return status, json.loads(body)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition: (name, sorted labels) → value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def web_base(bot: Bot) -> str:
    await bot.until("the web application", lambda: LISTENING.search(bot.log()))
    found = LISTENING.search(bot.log())
    assert found is not None
    return found.group(1)


async def test_healthz_follows_telegram_and_metrics_match_the_fakes(tmp_path: Path) -> None:
    import asyncio

    now = dt.datetime.now(dt.UTC)
    prepare(tmp_path, now)
    engine = FaqEngine.from_files(tmp_path / "corpus", tmp_path / "campaign.yaml")
    assert engine.answer(QUESTION, now).matched
    async with fakes() as (telegram, mastodon):
        tnl = mastodon.add_account("tnl", MASTODON_TOKEN, bot=True)
        async with running(environment(tmp_path, telegram, mastodon), tmp_path) as bot:
            base = await web_base(bot)
            await bot.until("the announcement", lambda: telegram.sent[CHANNEL])
            await bot.until("the Mastodon post", lambda: statuses_posted(mastodon, tnl))
            last: list[tuple[int, Json]] = []

            async def healthz_is(code: int) -> bool:
                last[:] = [await health(base)]
                return last[0][0] == code

            async def until_health(code: int, what: str) -> None:
                deadline = asyncio.get_running_loop().time() + 15
                while not await healthz_is(code):
                    if asyncio.get_running_loop().time() > deadline:
                        pytest.fail(f"/healthz never {code} ({what}): {last}\n{bot.log()}")
                    await asyncio.sleep(0.02)

            await until_health(200, "started")
            status, body = last[0]
            assert body["status"] == "ok"
            assert body["connectors"] == {"telegram": "up", "mastodon:main": "up"}
            assert body["scheduler"]["state"] == "running"  # type: ignore[index]
            assert body["outbox"]["sent"] >= 2  # type: ignore[index]

            # Telegram answers 502 for a while: the bot cannot reach it, then can again.
            telegram.fail_next("getUpdates", "502", times=2)
            telegram.say(ASKER, QUESTION)  # ends the long poll in progress
            await until_health(503, "Telegram unreachable")
            assert last[0][1]["status"] == "degraded"
            assert last[0][1]["connectors"]["telegram"] == "degraded"  # type: ignore[index]
            # Back: the first poll that returns says so (an empty long poll would take its
            # whole timeout), so a second question ends it.
            telegram.say(ASKER, QUESTION)
            await until_health(200, "Telegram back")
            await bot.until("both answers", lambda: len(telegram.sent[ASKER]) == 2)

            status, text = await asyncio.to_thread(get, f"{base}/metrics")
            assert status == 200
            metrics = samples(text.decode())

    answered = ("tnl_questions_total", (("outcome", "answered"), ("platform", "telegram")))
    assert metrics[answered] == len(telegram.sent[ASKER]) == 2
    assert metrics[("tnl_answer_seconds_count", ())] == 2
    channel_sends = [
        c
        for c in telegram.method_calls("sendMessage")
        if c.params.get("chat_id") == CHANNEL and c.status == 200
    ]
    sent = "tnl_deliveries_total"
    assert metrics[(sent, (("outcome", "sent"), ("target", f"telegram:{CHANNEL}")))] == len(
        channel_sends
    )
    assert metrics[(sent, (("outcome", "sent"), ("target", "mastodon:main")))] == len(
        statuses_posted(mastodon, tnl)
    )
    assert metrics[("tnl_broadcasts_total", ())] == 1
    assert metrics[("tnl_leader", ())] == 1
    assert metrics[("tnl_outbox_items", (("state", "failed"),))] == 0
