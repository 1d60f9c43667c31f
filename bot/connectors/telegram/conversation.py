"""The conversation: PTB handlers that turn updates into `Incoming` and `Reply` into messages.

What to answer is the core's business; this module only decides *whether* a message is meant
for the bot (always in private, in groups only when mentioned, replied to, or through a command),
keeps floods out, and owns what is Telegram-only: /abonner, /desabonner and the 👍/👎 buttons.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import unescape
from typing import Any

from telegram import Bot, Chat, Message, MessageEntity, ReplyParameters, Update
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.clock import Clock
from bot.connectors.telegram import render, texts
from bot.connectors.telegram.api import seconds
from bot.connectors.telegram.pacing import Pacer
from bot.conversation.flood import FloodGuard, Verdict
from bot.core import COMMANDS, Core, Incoming, Reply, parse_command
from bot.french import typography
from bot.store.store import Store

log = logging.getLogger(__name__)

PLATFORM = "telegram"
SUBSCRIPTION_COMMANDS = frozenset({"abonner", "desabonner"})
KNOWN_COMMANDS = frozenset({"start", "help"} | {c.name for c in COMMANDS}) | SUBSCRIPTION_COMMANDS
MAX_REPLY_WAIT = 5.0  # a reply delayed longer than this by a 429 goes to the outbox
Deferrer = Callable[[str, str, str], Awaitable[None]]  # (chat, text, key): send it later
Context = ContextTypes.DEFAULT_TYPE


class FloodControl(Exception):
    """Telegram will not take this reply before `wait` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"flood control, retry after {wait:g} s")
        self.wait = wait


@dataclass(frozen=True)
class Asked:
    """What an answer message answered, so that a 👎 can name the question."""

    question: str
    score: float


