"""Organisers broadcast from chat: preview, confirm (same organiser, in time, as previewed),
cancel, expire; everyone else gets the neutral answer and the attempt is audited."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest

from bot.broadcasts.organisers import OrganiserCommands
from bot.conversation import ConversationService, Identity, Incoming, Reply, Roles
from bot.conversation.connector import Health, Preview
from bot.conversation.flood import FloodGuard
from bot.faq.engine import FaqEngine
from bot.outbox.post import Post
from bot.outbox.queue import Outbox
from bot.outbox.target import Target
from bot.store.store import Store
from tests.manual_clock import ManualClock
from tests.storage import database_url, store

__all__ = ["database_url", "store"]

ALICE = Identity("chat", "1")  # organiser
BRUNO = Identity("chat", "2")  # organiser too
ZOE = Identity("chat", "9")  # a contact
CAROLE = Identity("telegram", "5")  # organiser, on a platform the bot can write to


@dataclass
class ChatPlatform:
    """A platform as the organiser commands see it: it cuts texts at `width` characters and
    has `followers`; what the bot says on its own initiative lands in `said`."""

    name: str
    width: int = 40
    followers: int = 3
    said: list[tuple[str, str]] = field(default_factory=list)
    withdrawn: list[tuple[str, str]] = field(default_factory=list)  # (target, receipt)
    health: Health = Health.UP

    def targets(self) -> Sequence[Target]:
        return []

    async def preview(self, post: Post) -> Preview:
        text = post.text
        texts = tuple(text[i : i + self.width] for i in range(0, len(text), self.width))
        return Preview(self.name, texts, self.followers)

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

    async def says(self, who: Identity, text: str, *, private: bool = True) -> str:
        conversation = who.user_id if private else "-100"
        reply = await self.service.handle(
            Incoming(who.platform, conversation, who, text, private=private)
        )
        assert reply is not None
        return reply.text

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
        "telegram": ChatPlatform("telegram"),
        "mastodon:main": ChatPlatform("mastodon:main", followers=120),
    }
    lapse = asyncio.Event()

    async def expiry(_: float) -> None:
        await lapse.wait()

    outbox = Outbox(store)
    commands = OrganiserCommands(
        service, outbox, clock, list(platforms.values()), confirm_minutes=10, sleep=expiry
    )
    try:
        yield Desk(service, outbox, commands, clock, platforms, lapse)
    finally:
        await commands.close()


async def audit_actions(store: Store) -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in reversed(await store.audit_entries())]


async def test_preview_then_confirm_sends_exactly_what_was_shown(desk: Desk, store: Store) -> None:
    text = "Les candidatures 2027 ouvrent le 1er mars : préparez vos dossiers !"
    preview = await desk.says(ALICE, f"/diffuser {text}")
    assert "Aperçu de la diffusion n° 1" in preview
    assert "telegram (3 destinataires), 2 messages" in preview
    assert "mastodon:main (120 destinataires), 2 statuts" in preview
    assert f"[1/2] {text[:40]}" in preview  # the organiser's text, untouched
    assert "/confirmer" in preview
    assert await desk.queued() == []  # nothing before confirmation
    confirmed = await desk.says(ALICE, "/confirmer")
    assert confirmed.startswith("Diffusion n° 1 confirmée")
    assert await desk.queued() == [
        ("broadcast:1", "mastodon:main", text),
        ("broadcast:1", "telegram", text),
    ]
    assert "Aucune diffusion en attente" in await desk.says(ALICE, "/confirmer")
    assert await audit_actions(store) == [
        ("chat:1", "broadcast.preview"),
        ("chat:1", "broadcast.confirm"),
    ]


async def test_a_first_word_restricts_the_targets(desk: Desk) -> None:
    preview = await desk.says(ALICE, "/diffuser mastodon Bonjour")
    assert "mastodon:main" in preview
    assert "telegram (" not in preview
    await desk.says(ALICE, "/confirmer")
    assert await desk.queued() == [("broadcast:1", "mastodon:main", "Bonjour")]
    assert "Cible inconnue" in await desk.says(ALICE, "/diffuser mastodon:autre Bonjour")


async def test_nobody_else_confirms_and_contacts_cannot_broadcast(desk: Desk, store: Store) -> None:
    assert await desk.says(ZOE, "/diffuser Achetez !") == await desk.says(ZOE, "/inconnue")
    await desk.says(ALICE, "/diffuser Bonjour")
    assert "n’est pas la vôtre" in await desk.says(BRUNO, "/confirmer 2")
    assert "Aucune diffusion en attente" in await desk.says(BRUNO, "/confirmer")
    assert await desk.says(ZOE, "/confirmer 2") == await desk.says(ZOE, "/inconnue")
    assert await desk.queued() == []
    actions = await audit_actions(store)
    assert ("chat:9", "refused.diffuser") in actions
    assert ("chat:9", "refused.confirmer") in actions
    assert ("chat:2", "broadcast.confirm.refused") in actions


async def test_organiser_commands_are_taken_in_private_only(desk: Desk) -> None:
    in_group = await desk.says(ALICE, "/diffuser Bonjour", private=False)
    assert in_group == await desk.says(ALICE, "/inconnue")
    assert await desk.queued() == []


async def test_a_late_confirmation_sends_nothing_and_the_organiser_is_told(
    desk: Desk, store: Store
) -> None:
    await desk.says(CAROLE, "/diffuser Bonjour")
    desk.clock.advance(10 * 60)
    desk.lapse.set()  # the expiry timer goes off
    await desk.commands.expired()
    ((conversation, notice),) = desk.platforms["telegram"].said
    assert conversation == "5"
    assert "L’aperçu n° 1 a expiré sans confirmation" in notice
    assert "Aucune diffusion en attente" in await desk.says(CAROLE, "/confirmer")
    assert await desk.queued() == []
    assert ("telegram:5", "broadcast.expired") in await audit_actions(store)


async def test_a_confirmation_after_the_delay_finds_the_draft_expired(desk: Desk) -> None:
    await desk.says(ALICE, "/diffuser Bonjour")
    desk.clock.advance(11 * 60)  # the timer has not run: the confirmation itself sees it
    assert "a expiré" in await desk.says(ALICE, "/confirmer 1")
    assert await desk.queued() == []


async def test_a_changed_rendering_is_not_sent_on_an_old_preview(desk: Desk) -> None:
    await desk.says(ALICE, "/diffuser " + "x" * 50)
    desk.platforms["telegram"].width = 30  # e.g. the instance changed its limit meanwhile
    assert "Le rendu a changé" in await desk.says(ALICE, "/confirmer")
    assert await desk.queued() == []
    assert "Aperçu de la diffusion n° 1" in await desk.says(ALICE, "/apercu")


async def test_cancel_and_schedule(desk: Desk) -> None:
    await desk.says(ALICE, "/diffuser Bonjour")
    assert "annulée" in await desk.says(ALICE, "/annuler")
    assert "Aucune diffusion en attente" in await desk.says(ALICE, "/confirmer")
    preview = await desk.says(ALICE, "/programmer 2027-03-01 09:00 Ouverture demain !")
    assert "le 1er mars 2027 à 09:00 (heure de Paris)" in preview
    assert "programmée" in await desk.says(ALICE, "/confirmer")
    (item, *_) = await desk.outbox.items()
    assert item.due_at == dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)
    assert "passée" in await desk.says(ALICE, "/programmer 2020-01-01 09:00 Trop tard")
    assert "n° 2 (confirmed)" in await desk.says(ALICE, "/etat")


async def test_organisers_see_their_commands_in_help(desk: Desk) -> None:
    assert "/diffuser" in await desk.says(ALICE, "/aide")
    assert "/diffuser" not in await desk.says(ZOE, "/aide")
