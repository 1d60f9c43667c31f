"""A long text as messages under a length limit, each cut where a reader expects a break.

Platforms count length differently (Telegram: UTF-16 code units of the HTML it is sent; Mastodon:
characters, with every URL at a fixed cost) and have tokens that a cut must not go through (an
HTML entity, a URL, a mention): both are parameters. Where to cut is the same everywhere: between
paragraphs, else between lines, else between sentences, else between words, and only a word
longer than a whole message is cut inside, between its unbreakable tokens.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable

Length = Callable[[str], int]


def utf16_length(text: str) -> int:
    """Telegram's measure of a text: UTF-16 code units (an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


MASTODON_URL_LENGTH = 23  # configuration.statuses.characters_reserved_per_url on known instances
# Like Mastodon's extractor, a URL does not end with the punctuation that follows it.
MASTODON_URL = re.compile(r"https?://[^\s<>\"]*[^\s<>\".,;:!?)»]", re.IGNORECASE)
MASTODON_MENTION = re.compile(r"(?<![\w/])@([\w.]+)@[\w.-]+\w", re.UNICODE)


def mastodon_length(text: str, url_length: int = MASTODON_URL_LENGTH) -> int:
    """Mastodon's measure of a status: each URL costs `url_length`, a remote mention counts
    only its local part (`@name@server` → `@name`). Here rather than in its connector, so that
    the laureate templates are checked as the Mastodon target will count them."""
    text = MASTODON_URL.sub("x" * url_length, text)
    return len(MASTODON_MENTION.sub(lambda m: "@" + m.group(1), text))


# Strongest first. Each separator takes all the whitespace around it, so a piece never starts or
# ends with whitespace and a part is always a slice of the text: nothing but whitespace is lost.
_BOUNDARIES = tuple(
    re.compile(f"({separator})")
    for separator in (
        r"\s*\n\s*\n\s*",  # paragraphs
        r"\s*\n\s*",  # lines
        r"(?<=[.!?…»])\s+",  # sentences (a French quotation ends with »)
        r"\s+",  # words
    )
)


def split(
    text: str, limit: int, length: Length, *, unbreakable: re.Pattern[str] | None = None
) -> list[str]:
    """`text` (stripped) in parts of at most `limit` as `length` counts it; none if it is blank.

    The parts are the text in order, less the whitespace at each cut. `length` must not decrease
    when a text grows. A word is cut inside only as a last resort, and then never through a
    match of `unbreakable` nor through a code point (so never through a surrogate pair).

    Raises ValueError when one such token is longer than `limit` on its own.
    """

    def fits(part: str) -> bool:
        return length(part) <= limit

    def split_at(level: int, text: str) -> list[str]:
        if fits(text):
            return [text]
        if level == len(_BOUNDARIES):
            return _cut_word(text, limit, length, unbreakable)
        pieces = _BOUNDARIES[level].split(text)  # piece, separator, piece, …, piece
        parts: list[str] = []
        current = ""
        for separator, piece in zip(["", *pieces[1::2]], pieces[::2], strict=True):
            candidate = f"{current}{separator}{piece}" if current else piece
            if fits(candidate):
                current = candidate
                continue
            if current:
                parts.append(current)
            *whole, current = split_at(level + 1, piece)  # the piece alone, if it fits
            parts.extend(whole)
        return [*parts, current]

    text = text.strip()
    return split_at(0, text) if text else []


def _cut_word(
    word: str, limit: int, length: Length, unbreakable: re.Pattern[str] | None
) -> list[str]:
    """The longest prefixes that fit, found by bisection since `length` grows with the text."""
    tokens: list[str] = []
    start = 0
    for match in unbreakable.finditer(word) if unbreakable else ():
        tokens += [*word[start : match.start()], match.group()]
        start = match.end()
    tokens += word[start:]
    parts: list[str] = []
    while tokens:
        count = bisect_right(
            range(1, len(tokens) + 1), limit, key=lambda n: length("".join(tokens[:n]))
        )
        if count == 0:
            raise ValueError(f"{tokens[0][:40]!r} cannot be cut and is longer than {limit}")
        parts.append("".join(tokens[:count]))
        del tokens[:count]
    return parts
