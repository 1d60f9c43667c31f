"""The python-telegram-bot objects, pointed at the configured Bot API server.

`TNL_TELEGRAM_API_URL` is the server's root (`https://api.telegram.org`, a self-hosted Bot API
server, or the test fake); requests go to `{root}/bot{token}/{method}`, through
`AiohttpRequest` (request.py): much cheaper per message than PTB's default httpx client.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, ExtBot

from bot.connectors.telegram.request import AiohttpRequest

DEFAULT_API_URL = "https://api.telegram.org"


@dataclass(frozen=True)
class Timeouts:
    """Seconds; a test shortens `read` to provoke "timed out, in doubt" sends in milliseconds."""

    connect: float = 10.0
    read: float = 15.0
    write: float = 15.0
    pool: float = 5.0
    long_poll: int = 25  # getUpdates `timeout`; the read timeout is added on top


DEFAULT_TIMEOUTS = Timeouts()


class TelegramBot(ExtBot[None]):
    """ExtBot that can also fetch updates as raw JSON.

    `Bot.get_updates` parses the whole batch at once: one malformed update would make every
    poll fail and the bot would never get past it. Fetching raw lets the poller parse updates
    one by one, skip (and log) what it cannot read, and still confirm it.
    """

    async def raw_updates(
        self, offset: int | None, timeout: int, allowed_updates: list[str] | None = None
    ) -> list[Any]:
        data: dict[str, Any] = {"timeout": timeout, "limit": 100}
        if offset is not None:
            data["offset"] = offset
        if allowed_updates is not None:
            data["allowed_updates"] = allowed_updates
        result = await self._post(
            "getUpdates", data, read_timeout=(self._request[0].read_timeout or 0) + timeout
        )
        return result if isinstance(result, list) else []

    async def send_raw(self, chat_id: int | str, text: str) -> tuple[int, int]:
        """sendMessage in HTML mode for a broadcast, answering (chat id, message id) only.

        `send_message` builds a whole `Message` from each answer: on a 10,000-chat broadcast
        that was an eighth of the event loop's time, for two numbers. Errors are the same
        (RetryAfter, Forbidden, ChatMigrated…): they are raised before the answer is parsed."""
        data: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
        result = await self._post("sendMessage", data)
        if not isinstance(result, dict):
            raise TypeError(f"sendMessage answered {type(result).__name__}, not a message")
        return int(result["chat"]["id"]), int(result["message_id"])

    async def release(self) -> None:
        """Close the HTTP clients, even if `initialize` (getMe) never succeeded: `shutdown`
        skips a bot whose requests were never initialised, and would leak their sockets.
        (Not named `close`: that is the Bot API method that logs the bot out.)"""
        await asyncio.gather(self._request[0].shutdown(), self._request[1].shutdown())
        self._requests_initialized = False
        self._bot_initialized = False


def make_bot(
    token: str, api_url: str = DEFAULT_API_URL, timeouts: Timeouts = DEFAULT_TIMEOUTS, pool: int = 8
) -> TelegramBot:
    root = api_url.rstrip("/")
    request = AiohttpRequest(
        connection_pool_size=pool,
        connect_timeout=timeouts.connect,
        read_timeout=timeouts.read,
        write_timeout=timeouts.write,
        pool_timeout=timeouts.pool,
    )
    updates_request = AiohttpRequest(
        connection_pool_size=1,
        connect_timeout=timeouts.connect,
        read_timeout=timeouts.read,
        write_timeout=timeouts.write,
        pool_timeout=timeouts.pool,
    )
    return TelegramBot(
        token,
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=request,
        get_updates_request=updates_request,
    )


def make_application(bot: TelegramBot) -> Application[Any, Any, Any, Any, Any, Any]:
    """No Updater: our own poller (cursor persisted in the store) or webhook route feeds it."""
    return Application.builder().bot(bot).updater(None).build()


def seconds(value: int | float | dt.timedelta) -> float:
    """PTB 22 hands out durations as int or timedelta depending on PTB_TIMEDELTA."""
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
