"""Webhook mode: Telegram POSTs updates to a route on the bot's web application (PTB's own
server is tornado; the bot serves every HTTP route from one aiohttp application).

Only requests carrying the secret given to setWebhook (header X-Telegram-Bot-Api-Secret-Token)
are accepted; anyone can find the URL, nobody else can inject updates. The route answers 200 as
soon as the update is kept in the inbox and queued in its chat's lane (see `feed` for what a
crash can repeat), 503 when the inbox cannot be written (Telegram retries): Telegram sends the
next update without waiting for a slow chat. setWebhook asks for one
connection at a time, so updates arrive in order and a redelivery is recognised by its id.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable

from aiohttp import web

from bot.connectors.telegram.feed import UpdateFeed
from bot.store.errors import UNAVAILABLE

log = logging.getLogger(__name__)

PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # an update is a few kB; refuse to buffer more (the application does too)


def routes(
    feed: UpdateFeed,
    secret: str,
    path: str = PATH,
    *,
    receiving: Callable[[], bool] = lambda: True,
) -> web.RouteTableDef:
    """The route alone, to mount on whichever aiohttp application serves the bot.
    `receiving()` False (an instance that does not lead): 503, and Telegram delivers the
    update again later, to whichever instance the URL then reaches."""
    table = web.RouteTableDef()

    @table.post(path)
    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook call from %s refused: wrong secret token", request.remote)
            return web.Response(status=401)
        if not receiving():
            return web.Response(status=503, text="this instance does not lead")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413)
        try:
            update = json.loads(await request.content.read(MAX_BODY))
        except (ValueError, UnicodeDecodeError):
            log.warning("webhook call with a body that is not JSON; ignored")
            return web.Response(status=200)  # a 4xx would make Telegram retry it forever
        try:
            await feed.accept([update])
        except Exception as error:  # not kept: Telegram retries what is not answered 200
            log.error(
                "webhook update not kept (store: %s); Telegram will retry",
                error,
                exc_info=not isinstance(error, UNAVAILABLE),  # a bug: its traceback
            )
            return web.Response(status=503, text="the store is unavailable")
        return web.Response(status=200)

    return table
