"""Organisers on Mastodon: their commands come by direct message from an account listed in
TNL_ORGANISERS (`mastodon:user@instance`, looked up at start); the same command in a public
mention, or from anyone else, gets the answer to an unknown command."""

from __future__ import annotations

import asyncio
import urllib.parse

from bot import texts
from bot.broadcasts.organisers import OrganiserCommands
from bot.connectors.mastodon.platform import MastodonPlatform
from bot.connectors.mastodon.runtime import outbox_history
from bot.connectors.mastodon.text import html_to_text
from bot.conversation import ConversationService
from bot.conversation.flood import FloodGuard
from bot.faq.engine import FaqEngine
from bot.french import typography
from bot.outbox.queue import Outbox
from bot.runtime.assembly import organiser_roles
from tests.fakes.mastodon_entities import Json
from tests.fakes.mastodon_server import FakeMastodon
from tests.mastodon.conftest import World, new_client


async def never(_: float) -> None:
    """The drafts' expiry timers: they do not go off during this test."""
    await asyncio.Event().wait()


def answer_to(fake: FakeMastodon, bot: Json, question: Json) -> tuple[str, str]:
    """The first status of the bot's reply under `question`: its text and visibility."""
    (first, *_) = [s for s in fake.posts_of(bot) if s["in_reply_to_id"] == question["id"]]
    return html_to_text(first["content"]), first["visibility"]


async def test_organisers_act_by_direct_message_only(world: World, engine: FaqEngine) -> None:
    fake, bot_account, account, clock, store = world.parts()
    organiser = fake.add_account("orga", "orga-token")
    fake.add_account("curieux", "curieux-token")
    service = ConversationService(engine, store, clock, flood=FloodGuard(clock, 20, 600))
    history = outbox_history(store)
    platform = MastodonPlatform(
        new_client(account, clock), service, store, clock, history, sleep=clock.sleep
    )
    domain = urllib.parse.urlsplit(fake.base).netloc
    service.roles = await organiser_roles(
        [f"mastodon:orga@{domain}", "mastodon:inconnu@ailleurs.example"], [platform]
    )
    outbox = Outbox(store)
    commands = OrganiserCommands(service, outbox, clock, [platform], sleep=never)
    try:
        await platform.answerer.prepare()  # at start: the notification policy lets DMs in
        command = "@tnl /diffuser Réunion des lauréats jeudi"
        direct = fake.post_as("orga-token", command, visibility="direct")
        public = fake.post_as("orga-token", command, visibility="public")
        stranger = fake.post_as("curieux-token", command, visibility="direct")
        assert await platform.answerer.poll_once() == 3

        text, visibility = answer_to(fake, bot_account, direct)
        assert text.startswith("@orga " + typography("Aperçu de la diffusion n° 1"))
        assert "Réunion des lauréats jeudi" in text
        assert visibility == "direct"  # the preview stays between the bot and the organiser
        unknown = "@{} " + typography(texts.UNKNOWN_COMMAND)
        assert answer_to(fake, bot_account, public) == (unknown.format("orga"), "public")
        assert answer_to(fake, bot_account, stranger)[0] == unknown.format("curieux")

        confirm = fake.post_as("orga-token", "@tnl /confirmer", visibility="direct")
        assert await platform.answerer.poll_once() == 1
        assert "Diffusion n° 1 confirmée" in answer_to(fake, bot_account, confirm)[0]
        assert [(i.key, i.target) for i in await outbox.items()] == [
            ("broadcast:1", "mastodon:main")
        ]
        audited = [(e.actor, e.action) for e in await store.audit_entries()]
        assert (f"mastodon:{organiser['id']}", "broadcast.confirm") in audited
        assert any(a == "refused.diffuser" for _, a in audited)  # the stranger's attempt
    finally:
        await commands.close()
        await platform.stop(0)