class Conversation:
    def __init__(
        self,
        core: Core,
        store: Store,
        clock: Clock,
        *,
        flood: FloodGuard,
        pacer: Pacer,
        on_subscribed: Callable[[str], None] | None = None,
        on_deferred: Deferrer | None = None,
    ) -> None:
        """`on_deferred(chat, text, key)` takes a reply Telegram will not accept for a while
        (the outbox delivers it, without its buttons); without it such a reply is dropped."""
        self.core = core
        self.store = store
        self.clock = clock
        self.flood = flood
        self.pacer = pacer
        self.on_subscribed = on_subscribed
        self.on_deferred = on_deferred
        self._asked: collections.OrderedDict[tuple[int, int], Asked] = collections.OrderedDict()

    def install(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        application.add_handler(CallbackQueryHandler(self.on_callback))
        application.add_handler(
            MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, self.on_message)
        )
        application.add_error_handler(self.on_error)

    # Messages ------------------------------------------------------------------------------

    async def on_message(self, update: Update, context: Context) -> None:
        message = update.message
        if message is None or message.text is None or message.from_user is None:
            return
        question = addressed_text(message, context.bot)
        if question is None:
            return
        user = str(message.from_user.id)
        verdict = self.flood.check(user)
        if verdict is Verdict.IGNORE:
            return
        if verdict is Verdict.NOTICE:
            log.info("user %s flooding; ignored for %.0f s", user, self.flood.pause.seconds)
            await self.send(context.bot, message.chat, Reply(self.flood.notice), message)
            return
        incoming = Incoming(PLATFORM, str(message.chat.id), user, question)
        command = parse_command(question)
        if command is not None and command[0] in SUBSCRIPTION_COMMANDS:
            reply = Reply(await self.subscription(context.bot, message, command[0]))
        else:
            reply = self.core.handle(incoming)
            if command is not None and command[0] in ("aide", "help"):
                reply = Reply(reply.text + "\n" + typography(texts.SUBSCRIPTION_HELP))
        sent = await self.send(context.bot, message.chat, reply, message)
        await self._after_answer(reply, question, message.chat.id, sent)

    async def _after_answer(
        self, reply: Reply, question: str, chat_id: int, sent: Message | None
    ) -> None:
        answer = reply.answer
        if answer is None:
            return
        if sent is not None and render.wants_feedback(reply):
            self._remember((chat_id, sent.message_id), Asked(question, answer.score))
        if answer.unanswered:  # the corpus has a gap here
            await self.store.log_unanswered(question, answer.score, self.clock.now(), PLATFORM)

    async def subscription(self, bot: Bot, message: Message, command: str) -> str:
        chat, user = message.chat, message.from_user
        if chat.type != Chat.PRIVATE and user is not None:
            member = await bot.get_chat_member(chat.id, user.id)
            if member.status not in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR):
                return typography(texts.ADMINS_ONLY)
        chat_id, actor = str(chat.id), f"telegram:{user.id if user else '?'}"
        now = self.clock.now()
        if command == "abonner":
            if not await self.store.subscribe(PLATFORM, chat_id, now):
                return typography(texts.ALREADY_SUBSCRIBED)
            await self.store.audit(actor, "telegram.subscribe", now, f"chat {chat_id}")
            if self.on_subscribed is not None:
                self.on_subscribed(chat_id)
            return typography(texts.SUBSCRIBED)
        if not await self.store.unsubscribe(PLATFORM, chat_id):
            return typography(texts.NOT_SUBSCRIBED)
        await self.store.audit(actor, "telegram.unsubscribe", now, f"chat {chat_id}: by command")
        return typography(texts.UNSUBSCRIBED)

    # Buttons -------------------------------------------------------------------------------

    async def on_callback(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        pressed = render.decode(query.data)
        message = query.message if isinstance(query.message, Message) else None
        if pressed is None or message is None:
            await query.answer()
            return
        if self.flood.check(str(query.from_user.id)) is not Verdict.ANSWER:
            await query.answer()
            return
        if pressed.kind == render.SUGGESTION and pressed.entry is not None:
            await self._chosen(query.from_user.id, message, pressed.entry, context.bot)
            await query.answer()
            return
        await self._feedback(query.from_user.id, message, pressed)
        await query.answer(typography(texts.FEEDBACK_THANKS))
        await message.edit_reply_markup(reply_markup=None)  # one vote per answer

    async def _chosen(self, user_id: int, message: Message, entry: str, bot: Bot) -> None:
        """A suggestion picked: the suggestions message becomes the answer, with 👍/👎."""
        incoming = Incoming(PLATFORM, str(message.chat.id), str(user_id), "")
        try:
            reply = self.core.choose(incoming, entry)
        except (StopIteration, KeyError, LookupError):  # forged or outdated button
            reply = Reply(typography(texts.SUGGESTION_GONE))
        chunks = render.message_chunks(reply.text)
        if len(chunks) == 1:
            await message.edit_text(
                chunks[0], parse_mode=ParseMode.HTML, reply_markup=render.keyboard(reply)
            )
            sent: Message | None = message
        else:
            sent = await self.send(bot, message.chat, reply, None)
        if sent is not None and reply.answer is not None:
            self._remember((message.chat.id, sent.message_id), Asked(f"[{entry}]", 100.0))

    async def _feedback(self, user_id: int, message: Message, pressed: render.Callback) -> None:
        """No feedback table in the store: the audit log keeps every vote, and a 👎 joins the
        unanswered questions so that it shows up in `tnl-bot unanswered`."""
        now = self.clock.now()
        positive = pressed.kind == render.FEEDBACK_UP
        asked = self._asked.get((message.chat.id, message.message_id))
        question = asked.question if asked else f"[{pressed.entry or 'sans réponse'}]"
        detail = f"entry={pressed.entry or '-'} chat={message.chat.id} question={question[:200]}"
        action = "telegram.feedback.up" if positive else "telegram.feedback.down"
        await self.store.audit(f"telegram:{user_id}", action, now, detail)
        if not positive:
            await self.store.log_unanswered(question, asked.score if asked else 0.0, now, PLATFORM)

    # Sending -------------------------------------------------------------------------------

    async def send(self, bot: Bot, chat: Chat, reply: Reply, to: Message | None) -> Message | None:
        """Send a reply in as many messages as needed; the keyboard goes under the last one.
        Returns the last message sent, None when Telegram refused."""
        chunks = render.message_chunks(reply.text)
        markup = render.keyboard(reply)
        quoted = to if to is not None and chat.type != Chat.PRIVATE else None
        last: Message | None = None
        for index, chunk in enumerate(chunks):
            final = index == len(chunks) - 1
            try:
                last = await self._send_one(
                    bot,
                    chat.id,
                    chunk,
                    markup if final else None,
                    ReplyParameters(quoted.message_id, allow_sending_without_reply=True)
                    if quoted is not None and index == 0
                    else None,
                )
            except FloodControl as flood:
                await self._defer(chat.id, chunks[index:], to, flood.wait)
                return None
            if last is None:
                return None
        return last

    async def _defer(
        self, chat_id: int, chunks: list[str], to: Message | None, wait: float
    ) -> None:
        """A reply Telegram holds back for long: queued in the outbox (as plain text, keyed by
        the question so that handling the update again does not queue it twice)."""
        if self.on_deferred is None or to is None:
            log.warning("reply to chat %s dropped: flood control (%.3g s)", chat_id, wait)
            return
        text = "\n\n".join(unescape(chunk) for chunk in chunks)
        await self.on_deferred(str(chat_id), text, f"reply:{chat_id}:{to.message_id}")
        log.warning("reply to chat %s queued in the outbox: flood control (%.3g s)", chat_id, wait)

    async def _send_one(
        self,
        bot: Bot,
        chat_id: int,
        text: str,
        markup: Any,
        reply_to: ReplyParameters | None,
    ) -> Message | None:
        for attempt in (1, 2):
            departed = await self.pacer.acquire()
            try:
                return await bot.send_message(
                    chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    reply_parameters=reply_to,
                )
            except RetryAfter as error:
                wait = seconds(error.retry_after)
                self.pacer.throttled(wait, departed)  # the second attempt waits it out there
                if attempt == 2 or wait > MAX_REPLY_WAIT:
                    raise FloodControl(wait) from error
            except Forbidden as error:
                log.info("chat %s refuses our messages: %s", chat_id, error.message)
                return None
            except TelegramError as error:
                log.warning("reply to chat %s failed: %s", chat_id, error.message)
                return None
        return None

    def _remember(self, key: tuple[int, int], asked: Asked) -> None:
        self._asked[key] = asked
        while len(self._asked) > 5_000:
            self._asked.popitem(last=False)

    async def on_error(self, update: object, context: Context) -> None:
        """One line per failed update, never a crash of the bot; the traceback at DEBUG."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else "?"
        log.error("update %s not handled: %s: %s", update_id, type(error).__name__, error)
        log.debug("traceback of update %s", update_id, exc_info=error)


def addressed_text(message: Message, bot: Bot) -> str | None:
    """The text meant for the bot, or None when the message is not for us.

    Private chats: everything. Groups: our commands (bare or `/cmd@us`), a reply to one of our
    messages, or a mention of `@us` (removed from the text before it reaches the core).
    """
    text = message.text or ""
    if message.chat.type == Chat.PRIVATE:
        return text
    username = (bot.username or "").casefold()
    command = parse_command(text)
    if command is not None:
        head = text.strip().split(maxsplit=1)[0]
        target = head.partition("@")[2].casefold()
        ours = command[0] in KNOWN_COMMANDS and target in ("", username)
        return text if ours else None
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return text
    for value in message.parse_entities([MessageEntity.MENTION]).values():
        if value.casefold() == f"@{username}":  # offsets count UTF-16 units: remove by value
            return text.replace(value, "", 1).strip()
    return None
