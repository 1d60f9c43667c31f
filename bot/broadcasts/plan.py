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


def to_json(deliveries: Sequence[Delivery]) -> str:
    return json.dumps(
        [{"target": d.target, "key": d.key, "post": d.post.to_json()} for d in deliveries],
        ensure_ascii=False,
    )


def from_json(text: str) -> list[Delivery]:
    return [Delivery(d["target"], d["key"], Post.from_json(d["post"])) for d in json.loads(text)]


def same_post(post: Post, targets: Sequence[str]) -> list[Delivery]:
    """A plain broadcast: the same post to each target, under the broadcast's number."""
    return [Delivery(target, NUMBERED, post) for target in targets]
