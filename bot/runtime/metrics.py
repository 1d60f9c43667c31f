"""The bot's Prometheus metrics: one registry per running bot, fed by callbacks.

The registry belongs to the runtime (no global default registry: two bots in one test process
count apart). The layers below know nothing of Prometheus: the conversation service calls an
observer with (platform, answer kind, seconds); the outbox worker's targets are wrapped as they
are registered (`MeasuredWorker`), which sees every delivery attempt with its target and what
the platform said; the planner says when it enqueued an announcement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from bot.clock import Clock
from bot.outbox import Post, Target
from bot.outbox.queue import Outbox
from bot.outbox.target import InDoubtError, PermanentError, RateLimit, Receipt, RetryableError
from bot.outbox.worker import DeliveryWorker

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Answer kinds (bot.faq.engine.Kind values) → the outcome people read on a dashboard. Small talk
# ("bonjour", "merci") is not a question and is not counted.
OUTCOMES = {
    "answer": "answered",
    "dates": "answered",
    "suggestions": "suggested",
    "out_of_scope": "abstained",
    "fallback": "abstained",
}
# Seconds: the FAQ answers in milliseconds; the semantic stage's first call takes longer.
ANSWER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CHAT = re.compile(r":-?\d+$")  # telegram:123456: one target per subscriber


def target_family(name: str) -> str:
    """The label of a target: `telegram:123456` counts under `telegram` (a label per chat
    would make one time series per subscriber), `mastodon:main` stays itself."""
    return CHAT.sub("", name)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.questions = Counter(
            "tnl_questions",
            "Questions answered, by platform and outcome (answered, suggested, abstained).",
            ["platform", "outcome"],
            registry=self.registry,
        )
        self.answer_seconds = Histogram(
            "tnl_answer_seconds",
            "Time to answer a question (FAQ engine and unanswered log).",
            buckets=ANSWER_BUCKETS,
            registry=self.registry,
        )
        self.outbox_items = Gauge(
            "tnl_outbox_items", "Outbox items by state.", ["state"], registry=self.registry
        )
        self.deliveries = Counter(
            "tnl_deliveries",
            "Delivery attempts by target and outcome (sent, retry, in_doubt, failed).",
            ["target", "outcome"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "tnl_rate_limited",
            "Deliveries a platform refused for now with a retry-after (HTTP 429).",
            ["platform"],
            registry=self.registry,
        )
        self.broadcasts = Counter(
            "tnl_broadcasts",
            "Announcements and broadcasts enqueued for delivery.",
            registry=self.registry,
        )
        self.leader = Gauge(
            "tnl_leader",
            "1 while this instance leads (runs the scheduler, takes updates).",
            registry=self.registry,
        )

    def answered(self, platform: str, kind: str, seconds: float) -> None:
        """The conversation service's observer."""
        outcome = OUTCOMES.get(kind)
        if outcome is None:
            return
        self.questions.labels(platform=platform, outcome=outcome).inc()
        self.answer_seconds.observe(seconds)

    def enqueued(self) -> None:
        self.broadcasts.inc()

    def delivered(self, target: str, outcome: str) -> None:
        self.deliveries.labels(target=target_family(target), outcome=outcome).inc()

    def refused_for_now(self, target: str) -> None:
        self.rate_limited.labels(platform=target.partition(":")[0]).inc()

    def outbox(self, counts: Mapping[str, int]) -> None:
        for state, count in counts.items():
            self.outbox_items.labels(state=state).set(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MeasuredTarget:
    """A target that tells `metrics` what each publication did, and changes nothing else."""

    def __init__(self, target: Target, metrics: Metrics) -> None:
        self.target = target
        self.metrics = metrics

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def idempotent(self) -> bool:
        return self.target.idempotent

    @property
    def limits(self) -> tuple[RateLimit, ...]:
        return self.target.limits

    async def publish(self, post: Post, key: str) -> Receipt:
        try:
            receipt = await self.target.publish(post, key)
        except InDoubtError:
            self.metrics.delivered(self.name, "in_doubt")
            raise
        except RetryableError as error:
            if error.retry_after is not None:
                self.metrics.refused_for_now(self.name)
            self.metrics.delivered(self.name, "retry")
            raise
        except PermanentError:
            self.metrics.delivered(self.name, "failed")
            raise
        except Exception:  # the worker retries whatever else a library raises
            self.metrics.delivered(self.name, "retry")
            raise
        self.metrics.delivered(self.name, "sent")
        return receipt


class MeasuredWorker(DeliveryWorker):
    """The outbox worker, its targets measured. Connectors register targets as they appear
    (Telegram: one per new subscriber), all through `add_target`: wrapping there sees them all.

    (The worker's `observer` reports outcomes by item id, without the target: the label the
    deliveries metric needs.)"""

    def __init__(self, outbox: Outbox, clock: Clock, metrics: Metrics, *, shared: bool) -> None:
        self.metrics = metrics  # before the worker registers any target
        super().__init__(outbox, [], clock, shared=shared)

    def add_target(self, target: Target) -> bool:
        return super().add_target(MeasuredTarget(target, self.metrics))
