"""Behaviour of the answer decision on the shipped corpus; accuracy is in test_devset.py."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import texts
from bot.faq.engine import FaqEngine, Kind
from bot.french import typography
from bot.paris import PARIS
from scheduler.campaign import Campaign, Edition

EDITION_2027 = Edition(
    name="2027",
    opens=dt.date(2027, 1, 15),
    closes=dt.date(2027, 3, 31),
    results=dt.date(2027, 6, 15),
)


def test_a_plain_question_gets_its_entry(engine: FaqEngine, now: dt.datetime) -> None:
    answer = engine.answer("Qui peut candidater au label ?", now)
    assert answer.kind is Kind.ANSWER
    assert answer.entry == "qui-peut-candidater"
    assert answer.matched
    assert answer.text == typography(engine.corpus.entry("qui-peut-candidater").answer)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Bonjour !", Kind.SMALL_TALK),
        ("merci beaucoup", Kind.SMALL_TALK),
        ("/aide", Kind.SMALL_TALK),
        ("aide", Kind.SMALL_TALK),
        ("", Kind.SMALL_TALK),
        ("   \n\t ", Kind.SMALL_TALK),
        ("🙂🙂🙂", Kind.SMALL_TALK),
    ],
)
def test_small_talk_never_gets_an_faq_answer(
    engine: FaqEngine, now: dt.datetime, question: str, kind: Kind
) -> None:
    answer = engine.answer(question, now)
    assert answer.kind is kind
    assert not answer.matched
    assert answer.entry is None


def test_greeting_followed_by_a_question_answers_the_question(
    engine: FaqEngine, now: dt.datetime
) -> None:
    answer = engine.answer("Bonjour, est-ce que la candidature est gratuite ?", now)
    assert answer.entry == "cout-candidature"


@pytest.mark.parametrize(
    "question",
    [
        "Quelle est la recette de la tartiflette ?",
        "Comment refaire mon passeport ?",
        "xqzw vbnm plok",
    ],
)
def test_unknown_questions_are_not_answered_and_point_to_the_contact(
    engine: FaqEngine, now: dt.datetime, question: str
) -> None:
    answer = engine.answer(question, now)
    assert not answer.matched
    assert answer.kind in (Kind.FALLBACK, Kind.OUT_OF_SCOPE)
    assert texts.CONTACT_EMAIL in answer.text


def test_ambiguous_question_offers_at_most_three_suggestions(
    engine: FaqEngine, now: dt.datetime
) -> None:
    answer = engine.answer("niveau", now)
    assert answer.kind is Kind.SUGGESTIONS
    assert not answer.matched
    assert 1 <= len(answer.suggestions) <= 3
    assert typography(texts.SUGGESTIONS_INTRO) in answer.text
    for suggestion in answer.suggestions:
        assert suggestion.question in answer.text
        assert engine.corpus.entry(suggestion.entry).in_scope


def test_date_question_depends_on_the_moment(engine: FaqEngine) -> None:
    future = FaqEngine(engine.corpus, Campaign(editions=(EDITION_2027,)))
    question = "jusqu'à quand peut-on candidater ?"
    before = future.answer(question, dt.datetime(2026, 12, 1, tzinfo=PARIS))
    during = future.answer(question, dt.datetime(2027, 3, 20, 10, tzinfo=PARIS))
    last_day = future.answer(question, dt.datetime(2027, 3, 31, 22, tzinfo=PARIS))
    after = future.answer(question, dt.datetime(2027, 5, 1, tzinfo=PARIS))
    assert before.kind is during.kind is Kind.DATES
    assert before.entry == "dates-campagne"
    assert "ouvrira le 15 janvier 2027" in before.text
    assert "jusqu'au 31 mars 2027 inclus" in during.text
    assert "il reste 11 jours" in during.text
    assert "dernier jour" in last_day.text
    assert "pas encore été annoncées" in after.text


def test_with_no_future_edition_the_date_answer_is_honest(
    engine: FaqEngine, now: dt.datetime
) -> None:
    answer = engine.answer("quand ouvre la prochaine campagne de candidature ?", now)
    assert answer.entry == "dates-campagne"
    assert "pas encore été annoncées" in answer.text
    assert "19 septembre au 19 octobre 2025" in answer.text
    assert "/abonner" not in answer.text
    subscribed = engine.answer(
        "quand ouvre la prochaine campagne de candidature ?", now, can_subscribe=True
    )
    assert "/abonner" in subscribed.text


def test_answers_use_french_typography(engine: FaqEngine, now: dt.datetime) -> None:
    for entry in engine.corpus.entries:
        text = engine.answer_entry(entry.id, now).text
        for mark in "?!;":
            assert f" {mark}" not in text, (entry.id, text)
        assert " :" not in text, (entry.id, text)


HOSTILE = [
    "a" * 20_000,
    "candidature " * 5_000,
    "<script>alert('x')</script> comment candidater ?",
    "[cliquez ici](javascript:alert(1)) **label**",
    "\x00\x01\x02\x1b[31m rouge \x7f",
    "\u202e\u200b\ufeff invisible",
    "😀" * 3_000,
]


@pytest.mark.parametrize("question", HOSTILE)
def test_hostile_input_gets_a_clear_reply(
    engine: FaqEngine, now: dt.datetime, question: str
) -> None:
    answer = engine.answer(question, now)
    assert answer.text
    assert "<script>" not in answer.text
    assert "javascript:" not in answer.text
    assert len(answer.text) < 2_000


@settings(
    max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(st.text(max_size=500))
def test_any_text_gets_an_answer_without_error(
    engine: FaqEngine, now: dt.datetime, question: str
) -> None:
    answer = engine.answer(question, now)
    assert answer.text
    assert answer.matched == (answer.entry is not None)
    assert 0.0 <= answer.score <= 100.0


@pytest.mark.parametrize(
    ("question", "unanswered"),
    [
        ("Qui peut candidater au label ?", False),
        ("merci beaucoup", False),
        ("xqzw vbnm plok", True),
        ("Comment refaire mon passeport ?", True),
    ],
)
def test_only_questions_the_corpus_did_not_answer_count_as_unanswered(
    engine: FaqEngine, now: dt.datetime, question: str, unanswered: bool
) -> None:
    assert engine.answer(question, now).unanswered is unanswered
