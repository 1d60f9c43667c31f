"""Subscribers, cursors, audit log and unanswered questions: what connectors and organisers keep."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store.store import Store, question_key

T0 = dt.datetime(2027, 3, 24, 9, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


async def test_subscribers_are_per_platform_and_subscribing_twice_is_harmless(store: Store) -> None:
    assert await store.subscribe("telegram", "42", at(0))
    assert not await store.subscribe("telegram", "42", at(1))
    assert await store.subscribe("telegram", "7", at(2))
    assert await store.subscribe("matrix", "42", at(3))
    assert await store.subscribers("telegram") == ["42", "7"]
    assert await store.unsubscribe("telegram", "42")
    assert not await store.unsubscribe("telegram", "42")
    assert await store.subscribers("telegram") == ["7"]
    assert await store.subscribers("matrix") == ["42"]


async def test_cursor_starts_empty_then_keeps_the_last_position(store: Store) -> None:
    assert await store.cursor("telegram") is None
    await store.set_cursor("telegram", "1000", at(0))
    await store.set_cursor("telegram", "1001", at(1))
    await store.set_cursor("mastodon", "abc", at(1))
    assert await store.cursor("telegram") == "1001"
    assert await store.cursor("mastodon") == "abc"


async def test_audit_log_lists_newest_first_with_aware_times(store: Store) -> None:
    await store.audit("cli", "outbox.retry", at(0), "item 3")
    await store.audit("@orga", "broadcast", at(5))
    entries = await store.audit_entries()
    assert [(e.actor, e.action, e.detail) for e in entries] == [
        ("@orga", "broadcast", None),
        ("cli", "outbox.retry", "item 3"),
    ]
    assert entries[0].at == at(5)


async def test_most_unanswered_groups_wordings_and_orders_by_frequency(store: Store) -> None:
    asked = [
        ("Quel est le prix du panneau ?", 0.41),
        ("quel est le prix du panneau", 0.38),
        ("Combien de temps dure le label ?", 0.2),
        ("QUEL EST LE PRIX DU  PANNEAU ?!", 0.44),
        ("Combien de temps dure le label", 0.3),
        ("Où est la mairie ?", 0.1),
    ]
    for minute, (question, score) in enumerate(asked):
        await store.log_unanswered(question, score, at(minute), platform="telegram")
    summaries = await store.most_unanswered(limit=2)
    assert [(s.question, s.count, s.best_score) for s in summaries] == [
        ("QUEL EST LE PRIX DU  PANNEAU ?!", 3, 0.44),
        ("Combien de temps dure le label", 2, 0.3),
    ]
    assert summaries[0].last_asked == at(3)
    recent = await store.most_unanswered(since=at(4))
    assert [(s.question, s.count) for s in recent] == [
        ("Où est la mairie ?", 1),
        ("Combien de temps dure le label", 1),
    ]


def test_question_key_ignores_case_spacing_and_final_punctuation() -> None:
    assert question_key("  Quel  PRIX ?! ") == question_key("quel prix") == "quel prix"


async def test_ping_answers_while_the_database_does(store: Store) -> None:
    await store.ping()
    unreachable = Store(create_async_engine("sqlite+aiosqlite:////nonexistent/dir/x.sqlite3"))
    with pytest.raises(OperationalError, match="unable to open database file"):
        await unreachable.ping()
    await unreachable.close()
