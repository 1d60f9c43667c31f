"""Outbox targets for Telegram: one per chat, plus two fan-out targets for producers.

Producers (scheduler, organiser broadcasts) enqueue to the single target `telegram`. Publishing
it fans out (`Outbox.fan_out`), under the same key and with the same due time and deadline, one
item per chat: the configured channel and every current subscriber (`telegram:<chat id>`).
`telegram:abonnes` fans out the same way to the subscribers only (`/diffuser abonnes …`: what
the public channel should not carry); no chat id is written so, ids being numbers or `@names`.
Enqueueing is idempotent by (key, target), so a crash in the middle of a fan-out is resumed
without doubling; each chat's item then has its own state, retries and receipt, which is what
`tnl-bot outbox list` shows as the broadcast's progress.

`sendMessage` has no idempotency key: a send that timed out may have arrived. The chat target
raises `InDoubtError`: the outbox retries it (a rare duplicate beats a loss), records the attempt
as `in_doubt` (with the chat in the item's target and the error in its detail) and counts them
per broadcast in `tnl-bot outbox list`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.clock import Clock
from bot.config import Settings
from bot.connectors.telegram import render
from bot.connectors.telegram.api import DEFAULT_TIMEOUTS, TelegramBot, Timeouts, make_bot, seconds
from bot.connectors.telegram.connector import token_of
from bot.connectors.telegram.pacing import DEFAULT_LIMITS, Pacer, TelegramLimits
from bot.connectors.telegram.request import may_have_arrived
from bot.connectors.telegram.withdraw import chat_receipt
from bot.outbox.post import Post
from bot.outbox.queue import DEFAULT_DEADLINE, Outbox
from bot.outbox.target import (
    InDoubtError,
    PermanentError,
    RateLimit,
    Receipt,
    RetryableError,
    Target,
)
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store
from bot.waiting import Sleep

log = logging.getLogger(__name__)

PLATFORM = "telegram"
BROADCAST = "telegram"
PREFIX = "telegram:"
SUBSCRIBERS = "telegram:abonnes"  # the subscribers without the channel
FAN_OUTS = (BROADCAST, SUBSCRIBERS)
ENQUEUE_CHUNK = 500  # rows per INSERT: SQLite caps the number of bound parameters


@dataclass
class DeliveryStats:
    """Counters since start; in-doubt attempts are in the outbox, unsubscriptions in the audit
    log."""

    sent: int = 0
    rate_limited: int = 0  # 429s received
    blocked: int = 0  # 403: unsubscribed
    migrated: int = 0
    in_doubt: int = 0  # timed out after the request left: may have arrived
    failed: int = 0
    fanned_out: dict[str, int] = field(default_factory=dict)  # key → chats


def message_chunks(post: Post) -> list[str]:
    """The HTML messages a post is sent as, in every chat (previews show them unescaped): each
    of its parts, or its text, cut where Telegram's limit requires."""
    texts = post.parts or (post.text,)
    if post.content_warning:
        texts = (f"{post.content_warning}\n\n{texts[0]}", *texts[1:])
    return [chunk for text in texts for chunk in render.message_chunks(text)]


def chat_of(target_name: str) -> str:
    return target_name.removeprefix(PREFIX)


