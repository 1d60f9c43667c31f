"""`GET /healthz` and `GET /metrics` on the bot's one web application.

/healthz answers what a container orchestrator or a sysadmin's probe needs: 200 when every
configured connector reaches its platform and the store answers, 503 ("degraded") otherwise,
with each part's state in the JSON either way. Asking the store is bounded by a short timeout:
a probe that hangs is worse than one that says "unavailable".
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.conversation.connector import Health
from bot.store.items import State

if TYPE_CHECKING:
    from bot.runtime.assembly import RunningBot

log = logging.getLogger(__name__)

STORE_TIMEOUT = 2.0  # seconds the store gets to answer a probe


async def outbox_counts(bot: RunningBot) -> dict[str, int] | None:
    """Items per state (every state, zeros included), None when the store does not answer."""
    if bot.store is None or bot.outbox is None:
        return None
    try:
        await asyncio.wait_for(bot.store.ping(), STORE_TIMEOUT)
        counts = await asyncio.wait_for(bot.outbox.counts(), STORE_TIMEOUT)
    except Exception as error:  # any driver error: the store is unavailable, say which
        log.warning("health: store unavailable: %s", error or type(error).__name__)
        return None
    return {state.value: counts.get(state, 0) for state in State}


def scheduler_state(bot: RunningBot) -> dict[str, Any]:
    runner = bot.runner
    if bot.fleet is not None and not bot.fleet.leading:
        return {"state": "standby", "next_wake": None}  # the leading instance runs it
    if runner is None or not runner.scheduler.running:
        return {"state": "stopped", "next_wake": None}
    wake = runner.next_wake()
    return {"state": "running", "next_wake": None if wake is None else wake.isoformat()}


def instance_state(bot: RunningBot) -> dict[str, Any]:
    """This instance among those on the store: its name, whether it leads, how many run."""
    fleet = bot.fleet
    if fleet is None:
        return {"name": None, "leader": False, "instances": 0}
    return {"name": fleet.name, "leader": fleet.leading, "instances": fleet.instances}


async def health(bot: RunningBot) -> tuple[int, dict[str, Any]]:
    connectors = {connector.name: connector.health.value for connector in bot.connectors}
    counts = await outbox_counts(bot)
    worker = bot.worker
    refusing = worker is not None and worker.store_failing  # reads answer, writes do not
    store = "unavailable" if counts is None else "refuses writes" if refusing else "ok"
    degraded = store != "ok" or Health.DEGRADED.value in connectors.values()
    body = {
        "status": "degraded" if degraded else "ok",
        "connectors": connectors,
        "scheduler": scheduler_state(bot),
        "store": store,
        "outbox": counts or {},
        "instance": instance_state(bot),
    }
    return (503 if degraded else 200), body


def routes(bot: RunningBot) -> web.RouteTableDef:
    from bot.runtime.metrics import CONTENT_TYPE

    table = web.RouteTableDef()

    @table.get("/healthz")
    async def healthz(_: web.Request) -> web.Response:
        status, body = await health(bot)
        return web.json_response(body, status=status)

    @table.get("/metrics")
    async def metrics(_: web.Request) -> web.Response:
        counts = await outbox_counts(bot)
        if counts is not None:
            bot.metrics.outbox(counts)
        bot.metrics.leader.set(int(bot.fleet is not None and bot.fleet.leading))
        return web.Response(body=bot.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    return table
