"""The conversation on Telegram: PTB handlers that turn updates into `Incoming` values for the
`ConversationService` and its `Reply` values into messages.

What to answer, which commands exist, who may run them, floods, feedback and subscriptions are
the service's business. This module only decides *whether* a message is meant for the bot
(always in private; in groups when mentioned, replied to, or through one of our commands), says
how to ask Telegram whether a sender administers a group, and sends: HTML chunks with their
buttons, each through the pacer with its chat. Documents (an organiser's laureates file) are
taken in private chats only, up to `MAX_FILE`, downloaded and handed over with their caption.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from html import unescape
from typing import Any

from telegram import Bot, Chat, Document, Message, MessageEntity, ReplyParameters, Update, User
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot import texts
from bot.connectors.telegram import render
from bot.connectors.telegram.api import seconds
from bot.connectors.telegram.pacing import Pacer
from bot.conversation import Attachment, ConversationService, Identity, Incoming, Reply
from bot.conversation.commands import parse_command
from bot.french import typography

log = logging.getLogger(__name__)

PLATFORM = "telegram"
MAX_REPLY_WAIT = 5.0  # a reply delayed longer than this by a 429 goes to the outbox
Deferrer = Callable[[str, str, str], Awaitable[None]]  # (chat, text, key): send it later
Context = ContextTypes.DEFAULT_TYPE
# A laureates list is a few kilobytes; refusing more before downloading keeps a stray video
# from filling the memory (Telegram would let a bot download up to 20 MB).
MAX_FILE = 1024 * 1024


class FloodControl(Exception):
    """Telegram will not take this reply before `wait` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"flood control, retry after {wait:g} s")
        self.wait = wait