class ChatTarget:
    """One Telegram chat (a subscriber, a group, the channel). Publishes once per call."""

    idempotent = False

    def __init__(self, chat: str, delivery: TelegramDelivery) -> None:
        self.chat = chat
        self.name = PREFIX + chat
        self.delivery = delivery
        self.limits: tuple[RateLimit, ...] = delivery.limits.for_chat(chat)

    async def publish(self, post: Post, key: str) -> Receipt:
        """The receipt names every message of the post, so that all can be withdrawn."""
        chat = 0
        message_ids: list[int] = []
        for chunk in message_chunks(post):
            sent_to, message_id = await self._send(chunk, key)
            if sent_to != chat:  # a group migrated under us: its old messages are out of reach
                chat, message_ids = sent_to, []
            message_ids.append(message_id)
        self.delivery.stats.sent += 1
        return Receipt(chat_receipt(chat, message_ids))

    async def _send(self, text: str, key: str) -> tuple[int, int]:
        d = self.delivery
        departed = await d.pacer.acquire(self.chat)
        chat_id = int(self.chat) if self.chat.lstrip("-").isdigit() else self.chat
        try:
            chat, message_id = await d.bot.send_raw(chat_id, text)
        except RetryAfter as error:
            wait = seconds(error.retry_after)
            d.stats.rate_limited += 1
            d.pacer.throttled(wait, departed, self.chat)
            raise RetryableError(f"429 flood control, retry after {wait:g} s", wait) from error
        except Forbidden as error:
            d.stats.blocked += 1
            await d.forget(self.chat, f"403 {error.message}")
            raise PermanentError(f"403 {error.message}; unsubscribed") from error
        except ChatMigrated as error:
            d.stats.migrated += 1
            await d.migrate(self.chat, str(error.new_chat_id))
            self.chat = str(error.new_chat_id)  # the item keeps its name; the chat follows
            return await self._send(text, key)
        except BadRequest as error:
            if "chat not found" in error.message.casefold():  # the chat was deleted
                await d.forget(self.chat, f"400 {error.message}")
            raise PermanentError(f"400 {error.message}") from error
        except (TimedOut, NetworkError) as error:
            raise d.doubt(self.chat, error) from error
        except TelegramError as error:  # 401 (token revoked) and the like: worth another try
            raise RetryableError(f"{type(error).__name__}: {error.message}") from error
        return chat, message_id


class BroadcastTarget:
    """`telegram` (the channel and the subscribers) or `telegram:abonnes` (the subscribers
    only): expands a post into one outbox item per chat, under the same key."""

    idempotent = True  # enqueueing twice under one key is a no-op
    limits: tuple[RateLimit, ...] = ()

    def __init__(self, delivery: TelegramDelivery, name: str = BROADCAST) -> None:
        self.delivery = delivery
        self.name = name

    async def publish(self, post: Post, key: str) -> Receipt:
        """Fan out the item being published (this target's item of `key`, which carries `post`):
        every chat's copy keeps its due time and deadline."""
        d = self.delivery
        parent = await d.outbox.find(key, self.name)
        if parent is None:  # only the worker publishes, and only items it claimed
            raise PermanentError(f"no outbox item {key} → {self.name} to fan out")
        chats = await d.recipients(self.name)
        now = d.clock.now()
        for start in range(0, len(chats), ENQUEUE_CHUNK):
            names = [PREFIX + chat for chat in chats[start : start + ENQUEUE_CHUNK]]
            await d.outbox.fan_out(parent, names, now)
        for chat in chats:
            d.target(chat)
        d.stats.fanned_out[key] = len(chats)
        log.info("broadcast %s fanned out to %d Telegram chats", key, len(chats))
        if d.on_new_items is not None:
            d.on_new_items()
        return Receipt(f"{len(chats)} chats")


