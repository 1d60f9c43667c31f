"""Status text as Mastodon renders it: threads, hashtags, HTML back to text (its length is
counted by `bot.textsplit.mastodon_length`, which the laureate templates use too).

Pure functions, so the thread splitting and the comparison used to detect an already published
status are tested without any server.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import partial
from html.parser import HTMLParser

from bot import textsplit
from bot.textsplit import MASTODON_MENTION, MASTODON_URL, MASTODON_URL_LENGTH, mastodon_length

DEFAULT_MAX_CHARACTERS = 500
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)", re.UNICODE)
# A cut through either would break the link or address someone else.
_UNBREAKABLE = re.compile(f"{MASTODON_URL.pattern}|{MASTODON_MENTION.pattern}", re.IGNORECASE)


def fold(text: str) -> str:
    """Case- and accent-insensitive form, to recognise a hashtag however an organiser typed it."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def camel_hashtag(words: str) -> str:
    """« Territoire numérique libre » → `#TerritoireNumériqueLibre`: CamelCase lets screen
    readers pronounce the words and keeps the tag readable."""
    parts = re.split(r"[^\w]+|_", words.strip().lstrip("#"))
    return "#" + "".join(part[:1].upper() + part[1:] for part in parts if part)


def with_hashtags(text: str, hashtags: tuple[str, ...]) -> str:
    """Rewrite known hashtags in their CamelCase spelling and append those missing."""
    spelling = {fold(tag.lstrip("#")): tag.lstrip("#") for tag in hashtags}
    present: set[str] = set()

    def respell(match: re.Match[str]) -> str:
        folded = fold(match.group(1))
        present.add(folded)
        return "#" + spelling.get(folded, match.group(1))

    text = _HASHTAG.sub(respell, text)
    missing = [f"#{tag}" for folded, tag in spelling.items() if folded not in present]
    return f"{text.rstrip()}\n\n{' '.join(missing)}" if missing else text


def split_thread(
    text: str,
    max_characters: int = DEFAULT_MAX_CHARACTERS,
    *,
    url_length: int = MASTODON_URL_LENGTH,
    reserved: int = 0,
) -> list[str]:
    """Cut `text` into statuses of at most `max_characters` (minus `reserved`, e.g. a content
    warning), preferably between paragraphs or sentences and never inside a URL or a mention,
    each ending with a « 1/3 » marker.

    A text that fits is returned as is, without a marker. Raises ValueError when the budget is too
    small for a thread.
    """
    budget = max_characters - reserved
    length = partial(mastodon_length, url_length=url_length)
    if length(text) <= budget:
        return [text.strip()]
    digits = 1
    while True:
        marker_room = len("\n\n") + 2 * digits + 1  # "\n\n12/12"
        if budget - marker_room < 20:
            raise ValueError(f"a status of {budget} characters cannot hold a thread")
        parts = textsplit.split(text, budget - marker_room, length, unbreakable=_UNBREAKABLE)
        if len(str(len(parts))) <= digits:
            total = len(parts)
            return [f"{part}\n\n{n}/{total}" for n, part in enumerate(parts, 1)]
        digits += 1


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.chunks.append("\n")
        elif tag == "p" and self.chunks:
            self.chunks.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def html_to_text(content: str) -> str:
    """A status's HTML `content` as the plain text its author typed (links keep their full URL:
    Mastodon only hides parts of it in `invisible` spans)."""
    parser = _TextExtractor()
    parser.feed(content)
    parser.close()
    return html.unescape("".join(parser.chunks)).strip()


def same_text(content_html: str, text: str) -> bool:
    """Whether a published status (HTML) carries `text`: whitespace is rendered differently
    (`<p>`, `<br>`), so it is ignored on both sides."""
    return re.sub(r"\s+", "", html_to_text(content_html)) == re.sub(r"\s+", "", text)


def question_of(content_html: str) -> str:
    """The question in a mention: its text without the @mentions that address it."""
    text = html_to_text(content_html)
    text = re.sub(r"(?<![\w/])@[\w.]+(?:@[\w.-]+\w)?", " ", text)
    return re.sub(r"[ \t]+", " ", text).strip()
