"""The one web application: routes mount before it starts, it listens on loopback by default."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from bot.runtime.web import WebApp


async def test_mounted_routes_are_served_on_loopback() -> None:
    routes = web.RouteTableDef()

    @routes.get("/ping")
    async def ping(request: web.Request) -> web.Response:
        return web.json_response({"pong": True})

    app = WebApp(port=0)
    app.add_routes(routes)
    await app.start()
    try:
        assert app.host == "127.0.0.1"
        assert app.port > 0
        assert app.routes == ["GET /ping"]
        async with aiohttp.ClientSession() as session, session.get(f"{app.url}/ping") as response:
            assert response.status == 200
            assert await response.json() == {"pong": True}
        with pytest.raises(RuntimeError, match="before the web application starts"):
            app.add_routes(web.RouteTableDef())
    finally:
        await app.stop()


async def test_a_taken_port_is_an_error_not_a_hang() -> None:
    first = WebApp(port=0)
    await first.start()
    try:
        second = WebApp(port=first.port)
        with pytest.raises(OSError, match="address already in use"):
            await second.start()
    finally:
        await first.stop()
