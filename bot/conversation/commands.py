"""Commands as data: a name, a description, who may run it and what the platform must offer.

Help texts, Telegram's command menu and the dispatch all read the same registry, so a platform
never hears of a command it lacks and a user never sees one their role does not grant.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.conversation.messages import Capabilities, Incoming, Reply

Handler = Callable[[Incoming, str], Awaitable[Reply]]


def parse_command(text: str) -> tuple[str, str] | None:
    """`/faq@tnl_bot la question` → ("faq", "la question"); None when it is not a command."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, rest = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].casefold()
    return (name, rest.strip()) if name.replace("_", "").isalnum() else None


def always(_: Capabilities) -> bool:
    return True


@dataclass(frozen=True)
class Command:
    name: str
    description: str
    run: Handler
    role: str | None = None  # None: everyone
    available: Callable[[Capabilities], bool] = always
    listed: bool = True  # shown in help and menus (/start and /help are not)
    private_only: bool = False  # never in a group or a public thread
