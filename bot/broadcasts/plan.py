"""What a confirmed broadcast enqueues: one delivery per (target, outbox key), with its post.

A plain broadcast sends one post to every target under the key `broadcast:<number>`; a
palmarès sends each platform its own posts (a Mastodon thread, a Telegram digest) under keys
derived from the list's content, so that confirming the same list twice publishes nothing new.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from bot.outbox.post import Post

NUMBERED = "broadcast:{number}"  # the key of a plain broadcast, once its number is known


@dataclass(frozen=True)
class Delivery:
    target: str
    key: str  # may hold `{number}`, filled in with the broadcast's number
    post: Post

    def keyed(self, number: int) -> str:
        return self.key.format(number=number)


@dataclass(frozen=True)
class Plan:
    """A draft's deliveries, and for a palmarès the list itself (edition, laureates YAML): once
    confirmed, the bot answers questions about it."""

    deliveries: tuple[Delivery, ...]
    palmares: tuple[int, str] | None = None
    withdraws: int | None = None  # a withdrawal: the number of the broadcast it removes

    def keys(self, number: int) -> list[str]:
        return list(dict.fromkeys(d.keyed(number) for d in self.deliveries))


def to_json(plan: Plan) -> str:
    deliveries = [
        {"target": d.target, "key": d.key, "post": d.post.to_json()} for d in plan.deliveries
    ]
    return json.dumps(
        {"deliveries": deliveries, "palmares": plan.palmares, "withdraws": plan.withdraws},
        ensure_ascii=False,
    )


def from_json(text: str) -> Plan:
    data = json.loads(text)
    deliveries = tuple(
        Delivery(d["target"], d["key"], Post.from_json(d["post"])) for d in data["deliveries"]
    )
    palmares = data.get("palmares")
    return Plan(
        deliveries,
        (int(palmares[0]), str(palmares[1])) if palmares else None,
        data.get("withdraws"),
    )


def same_post(post: Post, targets: Sequence[str]) -> Plan:
    """A plain broadcast: the same post to each target, under the broadcast's number."""
    return Plan(tuple(Delivery(target, NUMBERED, post) for target in targets))
