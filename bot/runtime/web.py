"""The process's one web application (aiohttp): every HTTP route the bot serves mounts here.

The Telegram webhook mounts on it today; health, metrics and the web chat will. One listening
socket, bound to 127.0.0.1 unless `TNL_WEB_HOST` says otherwise: a public address is a decision
an operator makes, never a default. Routes are added before `start`; aiohttp freezes the
application once it serves.
"""

from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # requests are small (a Telegram update is a few kB): refuse to buffer more


class WebApp:
    def __init__(self, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.host = host
        self.port = port  # 0: any free port (tests); the bound one once started
        self.app = web.Application(client_max_size=MAX_BODY)
        self._runner: web.AppRunner | None = None

    def add_routes(self, routes: web.RouteTableDef) -> None:
        if self._runner is not None:
            raise RuntimeError("routes must be mounted before the web application starts")
        self.app.add_routes(routes)

    @property
    def routes(self) -> list[str]:
        """`METHOD /path` of every route mounted, for the start-up log line."""
        return sorted(
            f"{route.method} {route.resource.canonical}"
            for route in self.app.router.routes()
            if route.resource is not None and route.method != "HEAD"
        )

    async def start(self) -> None:
        """Listen; OSError when the address is taken or not ours to bind."""
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        for address in runner.addresses:
            if isinstance(address, tuple):
                self.port = int(address[1])
                break
        log.info("web: listening on http://%s:%d/", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"
