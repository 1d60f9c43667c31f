"""Webhook mode: Telegram POSTs updates to an aiohttp route (PTB's own server is tornado).

Only requests carrying the secret given to setWebhook (header X-Telegram-Bot-Api-Secret-Token)
are accepted; anyone can find the URL, nobody else can inject updates. The route answers 200 as
soon as the update is queued in its chat's lane (see `feed` for what a crash can lose or repeat):
Telegram sends the next update without waiting for a slow chat. setWebhook asks for one
connection at a time, so updates arrive in order and a redelivery is recognised by its id.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web

from bot.connectors.telegram.feed import UpdateFeed

log = logging.getLogger(__name__)

PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # an update is a few kB; refuse to buffer more


def routes(feed: UpdateFeed, secret: str, path: str = PATH) -> web.RouteTableDef:
    """The route alone, to mount on whichever aiohttp application serves the bot."""
    table = web.RouteTableDef()

    @table.post(path)
    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook call from %s refused: wrong secret token", request.remote)
            return web.Response(status=401)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413)
        try:
            update = json.loads(await request.content.read(MAX_BODY))
        except (ValueError, UnicodeDecodeError):
            log.warning("webhook call with a body that is not JSON; ignored")
            return web.Response(status=200)  # a 4xx would make Telegram retry it forever
        feed.accept([update])
        return web.Response(status=200)

    return table


def application(feed: UpdateFeed, secret: str, path: str = PATH) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app.add_routes(routes(feed, secret, path))
    return app


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The port actually bound (0 in the configuration means "any free one": tests)."""
    for address in runner.addresses:
        if isinstance(address, tuple):
            return int(address[1])
    raise RuntimeError("the webhook server is not listening")
