"""Organisers at work, as transcripts: a conversation service with the organiser commands, a
real store and outbox, and platforms that render posts as a connector would."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest

from bot.broadcasts.laureates import LaureateCommands
from bot.broadcasts.organisers import OrganiserCommands
from bot.conversation import Attachment, ConversationService, Identity, Incoming, Reply, Roles
from bot.conversation.connector import Health, Preview
from bot.conversation.flood import FloodGuard
from bot.faq.engine import FaqEngine
from bot.outbox.post import Post
from bot.outbox.queue import Outbox
from bot.outbox.target import RateLimit, Receipt, Target
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store
from scheduler.plan import campaign_plan, upcoming
from tests.manual_clock import ManualClock
from tests.storage import database_url, store

__all__ = ["database_url", "store"]

ALICE = Identity("chat", "1")  # organiser
BRUNO = Identity("chat", "2")  # organiser too
ZOE = Identity("chat", "9")  # a contact
CAROLE = Identity("telegram", "5")  # organiser, on a platform the bot can write to


@dataclass
class Published:
    """The platform's outbox target: every post is accepted, its receipt says which."""

    name: str
    idempotent: bool = True
    limits: tuple[RateLimit, ...] = ()
    count: int = 0

    async def publish(self, post: Post, key: str) -> Receipt:
        self.count += 1
        return Receipt(f"{self.name}#{self.count}")


@dataclass
class ChatPlatform:
    """A platform as the organiser commands see it: it cuts texts at `width` characters and
    has `followers`; what the bot says on its own initiative lands in `said`."""

    name: str
    width: int = 40
    followers: int = 3
    narrower: tuple[str, ...] = ()  # more audiences, each reaching `followers - 1`
    said: list[tuple[str, str]] = field(default_factory=list)
    withdrawn: list[tuple[str, str]] = field(default_factory=list)  # (target, receipt)
    health: Health = Health.UP

    def targets(self) -> Sequence[Target]:
        return [Published(name) for name in self.audiences()]

    def audiences(self) -> Sequence[str]:
        return (self.name, *self.narrower)

    async def preview(self, post: Post, audience: str | None = None) -> Preview:
        text = post.text
        texts = tuple(text[i : i + self.width] for i in range(0, len(text), self.width))
        followers = self.followers if audience in (None, self.name) else self.followers - 1
        return Preview(audience or self.name, texts, followers)

    async def resolve(self, handle: str) -> str | None:
        return handle

    async def withdraw(self, target: str, receipt: str, published_at: dt.datetime) -> str:
        self.withdrawn.append((target, receipt))
        return "supprimé"

    async def start(self) -> None:
        return None

    async def send(self, conversation: str, reply: Reply) -> None:
        self.said.append((conversation, reply.text))

    async def stop(self, grace: float = 10.0) -> None:
        return None


@dataclass
class Desk:
    service: ConversationService
    outbox: Outbox
    commands: OrganiserCommands
    clock: ManualClock
    platforms: dict[str, ChatPlatform]
    lapse: asyncio.Event  # set: the drafts' expiry timers go off

    async def says(
        self, who: Identity, text: str, *, private: bool = True, file: Attachment | None = None
    ) -> str:
        conversation = who.user_id if private else "-100"
        reply = await self.service.handle(
            Incoming(who.platform, conversation, who, text, private=private, attachment=file)
        )
        assert reply is not None
        return reply.text

    async def delivered(self) -> None:
        """What the running bot's worker would do: publish everything due now."""
        targets = [t for p in self.platforms.values() for t in p.targets()]
        await DeliveryWorker(self.outbox, targets, self.clock).drain()

    async def queued(self) -> list[tuple[str, str, str]]:
        return sorted((i.key, i.target, i.post.text) for i in await self.outbox.items())


@pytest.fixture
async def desk(engine: FaqEngine, store: Store, now: dt.datetime) -> AsyncIterator[Desk]:
    clock = ManualClock(now)
    service = ConversationService(
        engine,
        store,
        clock,
        flood=FloodGuard(clock, limit=100, pause=60),
        roles=Roles({"organiser": [ALICE, BRUNO, CAROLE]}),
    )
    platforms = {
        "telegram": ChatPlatform("telegram", narrower=("telegram:abonnes",)),
        "mastodon:main": ChatPlatform("mastodon:main", followers=120),
    }
    lapse = asyncio.Event()

    async def expiry(_: float) -> None:
        await lapse.wait()

    outbox = Outbox(store)
    plan = campaign_plan(engine.campaign)
    commands = OrganiserCommands(
        service,
        outbox,
        clock,
        list(platforms.values()),
        confirm_minutes=10,
        upcoming=lambda count: upcoming(plan, clock.now(), count),
        sleep=expiry,
    )
    LaureateCommands(service, commands)
    try:
        yield Desk(service, outbox, commands, clock, platforms, lapse)
    finally:
        await commands.close()


async def audit_actions(store: Store) -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in reversed(await store.audit_entries())]
