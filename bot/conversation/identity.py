"""Who is talking, as every platform can say it, and what configuration lets them do.

An identity is a platform and the platform's *stable* id for the user (Telegram's numeric user
id, Mastodon's account id, a Matrix user id): never a display name or a username, which their
owners can change to look like someone else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    platform: str
    user_id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.user_id}"

    @classmethod
    def parse(cls, text: str) -> Identity:
        """`telegram:12345` → Identity("telegram", "12345"); ValueError when malformed."""
        platform, sep, user_id = text.strip().partition(":")
        if not sep or not platform or not user_id.strip():
            raise ValueError(f"« {text.strip()} » is not of the form platform:user-id")
        return cls(platform.casefold(), user_id.strip())


ORGANISER = "organiser"


class Roles:
    """Roles granted by configuration to identities (organisers today)."""

    def __init__(self, grants: Mapping[str, Iterable[Identity]] | None = None) -> None:
        self._holders = {role: frozenset(who) for role, who in (grants or {}).items()}

    def has(self, identity: Identity, role: str) -> bool:
        return identity in self._holders.get(role, frozenset())

    def holders(self, role: str) -> frozenset[Identity]:
        return self._holders.get(role, frozenset())