class TelegramDelivery:
    """The factory and shared state of the Telegram targets (bot, pacer, counters)."""

    def __init__(
        self,
        bot: TelegramBot,
        store: Store,
        clock: Clock,
        *,
        channel: str | None = None,
        limits: TelegramLimits = DEFAULT_LIMITS,
        sleep: Sleep = asyncio.sleep,
        deadline: dt.timedelta = DEFAULT_DEADLINE,
        instances: Callable[[], int] = lambda: 1,
    ) -> None:
        """`deadline`: how long a deferred reply is retried (TNL_OUTBOX_DEADLINE_HOURS);
        `instances`: how many instances share the bot's budget now (`Pacer`)."""
        self.bot = bot
        self.store = store
        self.outbox = Outbox(store, deadline)
        self.clock = clock
        self.channel = channel
        self.limits = limits
        self.pacer = Pacer(limits, clock, sleep, instances)
        self.stats = DeliveryStats()
        self.on_new_target: Callable[[Target], object] | None = None
        self.on_new_items: Callable[[], None] | None = None
        self._chats: dict[str, ChatTarget] = {}

    async def targets(self) -> list[Target]:
        """Everything the outbox worker needs now: the fan-out target, the channel, every
        subscriber, and chats that still have items (unsubscribed since, migrated…). Only
        unfinished items are read, through an index: start-up does not grow with history."""
        chats = await self.recipients()
        pending = await self.outbox.pending_targets(PREFIX)
        chats += [chat_of(name) for name in pending if name not in FAN_OUTS]
        fan_outs = [BroadcastTarget(self, name) for name in FAN_OUTS]
        return [*fan_outs, *(self.target(chat) for chat in dict.fromkeys(chats))]

    def attach(self, worker: DeliveryWorker) -> None:
        """Let `worker` deliver to chats that appear after it was built (new subscribers, the
        chats of a fan-out) and wake it when a fan-out queued items."""
        self.on_new_target = worker.add_target
        self.on_new_items = worker.wake
        for target in self._chats.values():
            worker.add_target(target)

    async def aclose(self) -> None:
        await self.bot.release()

    def target(self, chat: str) -> ChatTarget:
        """The chat's target, created (and announced to the worker) on first use."""
        existing = self._chats.get(chat)
        if existing is None:
            existing = self._chats[chat] = ChatTarget(chat, self)
            if self.on_new_target is not None:
                self.on_new_target(existing)
        return existing

    def target_named(self, name: str) -> Target | None:
        """The chat target of an outbox target name (`telegram:<chat>`); None for the names
        of other platforms and for the fan-outs (targets of their own)."""
        if not name.startswith(PREFIX) or name in FAN_OUTS:
            return None
        return self.target(chat_of(name))

    async def defer(self, chat: str, text: str, key: str) -> None:
        """A conversation reply Telegram holds back for long: the chat's outbox target delivers
        it once Telegram allows (the worker and the pacer wait out the 429)."""
        await self.outbox.enqueue(Post(text), [PREFIX + chat], key, self.clock.now())
        self.target(chat)
        if self.on_new_items is not None:
            self.on_new_items()

    def subscribed(self, chat: str) -> None:
        """A new /abonner: its target exists before the next broadcast reaches it."""
        self.target(chat)

    async def recipients(self, fan_out: str = BROADCAST) -> list[str]:
        """The chats a fan-out target reaches now: `telegram:abonnes` leaves the channel out."""
        chats = [self.channel] if self.channel and fan_out == BROADCAST else []
        return list(dict.fromkeys(chats + await self.store.subscribers(PLATFORM)))

    async def forget(self, chat: str, reason: str) -> None:
        """The chat refuses our messages (blocked, deactivated, kicked): stop writing to it."""
        removed = await self.store.unsubscribe(PLATFORM, chat)
        detail = f"chat {chat}: {reason}" + ("" if removed else " (was not subscribed)")
        await self.store.audit("telegram", "telegram.unsubscribe", self.clock.now(), detail)
        log.info("Telegram chat %s unsubscribed: %s", chat, reason)

    async def migrate(self, old: str, new: str) -> None:
        """A group became a supergroup: its subscription follows the new id."""
        now = self.clock.now()
        if await self.store.unsubscribe(PLATFORM, old):
            await self.store.subscribe(PLATFORM, new, now)
        await self.store.audit("telegram", "telegram.migrated", now, f"chat {old} → {new}")
        log.info("Telegram group %s migrated to supergroup %s", old, new)

    def doubt(self, chat: str, error: TelegramError) -> RetryableError:
        """A network error is in doubt only if the request may have reached Telegram: a refused
        connection or an exhausted pool sent nothing, an HTTP 5xx answer said it was not
        processed (see `may_have_arrived`)."""
        if not may_have_arrived(error):
            return RetryableError(f"not sent: {type(error).__name__} {error.message}")
        self.stats.in_doubt += 1
        return InDoubtError(
            f"in doubt: {type(error).__name__} {error.message} in chat {chat}, may have arrived"
        )


def delivery(
    settings: Settings,
    store: Store,
    clock: Clock,
    *,
    sleep: Sleep = asyncio.sleep,
    limits: TelegramLimits = DEFAULT_LIMITS,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
) -> TelegramDelivery:
    """The Telegram side of the outbox. `await delivery.targets()` for the worker; producers
    enqueue to the target named `telegram`."""
    bot = make_bot(token_of(settings), settings.telegram_api_url, timeouts)
    return TelegramDelivery(
        bot,
        store,
        clock,
        channel=settings.telegram_channel,
        limits=limits,
        sleep=sleep,
        deadline=dt.timedelta(hours=settings.outbox_deadline_hours),
    )


async def progress(outbox: Outbox, key: str) -> dict[str, int]:
    """sent / pending / failed… of one broadcast's chat items."""
    counts: dict[str, int] = {}
    for item in await outbox.items(key=key):
        if item.target.startswith(PREFIX) and item.target not in FAN_OUTS:
            counts[item.state.value] = counts.get(item.state.value, 0) + 1
    return counts
