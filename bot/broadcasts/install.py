"""Every organiser command on a conversation service, in one call: the running bot and the
shell's desk install the same set (broadcasts, withdrawals, laureates)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.broadcasts.laureates import LaureateCommands
from bot.broadcasts.organisers import OrganiserCommands, Reload, Upcoming
from bot.clock import Clock
from bot.conversation import ConversationService
from bot.conversation.connector import Connector
from bot.outbox.queue import Outbox


async def organiser_commands(
    service: ConversationService,
    outbox: Outbox,
    clock: Clock,
    connectors: Sequence[Connector],
    *,
    confirm_minutes: float,
    upcoming: Upcoming,
    wake: Callable[[], None] = lambda: None,
    reload: Reload | None = None,
) -> OrganiserCommands:
    """The commands installed, the palmarès published before loaded for the answers."""
    organisers = OrganiserCommands(
        service,
        outbox,
        clock,
        connectors,
        confirm_minutes=confirm_minutes,
        wake=wake,
        reload=reload,
        upcoming=upcoming,
    )
    await LaureateCommands(service, organisers).load()
    return organisers
