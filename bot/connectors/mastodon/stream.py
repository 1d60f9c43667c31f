"""Mastodon's streaming API as server-sent events, read with aiohttp.

`GET /api/v1/streaming/user/notification` with the account's bearer token answers a
`text/event-stream` that stays open: `event: notification` / `data: <json>` blocks separated by
blank lines, and `:thump` comments as heartbeats every 15 s or so. Mastodon.py's own streaming
is blocking (a thread per stream, no clean way to stop it), so the few lines of the format are
read here on the event loop instead.

An instance may serve streaming elsewhere (`configuration.urls.streaming` of /api/v2/instance)
or not at all (404, connection refused): the caller then polls.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
from mastodon import types_base
from mastodon.return_types import Notification

from bot.connectors.mastodon.client import USER_AGENT

log = logging.getLogger(__name__)

PATH = "/api/v1/streaming/user/notification"
CONNECT_TIMEOUT = 10.0
SILENCE = 90.0  # seconds without a byte (heartbeats come every ~15 s): the connection is dead
MAX_EVENT = 2**20  # bytes; a notification embeds a status and its account


class StreamUnavailable(Exception):
    """The instance refused the stream (no streaming there, or not for this token)."""


def streaming_base(api_base: str, announced: str | None) -> str:
    """The HTTP(S) base of the streaming server: `wss://` announced → `https://`."""
    if not announced:
        return api_base.rstrip("/")
    for websocket, http in (("wss://", "https://"), ("ws://", "http://")):
        if announced.startswith(websocket):
            return http + announced.removeprefix(websocket).rstrip("/")
    return announced.rstrip("/")


class NotificationStream:
    """One account's notification stream; `open()` yields its notifications as they come."""

    def __init__(self, base: str, token: str) -> None:
        self.url = base + PATH
        self._token = token

    @asynccontextmanager
    async def open(self) -> AsyncIterator[AsyncIterator[Notification]]:
        """Connected once entered (StreamUnavailable or aiohttp.ClientError otherwise); the
        iterator ends when the server closes the stream."""
        timeout = aiohttp.ClientTimeout(total=None, connect=CONNECT_TIMEOUT, sock_read=SILENCE)
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "text/event-stream",
            "User-Agent": USER_AGENT,
        }
        async with aiohttp.ClientSession(
            timeout=timeout, trust_env=False, read_bufsize=MAX_EVENT
        ) as session:
            try:
                response = await session.get(self.url, headers=headers)
            except aiohttp.ClientConnectorError as error:
                raise StreamUnavailable(f"cannot connect: {error.os_error}") from error
            async with response:
                if response.status != 200:
                    raise StreamUnavailable(f"HTTP {response.status}")
                yield _notifications(response.content)


async def _notifications(content: aiohttp.StreamReader) -> AsyncIterator[Notification]:
    async for name, data in _events(content):
        if name != "notification":
            continue
        try:
            yield _notification(json.loads(data))
        except ValueError as error:
            log.warning("unreadable notification in the stream: %s", error)


def _notification(payload: object) -> Notification:
    """JSON → the Notification Mastodon.py's REST calls return (dates parsed, attributes)."""
    cast: Callable[[type, object], object] = types_base.try_cast_recurse  # untyped upstream
    found = cast(Notification, payload)
    if not isinstance(found, Notification):
        raise ValueError(f"not a notification: {str(payload)[:100]}")
    return found


async def _events(content: aiohttp.StreamReader) -> AsyncIterator[tuple[str, str]]:
    """(event name, data) of each block; comments (heartbeats) and ids are skipped."""
    name, data = "message", list[str]()
    async for raw in content:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if data:
                yield name, "\n".join(data)
            name, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
