"""The runtime's metrics and health, without a process: targets measured as they publish, the
health verdict from connectors and store."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bot.clock import FixedClock
from bot.config import Settings
from bot.conversation.connector import Health
from bot.outbox import Post
from bot.outbox.queue import Outbox
from bot.outbox.target import PermanentError, RateLimit, Receipt, RetryableError
from bot.runtime.assembly import RunningBot
from bot.runtime.health import health
from bot.runtime.metrics import MeasuredTarget, Metrics, target_family
from bot.store.store import Store


class Flaky:
    """A target that answers from a script: a receipt or an exception per call."""

    name = "telegram:123"
    idempotent = False
    limits = (RateLimit(1, 1.0),)

    def __init__(self, *results: Exception | None) -> None:
        self.results = list(results)

    async def publish(self, post: Post, key: str) -> Receipt:
        result = self.results.pop(0)
        if result is not None:
            raise result
        return Receipt("1")


def value(metrics: Metrics, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


async def test_measured_target_counts_outcomes_and_rate_limits() -> None:
    metrics = Metrics()
    target = MeasuredTarget(
        Flaky(None, RetryableError("429", retry_after=3), PermanentError("403"), None), metrics
    )
    for _ in range(4):
        with contextlib.suppress(RetryableError, PermanentError):
            await target.publish(Post("x"), "k")
    assert value(metrics, "tnl_deliveries_total", target="telegram", outcome="sent") == 2
    assert value(metrics, "tnl_deliveries_total", target="telegram", outcome="retry") == 1
    assert value(metrics, "tnl_deliveries_total", target="telegram", outcome="failed") == 1
    assert value(metrics, "tnl_rate_limited_total", platform="telegram") == 1
    assert target.limits == (RateLimit(1, 1.0),)


def test_questions_by_outcome_small_talk_aside() -> None:
    metrics = Metrics()
    for kind in ("answer", "dates", "suggestions", "fallback", "out_of_scope", "small_talk"):
        metrics.answered("mastodon", kind, 0.002)
    assert value(metrics, "tnl_questions_total", platform="mastodon", outcome="answered") == 2
    assert value(metrics, "tnl_questions_total", platform="mastodon", outcome="suggested") == 1
    assert value(metrics, "tnl_questions_total", platform="mastodon", outcome="abstained") == 2
    assert value(metrics, "tnl_answer_seconds_count") == 5


def test_target_labels_stay_few() -> None:
    assert target_family("telegram:-100123") == "telegram"
    assert target_family("telegram:@annonces") == "telegram:@annonces"
    assert target_family("mastodon:main") == "mastodon:main"


class Connector:
    name = "telegram"

    def __init__(self) -> None:
        self.health = Health.UP


class DeadStore:
    async def ping(self) -> None:
        raise ConnectionRefusedError("refused")


async def test_health_is_degraded_by_a_connector_or_the_store(tmp_path: Path) -> None:
    clock = FixedClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    bot = RunningBot(Settings(data_dir=tmp_path), clock, io.StringIO(), {})

    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 's.sqlite3'}")
    try:
        connector = Connector()
        bot.store, bot.outbox, bot.connectors = store, Outbox(store), [connector]  # type: ignore[list-item]
        status, body = await health(bot)
        assert (status, body["status"], body["outbox"]["pending"]) == (200, "ok", 0)
        connector.health = Health.DEGRADED
        status, body = await health(bot)
        assert (status, body["connectors"]) == (503, {"telegram": "degraded"})
        connector.health = Health.UP
        bot.store = DeadStore()  # type: ignore[assignment]
        status, body = await health(bot)
        assert (status, body["store"], body["outbox"]) == (503, "unavailable", {})
    finally:
        await store.close()
