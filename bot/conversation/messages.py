"""The plain values that cross between connectors and the conversation service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.conversation.identity import Identity
from bot.faq.engine import Answer, Kind, Suggestion


@dataclass(frozen=True)
class Capabilities:
    """What a platform offers, so that no text ever names a command it lacks.

    `pick_hint` is how a user picks a suggestion where there are no buttons (None: buttons)."""

    subscriptions: bool = False  # /abonner and /desabonner
    buttons: bool = False  # suggestions and feedback as buttons under the message
    pick_hint: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (a laureates list), already downloaded by the connector
    within its size limit."""

    name: str
    content: bytes


@dataclass(frozen=True)
class Incoming:
    """One message to the bot.

    `conversation` is where the reply goes (a chat, a thread); messages of one conversation are
    handled in order. `asked_before` is, where the platform can tell it (a Mastodon thread), the
    question of the bot message this one replies to: « 2 » then picks among its suggestions even
    after a restart. `is_admin` answers whether the sender administers the (group) conversation;
    None in private conversations. `private`: only the two of us read it (organiser commands
    are taken only there)."""

    platform: str
    conversation: str
    sender: Identity
    text: str
    asked_before: str | None = None
    is_admin: Callable[[], Awaitable[bool]] | None = None
    private: bool = True  # a private chat or a direct message, not a group or a public thread
    attachment: Attachment | None = None


@dataclass(frozen=True)
class Reply:
    """What to send back. `question` is what was asked (for feedback on this reply).
    `actions`: (label, command) pairs a platform with buttons shows under the message; pressing
    one sends the command (elsewhere the text says which command to type)."""

    text: str
    suggestions: tuple[Suggestion, ...] = field(default=())
    answer: Answer | None = None
    question: str | None = None
    actions: tuple[tuple[str, str], ...] = field(default=())

    @property
    def wants_feedback(self) -> bool:
        """Answers from the corpus, and honest "I don't know"s: the ones whose quality we
        measure."""
        if self.answer is None:
            return False
        return self.answer.matched or self.answer.kind is Kind.FALLBACK
