"""The shared splitter, with Telegram's and Mastodon's ways of counting."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import textsplit
from bot.connectors.mastodon.text import split_thread
from bot.connectors.telegram.render import escape, message_chunks, split_text
from bot.textsplit import mastodon_length, utf16_length

URLS = ("https://territoire-numerique-libre.org/" + "x" * 60, "http://a.fr/b?c=d&e=f")
MENTION = " @organisation@social.example.org "  # glued to a word, it would not be a mention
WORDS = ("label", "collectivité", "&", "<b>", "R&D", "🙂", "👩‍💻", "🇫🇷", "é", "mot" * 15)
SEPARATORS = (" ", "  ", "\n", "\n\n", " \n \n ", ". ", "! ", "… ", "\t")

# Words, URLs and emoji joined by every kind of boundary, and arbitrary text for good measure.
texts = st.one_of(
    st.lists(st.sampled_from(WORDS + URLS + (MENTION,) + SEPARATORS), max_size=80).map("".join),
    st.text(max_size=300),
)


def assert_slices(text: str, parts: list[str]) -> None:
    """Each part is the next slice of the text, after nothing but whitespace: nothing lost,
    nothing reordered, nothing added."""
    position = 0
    for part in parts:
        assert part
        assert part == part.strip()
        rest = text[position:]
        position += len(rest) - len(rest.lstrip())
        assert text.startswith(part, position)
        position += len(part)
    assert not text[position:].strip()


@given(texts, st.integers(min_value=2, max_value=80))
def test_utf16_parts_fit_and_keep_the_text(text: str, limit: int) -> None:
    parts = textsplit.split(text, limit, utf16_length)
    assert all(utf16_length(part) <= limit for part in parts)
    assert_slices(text, parts)


@given(texts, st.integers(min_value=5, max_value=80))
def test_telegram_chunks_fit_once_escaped_and_never_cut_an_entity(text: str, limit: int) -> None:
    escaped = escape(text)
    parts = split_text(escaped, limit)
    assert all(utf16_length(part) <= limit for part in parts)
    assert_slices(escaped, parts)
    for part in parts:
        assert "<" not in part
        assert "&" not in re.sub(r"&(amp|lt|gt);", "", part)  # Telegram would refuse to parse


@given(
    st.lists(st.sampled_from(WORDS + URLS + (MENTION,) + SEPARATORS), max_size=80).map("".join),
    st.integers(min_value=40, max_value=200),
)
def test_mastodon_statuses_fit_and_never_cut_a_url_or_a_mention(text: str, limit: int) -> None:
    statuses = split_thread(text, limit)
    assert all(mastodon_length(status) <= limit for status in statuses)
    total = len(statuses)
    parts = [s.removesuffix(f"\n\n{n}/{total}") for n, s in enumerate(statuses, 1)]
    assert_slices(text, [part for part in parts if part] if total == 1 else parts)
    for token in (*URLS, MENTION.strip()):
        assert sum(part.count(token) for part in parts) == text.count(token)


@given(
    st.lists(
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join),
        min_size=1,
        max_size=12,
    ),
    st.integers(min_value=0, max_value=200),
)
def test_paragraphs_that_fit_are_never_cut(paragraphs: list[str], room: int) -> None:
    limit = max(map(utf16_length, paragraphs)) + room
    parts = textsplit.split("\n\n".join(paragraphs), limit, utf16_length)
    assert [p for part in parts for p in part.split("\n\n")] == paragraphs


@given(texts, st.integers(min_value=2, max_value=80))
def test_a_text_that_fits_is_one_part_and_parts_split_no_further(text: str, limit: int) -> None:
    parts = textsplit.split(text, limit, utf16_length)
    if utf16_length(text.strip()) <= limit:
        assert parts == ([text.strip()] if text.strip() else [])
    assert all(textsplit.split(part, limit, utf16_length) == [part] for part in parts)


def test_the_strongest_boundary_that_fits_wins() -> None:
    text = "Un. Deux. Trois.\nQuatre cinq six.\n\nSept."
    assert textsplit.split(text, 35, len) == ["Un. Deux. Trois.\nQuatre cinq six.", "Sept."]
    # The tail of a paragraph that did not fit shares its part with what follows.
    assert textsplit.split(text, 30, len) == ["Un. Deux. Trois.", "Quatre cinq six.\n\nSept."]
    assert textsplit.split(text, 20, len) == ["Un. Deux. Trois.", "Quatre cinq six.", "Sept."]
    assert textsplit.split(text, 10, len) == ["Un. Deux.", "Trois.", "Quatre", "cinq six.", "Sept."]
    assert textsplit.split("abcdefgh", 3, len) == ["abc", "def", "gh"]
    assert textsplit.split(" \n ", 3, len) == []


def test_emoji_count_twice_in_utf16_and_are_never_halved() -> None:
    assert utf16_length("a🙂") == 3
    assert textsplit.split("a🙂🙂", 2, utf16_length) == ["a", "🙂", "🙂"]
    assert textsplit.split("a🙂🙂", 3, utf16_length) == ["a🙂", "🙂"]


def test_an_escaped_entity_is_never_cut() -> None:
    assert split_text(escape("a&b"), 5) == ["a", "&amp;", "b"]
    assert split_text(escape("a&b"), 6) == ["a&amp;", "b"]
    chunks = message_chunks("R&D <" * 2000)
    assert all(utf16_length(chunk) <= 4096 for chunk in chunks)
    assert html.unescape(" ".join(chunks)).split() == ("R&D <" * 2000).split()


def test_a_token_longer_than_the_limit_alone_is_refused_rather_than_cut() -> None:
    with pytest.raises(ValueError, match="longer than 4"):
        split_text("&amp;", 4)


def test_a_url_costs_23_and_is_never_cut_even_glued_to_a_word() -> None:
    url = URLS[0]
    assert textsplit.split(f"Voir {url}", 30, mastodon_length) == [f"Voir {url}"]
    assert split_thread("x" * 10 + url, 30) == ["x" * 10 + "\n\n1/2", url + "\n\n2/2"]
    parts = split_thread(("x" * 200 + url + " ") * 4, 80)
    assert all(mastodon_length(part) <= 80 for part in parts)
    assert sum(part.count(url) for part in parts) == 4
