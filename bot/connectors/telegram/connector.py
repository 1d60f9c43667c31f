"""The Telegram connector's lifecycle: connect (with backoff), register commands, then poll, or
receive through its webhook route (mounted on the process's web application), until stopped.
`start` returns at once; an unreachable API never blocks or ends the rest of the bot. What to
answer is the `ConversationService`'s business."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections.abc import Callable
from typing import Any

from aiohttp import web
from telegram import BotCommand
from telegram.error import TelegramError

from bot.backoff import Retries
from bot.clock import Clock
from bot.config import Settings
from bot.connectors.telegram import webhook
from bot.connectors.telegram.api import (
    DEFAULT_TIMEOUTS,
    TelegramBot,
    Timeouts,
    make_application,
    make_bot,
)
from bot.connectors.telegram.conversation import PLATFORM, Conversation, Deferrer
from bot.connectors.telegram.feed import ALLOWED_UPDATES, UpdateFeed
from bot.connectors.telegram.pacing import DEFAULT_LIMITS, Pacer
from bot.connectors.telegram.polling import BACKOFF, Poller, describe
from bot.conversation import Capabilities, ConversationService
from bot.store.store import Store
from bot.waiting import Sleep, pause

log = logging.getLogger(__name__)

CAPABILITIES = Capabilities(subscriptions=True, buttons=True)


def bot_commands(service: ConversationService) -> list[BotCommand]:
    """The French command menu shown by Telegram clients (setMyCommands): the service's."""
    return [BotCommand(c.name, c.description) for c in service.commands(PLATFORM)]


def token_of(settings: Settings) -> str:
    if settings.telegram_token is None or not settings.telegram_token.get_secret_value():
        raise ValueError("TNL_TELEGRAM_TOKEN is not set: the Telegram connector cannot start")
    return settings.telegram_token.get_secret_value()


class TelegramConnector:
    def __init__(
        self,
        settings: Settings,
        service: ConversationService,
        store: Store,
        clock: Clock,
        *,
        bot: TelegramBot | None = None,
        sleep: Sleep = asyncio.sleep,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        on_subscribed: Callable[[str], None] | None = None,
        on_deferred: Deferrer | None = None,
        pacer: Pacer | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """`on_subscribed(chat_id)` is told of each new /abonner (the delivery side registers
        the chat's outbox target with it); `on_deferred` takes the replies that Telegram holds
        back for long (see `Conversation`). `pacer`: the one the delivery side uses, so that
        replies and announcements share each chat's windows and the bot's global budget (a
        connector alone paces its replies by itself). `bot`: the account's one Bot API client,
        shared with the delivery side (one is made when none is given). `rng`: the backoff's
        jitter (tests). In webhook mode, mount `routes()` on the web application before it
        starts."""
        self.settings = settings
        self.service = service
        self.sleep = sleep
        self.timeouts = timeouts
        self.bot = bot or make_bot(token_of(settings), settings.telegram_api_url, timeouts)
        self.application = make_application(self.bot)
        service.add_platform(PLATFORM, CAPABILITIES, on_subscribed=on_subscribed)
        self.conversation = Conversation(
            service, pacer=pacer or Pacer(DEFAULT_LIMITS, clock, sleep), on_deferred=on_deferred
        )
        self.conversation.install(self.application)
        self.feed = UpdateFeed(self.application, store, clock)
        self.retries = Retries(BACKOFF, rng)
        self.poller = Poller(
            self.bot,
            self.feed,
            sleep=sleep,
            api_url=settings.telegram_api_url,
            timeouts=timeouts,
            rng=rng,
        )
        self.ready = asyncio.Event()  # connected, commands registered, receiving updates
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        if settings.telegram_mode == "webhook" and not settings.telegram_webhook_url:
            raise ValueError("TNL_TELEGRAM_WEBHOOK_URL is required in webhook mode")
        secret = settings.telegram_webhook_secret
        self._secret = secret.get_secret_value() if secret else secrets.token_urlsafe(32)

    async def start(self) -> TelegramConnector:
        """Start answering in the background; `await connector.stop()` to end."""
        await self.feed.load()
        self._task = asyncio.create_task(self._run(), name="telegram-connector")
        return self

    async def stop(self, grace: float = 10.0) -> None:
        """Stop receiving (a long poll in flight is simply abandoned), then let the updates
        already accepted be answered within `grace` seconds and save the cursor (see `feed`)."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.feed.close(grace)
        with contextlib.suppress(TelegramError, RuntimeError):
            await self.application.shutdown()
        with contextlib.suppress(TelegramError, RuntimeError):
            await self.bot.release()

    async def _run(self) -> None:
        if not await self._connect():
            return
        self.feed.resume()  # what a previous run kept and did not answer
        self.ready.set()
        if self.settings.telegram_mode == "webhook":
            await self._stop.wait()
        else:
            await self.poller.run(self._stop)

    async def _connect(self) -> bool:
        """Until it works or we are stopped: getMe, commands, then the mode's set-up."""
        while not self._stop.is_set():
            try:
                await self.application.initialize()
                await self.bot.set_my_commands(bot_commands(self.service))
                await self._set_up_mode()
            except TelegramError as error:
                delay = self.retries.failed()
                reason = describe(error, self.settings.telegram_api_url)
                log.error("%s; retrying in %.3g s", reason, delay)
                await pause(self.sleep, delay, self._stop)
                continue
            self.retries.succeeded()
            log.info(
                "Telegram connected as @%s (%s mode)",
                self.bot.username,
                self.settings.telegram_mode,
            )
            return True
        return False

    async def _set_up_mode(self) -> None:
        if self.settings.telegram_mode != "webhook":
            await self.bot.delete_webhook()  # getUpdates is refused while a webhook is set
            return
        assert self.settings.telegram_webhook_url is not None  # checked in __init__
        await self.bot.set_webhook(
            self.settings.telegram_webhook_url,
            secret_token=self._secret,
            allowed_updates=ALLOWED_UPDATES,
            max_connections=1,
        )

    def routes(self) -> web.RouteTableDef:
        """The webhook route, to mount on the process's web application (webhook mode)."""
        return webhook.routes(self.feed, self._secret, receiving=lambda: self._task is not None)

    @property
    def stats(self) -> dict[str, Any]:
        return {
            "processed": self.feed.processed,
            "malformed": self.feed.skipped,
            "in_flight": self.feed.pending,  # what a restart now would hand over again
            "replayed": self.feed.replayed,
            "dropped": self.feed.lanes.dropped,
            "flood_ignored": self.service.flood.ignored,
            "poll_failures": self.poller.retries.total,
        }
