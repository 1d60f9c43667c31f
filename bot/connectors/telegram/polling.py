"""Long polling (the default: no public URL needed) and the backoff shared with connecting.

A network failure, a 5xx or a rejected token never ends the bot: one log line, a pause that
doubles up to five minutes, and another try.
"""

from __future__ import annotations

import asyncio
import logging

from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError, TimedOut

from bot.connectors.telegram.api import DEFAULT_TIMEOUTS, TelegramBot, Timeouts, seconds
from bot.connectors.telegram.feed import ALLOWED_UPDATES, UpdateFeed
from bot.waiting import Sleep, pause

log = logging.getLogger(__name__)


class Backoff:
    def __init__(self, first: float = 1.0, ceiling: float = 300.0) -> None:
        self.first = first
        self.ceiling = ceiling
        self.next = first

    def delay(self) -> float:
        current = self.next
        self.next = min(self.ceiling, self.next * 2)
        return current

    def reset(self) -> None:
        self.next = self.first


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
        backoff: Backoff | None = None,
    ) -> None:
        self.bot = bot
        self.feed = feed
        self.sleep = sleep
        self.api_url = api_url
        self.timeouts = timeouts
        self.backoff = backoff or Backoff()
        self.failures = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                raw = await self.bot.raw_updates(
                    self.feed.offset, self.timeouts.long_poll, ALLOWED_UPDATES
                )
            except RetryAfter as error:
                await pause(self.sleep, seconds(error.retry_after), stop)
                continue
            except Conflict:
                log.warning("a webhook is set on this bot; removing it to poll instead")
                await self._quietly_delete_webhook()
                await pause(self.sleep, self.backoff.delay(), stop)
                continue
            except TelegramError as error:
                self.failures += 1
                delay = self.backoff.delay()
                log.error("%s; retrying in %.3g s", describe(error, self.api_url), delay)
                await pause(self.sleep, delay, stop)
                continue
            self.backoff.reset()
            await self.feed.process(raw)

    async def _quietly_delete_webhook(self) -> None:
        try:
            await self.bot.delete_webhook()
        except TelegramError as error:
            log.error("%s", describe(error, self.api_url))
