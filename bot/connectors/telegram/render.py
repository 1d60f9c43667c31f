"""From the service's `Reply` to Telegram messages: HTML-escaped chunks and inline keyboards.

Telegram refuses a message longer than 4,096 characters (counted in UTF-16 code units, so an
emoji counts twice) and parses HTML entities in `parse_mode=HTML`: corpus and user text must be
escaped, and long texts are split where a reader expects a break (see `bot.textsplit`).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import textsplit
from bot.conversation import Reply

MAX_MESSAGE = 4096
# Callback data is limited to 64 bytes: a one-letter kind and the corpus entry id (≤ 60 chars).
SUGGESTION = "s"
COMMAND = "c"  # a button standing for a command the user could type (« Confirmer »)
FEEDBACK_UP = "+"
FEEDBACK_DOWN = "-"
NO_ENTRY = "_"  # feedback on an answer that has no corpus entry (the "I don't know" fallback)


def escape(text: str) -> str:
    """Escape for parse_mode=HTML: only &, < and > are special outside attributes."""
    return html.escape(text, quote=False)


_ENTITY = re.compile(r"&#?\w+;")  # what `escape` writes, and numeric references


def split_text(html_text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Escaped text in chunks of at most `limit` UTF-16 units, never cut inside an entity.

    Measuring the escaped form errs on the safe side: Telegram counts the text once parsed.
    """
    return textsplit.split(html_text, limit, textsplit.utf16_length, unbreakable=_ENTITY)


def message_chunks(text: str) -> list[str]:
    """Plain text → HTML-escaped messages, each within the limit once Telegram parses it."""
    return split_text(escape(text))


@dataclass(frozen=True)
class Callback:
    """A button press decoded: a suggestion picked, or feedback on an answer."""

    kind: str  # SUGGESTION | FEEDBACK_UP | FEEDBACK_DOWN | COMMAND
    entry: str | None  # the corpus entry, or the command (COMMAND)


def encode(kind: str, entry: str | None) -> str:
    return f"{kind}|{entry or NO_ENTRY}"[:64]


def decode(data: str | None) -> Callback | None:
    """None for anything we did not produce (old buttons, forged data)."""
    if not data or "|" not in data:
        return None
    kind, _, entry = data.partition("|")
    if kind not in (SUGGESTION, FEEDBACK_UP, FEEDBACK_DOWN, COMMAND) or not entry:
        return None
    if kind in (SUGGESTION, COMMAND) and entry == NO_ENTRY:
        return None
    if kind == COMMAND and not entry.startswith("/"):
        return None
    return Callback(kind, None if entry == NO_ENTRY else entry)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Suggestions (up to 3, one per row) when the engine hesitates; 👍/👎 under the answers
    whose quality we measure (`Reply.wants_feedback`); the reply's actions in one row."""
    if reply.actions:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(label, callback_data=encode(COMMAND, command))
                    for label, command in reply.actions
                ]
            ]
        )
    if reply.suggestions:
        rows = [
            [InlineKeyboardButton(_label(s.question), callback_data=encode(SUGGESTION, s.entry))]
            for s in reply.suggestions[:3]
        ]
        return InlineKeyboardMarkup(rows)
    if reply.wants_feedback:
        entry = reply.answer.entry if reply.answer else None
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("👍", callback_data=encode(FEEDBACK_UP, entry)),
                    InlineKeyboardButton("👎", callback_data=encode(FEEDBACK_DOWN, entry)),
                ]
            ]
        )
    return None


def _label(question: str) -> str:
    """Button labels are short in practice; keep them readable on a phone."""
    return question if len(question) <= 60 else question[:59] + "…"
