"""A conversation service on a real store, and a transcript helper: say something, read the
bot's reply, as in a chat."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from bot.conversation import Capabilities, ConversationService, Identity, Incoming, Reply, Roles
from bot.conversation.flood import FloodGuard
from bot.faq.engine import FaqEngine
from bot.store.store import Store
from tests.manual_clock import ManualClock
from tests.storage import database_url, store

__all__ = ["database_url", "store"]

CHAT = Capabilities(subscriptions=True, buttons=True)  # Telegram-like
THREAD = Capabilities(pick_hint="Répondez par le numéro de votre question.")  # Mastodon-like
ORGANISER = Identity("chat", "42")


@pytest.fixture
def clock(now: dt.datetime) -> ManualClock:
    return ManualClock(now)


@pytest.fixture
def service(engine: FaqEngine, store: Store, clock: ManualClock) -> ConversationService:
    service = ConversationService(
        engine,
        store,
        clock,
        flood=FloodGuard(clock, limit=5, pause=600),
        roles=Roles({"organiser": [ORGANISER]}),
    )
    service.add_platform("chat", CHAT)
    service.add_platform("thread", THREAD)
    return service


@dataclass
class Person:
    """Someone writing to the bot in one conversation; `says` returns the bot's reply."""

    service: ConversationService
    platform: str
    user: str
    conversation: str
    admin: bool | None = None  # None: a private conversation
    heard: list[Reply] = field(default_factory=list)

    @property
    def identity(self) -> Identity:
        return Identity(self.platform, self.user)

    def incoming(self, text: str, asked_before: str | None = None) -> Incoming:
        async def is_admin() -> bool:
            return bool(self.admin)

        return Incoming(
            self.platform,
            self.conversation,
            self.identity,
            text,
            asked_before=asked_before,
            is_admin=None if self.admin is None else is_admin,
        )

    async def says(self, text: str, asked_before: str | None = None) -> Reply | None:
        reply = await self.service.handle(self.incoming(text, asked_before))
        if reply is not None:
            self.heard.append(reply)
        return reply

    async def hears(self, text: str) -> str:
        reply = await self.says(text)
        assert reply is not None, f"no reply to {text!r}"
        return reply.text


@pytest.fixture
def alice(service: ConversationService) -> Person:
    return Person(service, "chat", "1001", "1001")


@pytest.fixture
def bob(service: ConversationService) -> Person:
    return Person(service, "thread", "2002", "status-1")
