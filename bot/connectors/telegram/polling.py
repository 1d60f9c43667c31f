"""Long polling (the default: no public URL needed).

A network failure, a 5xx or a rejected token never ends the bot: one log line, a pause chosen
by the one backoff policy (`bot.backoff`; Telegram's own `retry_after` first), and another try.
The loop hands each batch to the feed and asks for the next at once: it never waits for a chat.
"""

from __future__ import annotations

import asyncio
import logging
import random

from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError, TimedOut

from bot.backoff import Backoff, Retries
from bot.connectors.telegram.api import DEFAULT_TIMEOUTS, TelegramBot, Timeouts, seconds
from bot.connectors.telegram.feed import ALLOWED_UPDATES, UpdateFeed
from bot.store.errors import UNAVAILABLE
from bot.waiting import Sleep, pause

log = logging.getLogger(__name__)

# Connecting and polling: from about a second, doubling, up to five minutes.
BACKOFF = Backoff(base=1.0, factor=2.0, ceiling=300.0)


def describe(error: TelegramError, api_url: str) -> str:
    """One clear sentence for the operator; the token never appears in it."""
    if isinstance(error, InvalidToken):
        return "Telegram rejected the bot token: check TNL_TELEGRAM_TOKEN"
    if isinstance(error, TimedOut):
        return f"Telegram Bot API at {api_url} did not answer in time"
    return f"Telegram Bot API at {api_url} failed: {type(error).__name__}: {error.message}"


class Poller:
    def __init__(
        self,
        bot: TelegramBot,
        feed: UpdateFeed,
        *,
        sleep: Sleep,
        api_url: str,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        rng: random.Random | None = None,
    ) -> None:
        self.bot = bot
        self.feed = feed
        self.sleep = sleep
        self.api_url = api_url
        self.timeouts = timeouts
        self.retries = Retries(BACKOFF, rng)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                raw = await self.bot.raw_updates(
                    self.feed.offset, self.timeouts.long_poll, ALLOWED_UPDATES
                )
            except RetryAfter as error:
                await pause(self.sleep, self.retries.failed(seconds(error.retry_after)), stop)
                continue
            except Conflict:
                log.warning("a webhook is set on this bot; removing it to poll instead")
                await self._quietly_delete_webhook()
                await pause(self.sleep, self.retries.failed(), stop)
                continue
            except TelegramError as error:
                delay = self.retries.failed()
                log.error("%s; retrying in %.3g s", describe(error, self.api_url), delay)
                await pause(self.sleep, delay, stop)
                continue
            try:
                await self.feed.accept(raw)
            except Exception as error:  # not kept, so not confirmed: Telegram sends it again
                delay = self.retries.failed()
                log.error(
                    "updates not kept (store: %s); retrying in %.3g s",
                    error,
                    delay,
                    exc_info=not isinstance(error, UNAVAILABLE),  # a bug: its traceback
                )
                await pause(self.sleep, delay, stop)
                continue
            self.retries.succeeded()

    async def _quietly_delete_webhook(self) -> None:
        try:
            await self.bot.delete_webhook()
        except TelegramError as error:
            log.error("%s", describe(error, self.api_url))
