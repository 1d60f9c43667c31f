"""The contract every connector keeps, so that the runtime assembles them all the same way.

A connector translates between one platform (or one account of it) and the conversation service:
it receives the platform's messages and hands them to the service, sends the replies back,
provides the outbox targets through which announcements and broadcasts reach that platform (its
audiences, each with its own preview, are those organisers may choose among), and says how it is
doing. Adding a platform (Matrix, a web chat) is writing one of these and one
line in the runtime's registry; nothing else learns of it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot.clock import Clock
from bot.config import Settings
from bot.conversation.messages import Reply
from bot.conversation.service import ConversationService
from bot.outbox.post import Post
from bot.outbox.queue import Outbox
from bot.outbox.target import Target
from bot.outbox.worker import DeliveryWorker
from bot.store.store import Store


@dataclass(frozen=True)
class Preview:
    """What a post becomes on one target, exactly as readers will see it: one text per message
    (Telegram) or status of the thread (Mastodon), and how many will receive it (chats;
    followers; None when the platform does not say)."""

    target: str
    texts: tuple[str, ...]
    recipients: int | None


class Health(enum.Enum):
    STARTING = "starting"  # connecting for the first time
    UP = "up"  # receiving and able to send
    DEGRADED = "degraded"  # running, but the platform cannot be reached right now (retrying)
    STANDBY = "standby"  # publishing only: another instance leads and receives
    STOPPED = "stopped"


@runtime_checkable
class Connector(Protocol):
    @property
    def name(self) -> str:
        """`telegram`, `mastodon:main`, `console`: unique in the process."""
        ...

    @property
    def health(self) -> Health: ...

    def targets(self) -> Sequence[Target]:
        """The outbox targets this connector publishes through (may be none)."""
        ...

    async def start(self) -> None:
        """Start receiving in the background and return at once: an unreachable platform is
        the connector's to retry, it never blocks or ends the rest of the bot. Only the
        instance that leads receives (`bot.runtime.fleet`); until then (or on an instance that
        never leads) the connector only publishes, and says `Health.STANDBY`."""
        ...

    def audiences(self) -> Sequence[str]:
        """The announcement targets organisers may choose on this connector (outbox targets of
        `targets()`): first the one named like the connector, which reaches everyone it can
        (what broadcasts and announcements go to by default), then any narrower ones named
        `<connector name>:<word>`, the word being what organisers type to choose it
        (`telegram:abonnes`, `/diffuser abonnes …`: the subscribers without the channel)."""
        ...

    async def preview(self, post: Post, audience: str | None = None) -> Preview:
        """How `post` would appear if published through `audience` (one of `audiences()`; None:
        the one named like the connector), computed as publishing computes it; ValueError for
        an audience that is not this connector's."""
        ...

    async def resolve(self, handle: str) -> str | None:
        """The platform's stable user id for a configured handle (`user@instance` on Mastodon,
        a numeric id on Telegram); None when the platform does not know it."""
        ...

    async def withdraw(self, target: str, receipt: str, published_at: dt.datetime) -> str:
        """Delete what `target` (this connector's announcement target, or one of its chat
        targets like `telegram:<chat>`) published under `receipt` (the outbox's record of it),
        where the platform allows it; the outcome in a few French words for the organiser
        (`texts.WITHDRAWN` « supprimé », `texts.ALREADY_WITHDRAWN` « déjà supprimé »,
        `texts.TOO_OLD_TO_WITHDRAW` « trop ancien pour être supprimé (48 h) »…).

        Raise only for a failure worth retrying (`RetryableError`, with the platform's
        retry-after when it gave one): withdrawing again is safe, what is already gone counts
        as « déjà supprimé ». `ValueError` for a target that is not this connector's."""
        ...

    async def send(self, conversation: str, reply: Reply) -> None:
        """Send `reply` to a conversation of this platform (the inbound path uses it too)."""
        ...

    async def stop(self, grace: float = 10.0) -> None:
        """Stop receiving; what is being handled finishes within `grace` seconds."""
        ...


@dataclass(frozen=True)
class Parts:
    """What the runtime gives every connector factory: the one instance of each shared piece.

    `mount` adds routes (an aiohttp `RouteTableDef`) to the process's one web application;
    `environ` is the process environment, read once by the runtime (account files name the
    variables that hold their tokens)."""

    settings: Settings
    service: ConversationService
    store: Store
    clock: Clock
    outbox: Outbox
    worker: DeliveryWorker
    mount: Callable[[Any], None]
    environ: Mapping[str, str]
    # How many instances of the bot run on this store now (`bot.runtime.fleet`): connectors
    # whose platform limits the account as a whole give each instance its share.
    instances: Callable[[], int] = lambda: 1


# A platform's entry in the runtime's registry: its connectors (none when not configured).
ConnectorFactory = Callable[[Parts], Awaitable[Sequence[Connector]]]
