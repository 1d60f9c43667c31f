"""`Post`: what the bot publishes on its own initiative, independent of any platform."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

Visibility = Literal["public", "unlisted", "private", "direct"]


@dataclass(frozen=True)
class Post:
    """Plain text plus the hints a platform may use (Mastodon: visibility, CW, image, language).

    Stored as JSON in the outbox, so every field must survive a round trip; connectors ignore
    the hints their platform has no use for.
    """

    text: str
    visibility: Visibility = "public"
    content_warning: str | None = None
    image: Path | None = None
    image_alt: str | None = None
    language: str = "fr"
    # Set when the post is several messages whose cut is decided by the producer (a laureates
    # thread: the summary, then one status per laureate): published as given, in order, each
    # part a message (Telegram) or a reply to the one before (Mastodon). `text` is the first.
    parts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a post needs some text")
        if self.parts and (self.parts[0] != self.text or not all(p.strip() for p in self.parts)):
            raise ValueError("a post's parts start with its text and none is empty")
        if self.image is not None and not (self.image_alt and self.image_alt.strip()):
            raise ValueError("an image needs its alt text (accessibility is not optional)")

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["image"] = str(self.image) if self.image is not None else None
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Post:
        data = json.loads(text)
        if data.get("image") is not None:
            data["image"] = Path(data["image"])
        data["parts"] = tuple(data.get("parts", ()))
        return cls(**data)

    @classmethod
    def thread(cls, texts: tuple[str, ...], **hints: Any) -> Post:
        """A post made of these messages, in this order."""
        return cls(texts[0], parts=texts, **hints)
