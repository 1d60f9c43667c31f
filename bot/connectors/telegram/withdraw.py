"""Withdrawing a post from a Telegram chat: deleting its messages, within Telegram's 48 hours.

A chat item's receipt names the chat and every message the post was sent as (a long text is
cut in several): `<chat>:<id1>,<id2>`. Receipts written before this format held only the last
message, `<chat>:<id>`, and read the same way. A bot may delete its own messages for 48 hours
after sending them (`deleteMessage`); an older post is reported as such, without asking. The
fan-out target `telegram` published nothing itself (its receipt counts chats): its chat items
are withdrawn one by one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import texts
from bot.connectors.telegram.api import TelegramBot, seconds
from bot.connectors.telegram.pacing import Pacer
from bot.outbox.target import RetryableError

MAX_AGE = dt.timedelta(hours=48)
GONE = "message to delete not found"  # Telegram's 400 for a message deleted already


def chat_receipt(chat: int, message_ids: Sequence[int]) -> str:
    """What the outbox records for a post sent to `chat` as `message_ids`, in order."""
    return f"{chat}:{','.join(str(message_id) for message_id in message_ids)}"


def receipt_messages(receipt: str) -> tuple[int, list[int]]:
    """The chat and message ids of a chat item's receipt (either format)."""
    chat, _, ids = receipt.strip().rpartition(":")
    return int(chat), [int(message_id) for message_id in ids.split(",") if message_id]


async def delete_messages(bot: TelegramBot, pacer: Pacer, receipt: str, age: dt.timedelta) -> str:
    """The outcome for the organiser. The last message goes first, so that an interrupted
    withdrawal leaves the beginning of the text. Deleting is not a message: it spends the
    bot's overall budget in the pacer, not the chat's. Raises `RetryableError` for a 429 or a
    network failure (deleting twice is harmless: the second finds nothing)."""
    if age >= MAX_AGE:
        return texts.TOO_OLD_TO_WITHDRAW
    chat, message_ids = receipt_messages(receipt)
    deleted = 0
    for message_id in reversed(message_ids):
        await pacer.acquire()
        try:
            await bot.delete_message(chat, message_id)
        except BadRequest as error:
            if GONE in error.message.casefold():
                continue
            return texts.WITHDRAW_REFUSED.format(platform="Telegram", reason=error.message)
        except Forbidden as error:  # the bot left the chat, or was blocked
            return texts.WITHDRAW_REFUSED.format(platform="Telegram", reason=error.message)
        except RetryAfter as error:
            wait = seconds(error.retry_after)
            raise RetryableError(f"429 flood control, retry after {wait:g} s", wait) from error
        except TelegramError as error:  # network, 5xx, 401: another try can help
            raise RetryableError(f"{type(error).__name__}: {error.message}") from error
        deleted += 1
    return texts.WITHDRAWN if deleted else texts.ALREADY_WITHDRAWN
