from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.faq.normalise import Normaliser, Synonyms, fold, words


def test_fold_removes_accents_case_and_control_characters() -> None:
    assert fold("Élu·e RÉFÉRENT 🙂") == "elue referent "
    assert fold("Œuvre") == "oeuvre"


def test_elisions_and_hyphenated_inversions_are_split() -> None:
    assert words("L’interco peut-elle candidater jusqu'à demain ? Qu'en est-il ?") == [
        "interco", "peut", "elle", "candidater", "a", "demain", "en", "est", "il",
    ]  # fmt: skip


def test_synonyms_prefer_the_longest_phrase() -> None:
    synonyms = Synonyms.from_groups(
        {
            "intercommunalité": ["communauté de communes", "interco"],
            "commune": ["communes", "mairie"],
        }
    )
    assert synonyms.apply(words("la communauté de communes et la mairie")) == [
        "la", "intercommunalite", "et", "la", "commune",
    ]  # fmt: skip


def test_accented_and_unaccented_spellings_give_the_same_terms() -> None:
    normaliser = Normaliser()
    assert normaliser.terms("Les collectivités élues") == normaliser.terms(
        "les collectivites elues"
    )


def test_protected_words_do_not_collide() -> None:
    normaliser = Normaliser()
    assert normaliser.terms("communication") != normaliser.terms("commune")
    assert normaliser.terms("données") != normaliser.terms("don")


def test_interrogatives_are_kept_and_stop_words_dropped() -> None:
    assert Normaliser().terms("Quand est-ce que je peux candidater ?") == ("quand", "candidat")


@given(st.text(max_size=300))
def test_any_text_normalises_to_plain_ascii_terms(text: str) -> None:
    for term in Normaliser().terms(text):
        assert term
        assert term.isascii()
        assert term.isalnum()
