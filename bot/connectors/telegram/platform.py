"""Telegram as the runtime sees it: one connector for the bot account, under the contract.

One Bot API client, one pacer: receiving (polling or the webhook route it mounts), replying
and delivering the outbox items of every chat all go through them, so the bot's messages share
one budget as Telegram counts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
from collections.abc import Sequence

from telegram.error import TelegramError

from bot import texts
from bot.connectors.telegram.api import DEFAULT_TIMEOUTS, Timeouts, make_bot
from bot.connectors.telegram.connector import TelegramConnector, token_of
from bot.connectors.telegram.delivery import FAN_OUTS, TelegramDelivery, message_chunks
from bot.connectors.telegram.pacing import TelegramLimits
from bot.connectors.telegram.withdraw import delete_messages
from bot.conversation import Reply
from bot.conversation.connector import Connector, Health, Parts, Preview
from bot.outbox.post import Post
from bot.outbox.target import Target
from bot.waiting import Sleep


class TelegramPlatform:
    name = "telegram"

    def __init__(
        self,
        parts: Parts,
        *,
        sleep: Sleep = asyncio.sleep,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        limits: TelegramLimits | None = None,
    ) -> None:
        """`limits`: Telegram's, the bot's budget being TNL_TELEGRAM_PER_SECOND unless given."""
        settings = parts.settings
        limits = limits or TelegramLimits(per_second=settings.telegram_per_second)
        bot = make_bot(token_of(settings), settings.telegram_api_url, timeouts)
        self.delivery = TelegramDelivery(
            bot,
            parts.store,
            parts.clock,
            channel=settings.telegram_channel,
            limits=limits,
            sleep=sleep,
            deadline=dt.timedelta(hours=settings.outbox_deadline_hours),
            instances=parts.instances,
        )
        self.receiver = TelegramConnector(
            settings,
            parts.service,
            parts.store,
            parts.clock,
            bot=bot,
            sleep=sleep,
            timeouts=timeouts,
            on_subscribed=self.delivery.subscribed,
            on_deferred=self.delivery.defer,
            pacer=self.delivery.pacer,
        )
        if settings.telegram_mode == "webhook":
            parts.mount(self.receiver.routes())
        self._targets: list[Target] = []
        self._worker = parts.worker
        self._started = False
        self._stopped = False

    async def prepare(self) -> TelegramPlatform:
        """Read which chats need a target (subscribers, the channel, pending items), and let
        the worker deliver to chats that appear later: new subscribers, the chats of a
        fan-out, those another instance queued items for."""
        self._targets = await self.delivery.targets()
        self.delivery.attach(self._worker)
        self._worker.add_family(self.delivery.target_named)
        return self

    @property
    def health(self) -> Health:
        if self._stopped:
            return Health.STOPPED
        if not self._started:
            return Health.STANDBY
        if not self.receiver.ready.is_set():
            return Health.DEGRADED if self.receiver.retries.failures else Health.STARTING
        return Health.DEGRADED if self.receiver.poller.retries.failures else Health.UP

    def targets(self) -> Sequence[Target]:
        return self._targets

    async def start(self) -> None:
        self._started = True
        await self.receiver.start()

    def audiences(self) -> Sequence[str]:
        """Everyone (`telegram`: the channel and the subscribers), or the subscribers only."""
        return FAN_OUTS

    async def preview(self, post: Post, audience: str | None = None) -> Preview:
        """Every chat gets the same messages; the audience decides which chats."""
        audience = audience or self.name
        if audience not in FAN_OUTS:
            raise ValueError(f"{audience} is not an audience of {self.name}")
        texts = tuple(html.unescape(chunk) for chunk in message_chunks(post))
        return Preview(audience, texts, len(await self.delivery.recipients(audience)))

    async def resolve(self, handle: str) -> str | None:
        """Telegram identities are configured by numeric user id already."""
        return handle if handle.isdecimal() else None

    async def withdraw(self, target: str, receipt: str, published_at: dt.datetime) -> str:
        """A chat item's messages (`telegram:<chat>`). The fan-out items (`telegram`,
        `telegram:abonnes`) sent nothing themselves: the caller withdraws their chat items,
        each with its receipt."""
        if target in FAN_OUTS:
            return texts.WITHDRAWN_PER_CHAT
        if not target.startswith(f"{self.name}:"):
            raise ValueError(f"{target} is not a target of {self.name}")
        d = self.delivery
        return await delete_messages(d.bot, d.pacer, receipt, d.clock.now() - published_at)

    async def send(self, conversation: str, reply: Reply) -> None:
        chat: int | str = int(conversation) if conversation.lstrip("-").isdigit() else conversation
        await self.receiver.conversation.send(self.receiver.bot, chat, reply)

    async def stop(self, grace: float = 10.0) -> None:
        self._stopped = True
        await self.receiver.stop(grace)
        with contextlib.suppress(TelegramError, RuntimeError):
            await self.delivery.aclose()


async def connectors(parts: Parts) -> Sequence[Connector]:
    """The registry's entry: the bot account when a token is configured."""
    if parts.settings.telegram_token is None:
        return []
    return [await TelegramPlatform(parts).prepare()]
