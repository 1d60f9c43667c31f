"""The fast paths of bot/faq/normalise.py give what the general ones give."""

from __future__ import annotations

import unicodedata

from bot.faq.normalise import _APOSTROPHES, _LIGATURES, CHAT_SPEAK, fold, words


def _folded_in_full(text: str) -> str:
    text = text.translate(_APOSTROPHES).casefold().translate(_LIGATURES)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def test_ascii_text_folds_as_any_text() -> None:
    every_ascii = "".join(map(chr, range(128)))
    for text in (every_ascii, "L`ÉTÉ", "Qu`est-ce QUE c'est ?", "ABC xyz 123 \t\n\x00"):
        assert fold(text) == _folded_in_full(text), text


def test_chat_spellings_are_rewritten_wherever_they_are() -> None:
    assert words("kan c koi") == ["quand", "c", "quoi"]
    assert words("Jusqu'à quand ?") == ["a", "quand"]
    assert all(
        words(f"x {chat} y") == ["x", *words(standard), "y"]
        for chat, standard in CHAT_SPEAK.items()
    )
