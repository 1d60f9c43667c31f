"""`/etat`: what an organiser needs to know before and after a broadcast, in one message — the
outbox by state, the scheduled announcements about to go out (so that nobody broadcasts by hand
what the calendar is about to say), who is subscribed where, and the last broadcasts' progress.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence

from bot.broadcasts.plan import from_json
from bot.french import long_datetime
from bot.outbox.progress import progress
from bot.outbox.queue import Outbox
from bot.paris import PARIS
from bot.store.broadcasts import BroadcastRecords, BroadcastState
from bot.store.items import State

UPCOMING = 5  # the announcements shown: enough to see the next days, short enough to read
SENDS = {
    State.PENDING: "en attente",
    State.SENDING: "en cours",
    State.SENT: "envoyés",
    State.FAILED: "échoués",
    State.CANCELLED: "annulés",
}
BROADCASTS = {
    BroadcastState.DRAFT: "aperçu",
    BroadcastState.CONFIRMED: "confirmée",
    BroadcastState.CANCELLED: "annulée",
    BroadcastState.EXPIRED: "expirée",
    BroadcastState.WITHDRAWN: "retirée",
}


async def state_report(
    outbox: Outbox,
    records: BroadcastRecords,
    platforms: Iterable[str],
    audiences: Collection[str],
    upcoming: Sequence[tuple[dt.datetime, str]],
) -> str:
    """The lines of `/etat` (French, before typography). `platforms`: those of the configured
    connectors; subscribers are counted for each that has any (today only Telegram offers
    /abonner). `audiences`: the connectors', so that a broadcast's progress counts what its
    recipients get, not the fan-out item. `upcoming`: the next announcements, (due, what),
    soonest first."""
    store = outbox.store
    counts = await outbox.counts()
    lines = ["Envois : " + (", ".join(f"{SENDS[s]} {n}" for s, n in counts.items()) or "aucun")]
    lines.append("Prochaines annonces programmées :" if upcoming else "Aucune annonce programmée.")
    lines += [f"— {long_datetime(due.astimezone(PARIS))} : {what}" for due, what in upcoming]
    subscribed = [
        (platform, n)
        for platform in dict.fromkeys(platforms)
        if (n := len(await store.subscribers(platform)))
    ]
    lines.append(
        "Abonnés : " + ", ".join(f"{platform} {n}" for platform, n in subscribed)
        if subscribed
        else "Abonnés : aucun"
    )
    for draft in await records.recent():
        keys = from_json(draft.post).keys(draft.number)
        done = [
            f"{line.targets} " + ", ".join(f"{SENDS[s]} {n}" for s, n in line.counts.items())
            for key in keys
            for line in await progress(store, key=key, audiences=audiences)
        ]
        lines.append(f"n° {draft.number} ({BROADCASTS[draft.state]}) : {'; '.join(done) or '—'}")
    return "\n".join(lines)
