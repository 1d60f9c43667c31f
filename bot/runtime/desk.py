"""The organisers' desk outside the running bot: the shell (`tnl-bot broadcast`, `tnl-bot
laureates publish`, `tnl-bot chat --organisateur`) drafts and confirms broadcasts through the
same commands as a chat, and the running bot delivers them from the shared outbox.

Connectors are built (for their previews: exact texts and recipients) but never started: the
shell receives nothing and sends nothing itself. Whoever has the shell has the data files
anyway, so its user is an organiser (`console:<login>`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from bot.broadcasts.install import organiser_commands
from bot.broadcasts.organisers import OrganiserCommands
from bot.clock import Clock
from bot.config import Settings
from bot.conversation import (
    Attachment,
    ConversationService,
    Identity,
    Incoming,
    Reply,
    Roles,
)
from bot.conversation.connector import Connector, Parts
from bot.conversation.flood import FloodGuard
from bot.conversation.identity import ORGANISER
from bot.faq.engine import FaqEngine
from bot.runtime.assembly import build_connectors
from bot.store.store import Store
from scheduler.plan import campaign_plan, upcoming

PLATFORM = "console"


@dataclass
class Desk:
    service: ConversationService
    organisers: OrganiserCommands
    store: Store
    identity: Identity
    settings: Settings

    async def say(self, text: str, attachment: Attachment | None = None) -> Reply:
        reply = await self.service.handle(
            Incoming(PLATFORM, "shell", self.identity, text, attachment=attachment)
        )
        assert reply is not None  # the flood guard is off for the shell's one user
        return reply


@contextlib.asynccontextmanager
async def desk(
    settings: Settings, engine: FaqEngine, clock: Clock, environ: Mapping[str, str]
) -> AsyncIterator[Desk]:
    from bot.outbox.queue import Outbox
    from bot.outbox.worker import DeliveryWorker

    identity = Identity(PLATFORM, getpass.getuser())
    store = await Store.open(settings.store_url())
    connectors: list[Connector] = []
    organisers: OrganiserCommands | None = None
    try:
        flood = FloodGuard(clock, 1_000_000, 0)  # one user at a keyboard
        roles = Roles({ORGANISER: [identity]})
        service = ConversationService(engine, store, clock, flood=flood, roles=roles)
        outbox = Outbox(store, dt.timedelta(hours=settings.outbox_deadline_hours))
        worker = DeliveryWorker(outbox, [], clock)  # never run: the running bot delivers
        parts = Parts(settings, service, store, clock, outbox, worker, lambda _: None, environ)
        connectors = list(await build_connectors(parts))
        plan = campaign_plan(engine.campaign)
        organisers = await organiser_commands(
            service,
            outbox,
            clock,
            connectors,
            confirm_minutes=settings.confirm_minutes,
            upcoming=lambda count: upcoming(plan, clock.now(), count),
        )
        yield Desk(service, organisers, store, identity, settings)
    finally:
        if organisers is not None:
            await organisers.close()
        for connector in connectors:
            with contextlib.suppress(Exception):
                await connector.stop(0)
        await store.close()
