"""`/retirer <n°>`: take a confirmed broadcast back — what is still waiting is cancelled, what
was published is deleted where the platform allows it — and say, per target, what happened.

It goes through the same preview and confirmation as a send; the preview's fingerprint is the
summary of what will be done, so a confirmation after more went out is asked again.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Mapping

from bot.broadcasts.plan import from_json
from bot.conversation.connector import Connector
from bot.outbox.item import OutboxItem
from bot.outbox.progress import family, fanned_out
from bot.outbox.queue import Outbox
from bot.outbox.target import RetryableError
from bot.store.broadcasts import BroadcastRecords, BroadcastState
from bot.store.items import State

WAITING = (State.PENDING, State.FAILED)


class Withdrawals:
    def __init__(
        self, outbox: Outbox, records: BroadcastRecords, connectors: Mapping[str, Connector]
    ) -> None:
        self.outbox = outbox
        self.records = records
        self.connectors = connectors  # the caller's: connectors added later count too

    async def refusal(self, number: int) -> str | None:
        """Why broadcast `number` cannot be withdrawn, or None when it can."""
        broadcast = await self.records.get(number)
        if broadcast is None or broadcast.kind == "withdraw":
            return f"Il n’y a pas de diffusion n° {number}."
        if broadcast.state is BroadcastState.WITHDRAWN:
            return f"La diffusion n° {number} a déjà été retirée."
        if broadcast.state is not BroadcastState.CONFIRMED:
            return f"La diffusion n° {number} n’a jamais été confirmée : rien à retirer."
        return None

    async def summary(self, number: int) -> str:
        """Per target family: how many items wait (to cancel), are published (to delete) or
        are being sent right now."""
        counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        for item in await self._items(number):
            if item.state in WAITING:
                counts[family(item.target)]["en attente, annulés"] += 1
            elif item.state is State.SENT and self._connector(item.target) is not None:
                counts[family(item.target)]["publiés, supprimés si possible"] += 1
            elif item.state is State.SENDING:
                counts[family(item.target)]["en cours d’envoi"] += 1
        if not counts:
            return "Rien à retirer : aucun envoi en attente ni publié."
        return "\n".join(
            f"— {target} : " + ", ".join(f"{n} {what}" for what, n in sorted(found.items()))
            for target, found in sorted(counts.items())
        )

    async def carry_out(self, number: int, now: dt.datetime) -> str:
        """Cancel, delete, then mark the broadcast withdrawn; the outcome per target family."""
        outcomes: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        for item in await self._items(number):
            outcomes[family(item.target)][await self._take_back(item, number, now)] += 1
        await self.records.decide(
            number, BroadcastState.WITHDRAWN, now, was=BroadcastState.CONFIRMED
        )
        lines = [
            f"— {target} : " + ", ".join(f"{n} {what}" for what, n in sorted(found.items()) if what)
            for target, found in sorted(outcomes.items())
        ]
        return "\n".join(line for line in lines if not line.endswith(": ")) or "Rien à retirer."

    async def _take_back(self, item: OutboxItem, number: int, now: dt.datetime) -> str:
        if item.state in WAITING:
            await self.outbox.cancel(item.id, now, f"withdrawn with n° {number}")
            return "annulé"
        connector = self._connector(item.target)
        if item.state is not State.SENT or connector is None or not item.receipt:
            return "en cours d’envoi" if item.state is State.SENDING else ""
        try:
            return await connector.withdraw(item.target, item.receipt, item.sent_at or now)
        except RetryableError as error:
            return f"à réessayer ({error.reason})"

    async def _items(self, number: int) -> list[OutboxItem]:
        """The broadcast's items, less the fan-outs already done: their chats' items are what
        was published."""
        broadcast = await self.records.get(number)
        if broadcast is None:
            return []
        found: list[OutboxItem] = []
        for key in from_json(broadcast.post).keys(number):
            found += await self.outbox.items(key=key)
        audiences = [a for connector in self.connectors.values() for a in connector.audiences()]
        done = fanned_out((item.target for item in found), audiences)
        return [i for i in found if not (i.target in done and i.state is State.SENT)]

    def _connector(self, target: str) -> Connector | None:
        for name, connector in self.connectors.items():
            if target == name or target.startswith(f"{name}:"):
                return connector
        return None
