"""From a core `Reply` to Telegram messages: HTML-escaped chunks and inline keyboards.

Telegram refuses a message longer than 4,096 characters (counted in UTF-16 code units, so an
emoji counts twice) and parses HTML entities in `parse_mode=HTML`: corpus and user text must be
escaped, and long texts are split where a reader expects a break (paragraph, then line, then word).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core import Reply

MAX_MESSAGE = 4096
# Callback data is limited to 64 bytes: a one-letter kind and the corpus entry id (≤ 60 chars).
SUGGESTION = "s"
FEEDBACK_UP = "+"
FEEDBACK_DOWN = "-"
NO_ENTRY = "_"  # feedback on an answer that has no corpus entry (the "I don't know" fallback)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Chunks of at most `limit` UTF-16 units, cut at the largest boundary that fits."""
    text = text.strip()
    if utf16_length(text) <= limit:
        return [text] if text else []
    for separator in ("\n\n", "\n", " "):
        parts = text.split(separator)
        if len(parts) > 1:
            return _pack(parts, separator, limit)
    return _hard_cut(text, limit)


def _pack(parts: list[str], separator: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{separator}{part}" if current else part
        if utf16_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        if utf16_length(part) <= limit:
            current = part
        else:  # one paragraph longer than a message: split it at the next smaller boundary
            pieces = split_text(part, limit)
            chunks.extend(pieces[:-1])
            current = pieces[-1] if pieces else ""
    if current.strip():
        chunks.append(current)
    return [chunk.strip() for chunk in chunks if chunk.strip()]


def _hard_cut(text: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        width = utf16_length(char)
        if size + width > limit:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        chunks.append("".join(current))
    return chunks


def escape(text: str) -> str:
    """Escape for parse_mode=HTML: only &, < and > are special outside attributes."""
    return html.escape(text, quote=False)


def message_chunks(text: str) -> list[str]:
    """Plain text → HTML-escaped messages, each within the limit once Telegram parses it."""
    return [escape(chunk) for chunk in split_text(text)]


@dataclass(frozen=True)
class Callback:
    """A button press decoded: a suggestion picked, or feedback on an answer."""

    kind: str  # SUGGESTION | FEEDBACK_UP | FEEDBACK_DOWN
    entry: str | None


def encode(kind: str, entry: str | None) -> str:
    return f"{kind}|{entry or NO_ENTRY}"[:64]


def decode(data: str | None) -> Callback | None:
    """None for anything we did not produce (old buttons, forged data)."""
    if not data or "|" not in data:
        return None
    kind, _, entry = data.partition("|")
    if kind not in (SUGGESTION, FEEDBACK_UP, FEEDBACK_DOWN) or not entry:
        return None
    if kind == SUGGESTION and entry == NO_ENTRY:
        return None
    return Callback(kind, None if entry == NO_ENTRY else entry)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Suggestions (up to 3, one per row) when the core hesitates; 👍/👎 under every FAQ answer."""
    if reply.suggestions:
        rows = [
            [InlineKeyboardButton(_label(s.question), callback_data=encode(SUGGESTION, s.entry))]
            for s in reply.suggestions[:3]
        ]
        return InlineKeyboardMarkup(rows)
    if wants_feedback(reply):
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


def wants_feedback(reply: Reply) -> bool:
    """Answers from the corpus, and honest "I don't know"s: the ones whose quality we measure."""
    if reply.answer is None:
        return False
    return reply.answer.matched or reply.answer.kind.value == "fallback"


def _label(question: str) -> str:
    """Button labels are short in practice; keep them readable on a phone."""
    return question if len(question) <= 60 else question[:59] + "…"