class Conversation:
    def __init__(
        self, service: ConversationService, *, pacer: Pacer, on_deferred: Deferrer | None = None
    ) -> None:
        """`on_deferred(chat, text, key)` takes a reply Telegram will not accept for a while
        (the outbox delivers it, without its buttons); without it such a reply is dropped."""
        self.service = service
        self.pacer = pacer
        self.on_deferred = on_deferred

    def install(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        application.add_handler(CallbackQueryHandler(self.on_callback))
        application.add_handler(
            MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, self.on_message)
        )
        application.add_handler(
            MessageHandler(
                filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.Document.ALL,
                self.on_document,
            )
        )
        application.add_error_handler(self.on_error)

    async def on_message(self, update: Update, context: Context) -> None:
        message = update.message
        if message is None or message.text is None or message.from_user is None:
            return
        text = addressed_text(message, context.bot, self.menu())
        if text is None:
            return
        incoming = incoming_from(context.bot, message.chat, message.from_user, text)
        reply = await self.service.handle(incoming)
        if reply is not None:
            await self.send(
                context.bot,
                message.chat.id,
                reply,
                incoming=incoming,
                to=message,
                quote=message.chat.type != Chat.PRIVATE,
            )

    async def on_document(self, update: Update, context: Context) -> None:
        """A file in a private chat, its caption as the text (`/laureats 2025`, or nothing when
        the command came just before): the service decides what it is for."""
        message = update.message
        if message is None or message.document is None or message.from_user is None:
            return
        document = message.document
        if (document.file_size or 0) > MAX_FILE:
            await self.send(context.bot, message.chat.id, Reply(too_large(document.file_size)))
            return
        try:
            attachment = await download(context.bot, document)
        except TelegramError as error:  # a network error, getFile's refusal, a 5xx…
            log.warning(
                "document %r from Telegram user %s not downloaded: %s: %s",
                document.file_name,
                message.from_user.id,
                type(error).__name__,
                error,
            )
            name = document.file_name or document.file_unique_id
            unavailable = texts.FILE_UNAVAILABLE.format(name=name)
            await self.send(context.bot, message.chat.id, Reply(typography(unavailable)))
            return
        if len(attachment.content) > MAX_FILE:  # Telegram did not say the size beforehand
            await self.send(context.bot, message.chat.id, Reply(too_large(len(attachment.content))))
            return
        incoming = incoming_from(
            context.bot, message.chat, message.from_user, message.caption or "", attachment
        )
        reply = await self.service.handle(incoming)
        if reply is not None:
            await self.send(context.bot, message.chat.id, reply, incoming=incoming, to=message)

    async def on_callback(self, update: Update, context: Context) -> None:
        """A button: a suggestion picked, or 👍/👎 under an answer."""
        query = update.callback_query
        if query is None:
            return
        pressed = render.decode(query.data)
        message = query.message if isinstance(query.message, Message) else None
        if pressed is None or message is None:
            await query.answer()
            return
        if pressed.kind == render.COMMAND and pressed.entry is not None:
            await query.answer()
            await self._command(context.bot, message, query.from_user, pressed.entry)
            return
        incoming = incoming_from(context.bot, message.chat, query.from_user, "")
        if pressed.kind == render.SUGGESTION and pressed.entry is not None:
            reply = await self.service.choose(incoming, pressed.entry)
            if reply is not None:
                await self._show_choice(context.bot, incoming, message, reply)
            await query.answer()
            return
        positive = pressed.kind == render.FEEDBACK_UP
        thanks = await self.service.feedback(incoming, str(message.message_id), positive)
        await query.answer(thanks)
        if thanks is not None:
            await message.edit_reply_markup(reply_markup=None)  # one vote per answer

    async def _command(self, bot: Bot, message: Message, presser: User, command: str) -> None:
        """A button standing for a command: as if the presser had typed it (authorisation
        included: the service checks who pressed, not who the message was for); the buttons
        go, so that a preview is confirmed once."""
        incoming = incoming_from(bot, message.chat, presser, command)
        reply = await self.service.handle(incoming)
        with contextlib.suppress(TelegramError):
            await message.edit_reply_markup(reply_markup=None)
        if reply is not None:
            await self.send(bot, message.chat.id, reply, incoming=incoming)

    async def _show_choice(
        self, bot: Bot, incoming: Incoming, message: Message, reply: Reply
    ) -> None:
        """The suggestions message becomes the answer (with 👍/👎) when it fits in one."""
        chunks = render.message_chunks(reply.text)
        if len(chunks) > 1:
            await self.send(bot, message.chat.id, reply, incoming=incoming)
            return
        await message.edit_text(
            chunks[0], parse_mode=ParseMode.HTML, reply_markup=render.keyboard(reply)
        )
        self.service.sent(incoming, str(message.message_id), reply)

    def menu(self) -> frozenset[str]:
        return frozenset(command.name for command in self.service.commands(PLATFORM))

    # Sending -------------------------------------------------------------------------------

    async def send(
        self,
        bot: Bot,
        chat_id: int | str,
        reply: Reply,
        *,
        incoming: Incoming | None = None,
        to: Message | None = None,
        quote: bool = False,
    ) -> None:
        """Send a reply in as many messages as needed, the keyboard under the last one. `to`
        is the question (quoted when `quote`, in groups); with `incoming`, the service learns
        which message carries the reply (feedback on it names the question)."""
        chunks = render.message_chunks(reply.text)
        markup = render.keyboard(reply)
        quoted = to if to is not None and quote else None
        last: Message | None = None
        for index, chunk in enumerate(chunks):
            final = index == len(chunks) - 1
            try:
                last = await self._send_one(
                    bot,
                    chat_id,
                    chunk,
                    markup if final else None,
                    ReplyParameters(quoted.message_id, allow_sending_without_reply=True)
                    if quoted is not None and index == 0
                    else None,
                )
            except FloodControl as flood:
                await self._defer(chat_id, chunks[index:], to, flood.wait)
                return
            if last is None:
                return
        if last is not None and incoming is not None:
            self.service.sent(incoming, str(last.message_id), reply)

    async def _defer(
        self, chat_id: int | str, chunks: list[str], to: Message | None, wait: float
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
        chat_id: int | str,
        text: str,
        markup: Any,
        reply_to: ReplyParameters | None,
    ) -> Message | None:
        chat = str(chat_id)
        for attempt in (1, 2):
            departed = await self.pacer.acquire(chat)
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
                self.pacer.throttled(wait, departed, chat)  # the second attempt waits it out
                if attempt == 2 or wait > MAX_REPLY_WAIT:
                    raise FloodControl(wait) from error
            except Forbidden as error:
                log.info("chat %s refuses our messages: %s", chat_id, error.message)
                return None
            except TelegramError as error:
                log.warning("reply to chat %s failed: %s", chat_id, error.message)
                return None
        return None

    async def on_error(self, update: object, context: Context) -> None:
        """One line per failed update, never a crash of the bot; the traceback at DEBUG."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else "?"
        log.error("update %s not handled: %s: %s", update_id, type(error).__name__, error)
        log.debug("traceback of update %s", update_id, exc_info=error)


async def download(bot: Bot, document: Document) -> Attachment:
    """getFile, then the file's URL, through the bot's own HTTP client."""
    file = await bot.get_file(document.file_id)
    content = await file.download_as_bytearray()
    return Attachment(document.file_name or file.file_unique_id, bytes(content))


def too_large(size: int | None) -> str:
    return typography(texts.FILE_TOO_LARGE.format(size=_mebibytes(size or 0), limit="1\u00a0Mio"))


def _mebibytes(size: int) -> str:
    """French notation, rounded up (a file just over the limit is not « 1,0 Mio »)."""
    tenths = math.ceil(size * 10 / MAX_FILE)
    return f"{tenths // 10},{tenths % 10}\u00a0Mio"


def incoming_from(
    bot: Bot, chat: Chat, sender: User, text: str, attachment: Attachment | None = None
) -> Incoming:
    """The service's view of a message: the chat is the conversation, the stable user id the
    identity; in a group, whether the sender administers it is asked of Telegram if needed."""
    is_admin: Callable[[], Awaitable[bool]] | None = None
    if chat.type != Chat.PRIVATE:

        async def administers() -> bool:
            member = await bot.get_chat_member(chat.id, sender.id)
            return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)

        is_admin = administers
    return Incoming(
        PLATFORM,
        str(chat.id),
        Identity(PLATFORM, str(sender.id)),
        text,
        is_admin=is_admin,
        private=chat.type == Chat.PRIVATE,
        attachment=attachment,
    )


def addressed_text(message: Message, bot: Bot, menu: frozenset[str]) -> str | None:
    """The text meant for the bot, or None when the message is not for us.

    Private chats: everything. Groups: `/cmd@us`, a bare command of our menu (other bots in the
    group have their own /start and /help), a reply to one of our messages, or a mention of
    `@us` (removed from the text before it reaches the service).
    """
    text = message.text or ""
    if message.chat.type == Chat.PRIVATE:
        return text
    username = (bot.username or "").casefold()
    command = parse_command(text)
    if command is not None:
        head = text.strip().split(maxsplit=1)[0]
        target = head.partition("@")[2].casefold()
        ours = target == username or (not target and command[0] in menu)
        return text if ours else None
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return text
    for value in message.parse_entities([MessageEntity.MENTION]).values():
        if value.casefold() == f"@{username}":  # offsets count UTF-16 units: remove by value
            return text.replace(value, "", 1).strip()
    return None
