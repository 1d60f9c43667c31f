"""The fake Bot API's flood control and JSON shapes, kept apart from its HTTP routes.

Telegram documents ≤ 30 messages/s overall, ≤ 1/s per chat and ≤ 20/min per group; the fake
enforces the three as sliding windows on an injectable clock and answers a send beyond them with
a genuine 429 whose `parameters.retry_after` says when the window frees. `scale` divides every
window (×10: 300/s overall, 10/s per chat, 200/min per group) so tests run ten times faster; the
retry-after is then scaled too, so it may be fractional (the real API sends whole seconds).
"""

from __future__ import annotations

import collections
import datetime as dt
import html
import math
import re
from dataclasses import dataclass
from typing import Any, Protocol

Json = dict[str, Any]
BOT_USER: Json = {
    "id": 4242,
    "is_bot": True,
    "first_name": "TNL",
    "username": "tnl_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
ALLOWED_TAGS = re.compile(r"</?(b|strong|i|em|u|ins|s|strike|del|code|pre|tg-spoiler)>|</?a[^>]*>")
ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class RealClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Limits:
    per_second: int = 30
    per_chat_per_second: int = 1
    per_group_per_minute: int = 20
    scale: float = 1.0

    def windows(self, chat_id: int | str) -> list[tuple[str, int, float]]:
        """(window key, count, seconds) that a send to this chat must fit in."""
        windows = [
            ("*", self.per_second, 1 / self.scale),
            (f"chat:{chat_id}", self.per_chat_per_second, 1 / self.scale),
        ]
        if is_group(chat_id):
            windows.append((f"group:{chat_id}", self.per_group_per_minute, 60 / self.scale))
        return windows


class FloodControl:
    """Sliding windows of accepted sends; a refused send does not count (it was not sent)."""

    def __init__(self, limits: Limits, clock: Clock) -> None:
        self.limits = limits
        self.clock = clock
        self.enabled = True
        self._sent: dict[str, collections.deque[dt.datetime]] = collections.defaultdict(
            collections.deque
        )

    def admit(self, chat_id: int | str) -> float | None:
        """None when the send may go (and it is counted), else the retry-after in seconds."""
        if not self.enabled:
            return None
        now = self.clock.now()
        wait = 0.0
        windows = self.limits.windows(chat_id)
        for key, count, seconds in windows:
            sent = self._sent[key]
            while sent and (now - sent[0]).total_seconds() >= seconds:
                sent.popleft()
            if len(sent) >= count:
                wait = max(wait, seconds - (now - sent[0]).total_seconds())
        if wait > 0:
            scale = self.limits.scale
            return math.ceil(wait * scale) / scale if scale != 1 else float(math.ceil(wait))
        for key, _, _ in windows:
            self._sent[key].append(now)
        return None


def is_group(chat_id: int | str) -> bool:
    return isinstance(chat_id, str) or chat_id < 0


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str | None:
    """The visible text of an HTML-mode message, or None when Telegram would refuse to parse it
    (a bare `<` or `&` means the sender forgot to escape)."""
    stripped = ALLOWED_TAGS.sub("", text)
    without_entities = ENTITY.sub("", stripped)
    if "<" in without_entities or ">" in without_entities or "&" in without_entities:
        return None
    return html.unescape(stripped)


def text_problem(visible: str | None) -> str | None:
    """Why Telegram would refuse this message text, if it would."""
    if visible is None:
        return "can't parse entities"
    if not visible.strip():
        return "message text is empty"
    if utf16_length(visible) > 4096:
        return "message is too long"
    return None


def chat(chat_id: int | str) -> Json:
    if isinstance(chat_id, str):  # "@channel"
        return {"id": -1_009_999_000_000, "type": "channel", "username": chat_id.lstrip("@")}
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"Contact {chat_id}"}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": f"Groupe {chat_id}"}


def user(user_id: int) -> Json:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": f"Contact {user_id}",
        "language_code": "fr",
    }


def error(code: int, description: str, **parameters: Any) -> Json:
    body: Json = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def mentions(text: str, username: str) -> list[Json]:
    """The `mention` entities Telegram would attach, with offsets in UTF-16 code units."""
    found = []
    for match in re.finditer(rf"@{re.escape(username)}\b", text):
        offset = utf16_length(text[: match.start()])
        found.append({"type": "mention", "offset": offset, "length": utf16_length(match.group())})
    return found


def command_entity(text: str) -> list[Json]:
    match = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(match.group())}]
