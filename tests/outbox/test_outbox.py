"""The durable queue: idempotent enqueue, states, organiser retry/cancel, and Post round trips."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.outbox import Post, Receipt, State
from bot.outbox.queue import Outbox, OutboxError
from bot.store.store import Store

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)


async def test_enqueue_persists_one_item_per_target_and_twice_is_a_no_op(database_url: str) -> None:
    store = await Store.open(database_url)
    outbox = Outbox(store)
    post = Post("La campagne est ouverte !")
    first = await outbox.enqueue(post, ["console", "jsonl", "console"], "2027:opening", T0)
    again = await outbox.enqueue(Post("autre texte"), ["console", "jsonl"], "2027:opening", T0)
    more = await outbox.enqueue(post, ["mastodon", "jsonl"], "2027:opening", T0)
    assert len(first) == 2
    assert again == []
    assert len(more) == 1
    await store.close()

    reopened = await Store.open(database_url)  # written before any send: survives the process
    items = await Outbox(reopened).items()
    await reopened.close()
    assert [(i.key, i.target, i.state, i.post.text) for i in items] == [
        ("2027:opening", "console", State.PENDING, "La campagne est ouverte !"),
        ("2027:opening", "jsonl", State.PENDING, "La campagne est ouverte !"),
        ("2027:opening", "mastodon", State.PENDING, "La campagne est ouverte !"),
    ]
    assert items[0].deadline == T0 + dt.timedelta(hours=24)


async def test_cancel_and_retry_follow_the_state_machine(store: Store) -> None:
    outbox = Outbox(store, default_deadline=dt.timedelta(hours=2))
    (item_id,) = await outbox.enqueue(Post("Rappel"), ["console"], "k", T0)
    cancelled = await outbox.cancel(item_id, T0)
    assert cancelled.state is State.CANCELLED
    with pytest.raises(OutboxError, match="is cancelled, not failed or pending"):
        await outbox.cancel(item_id, T0)
    later = T0 + dt.timedelta(days=3)
    retried = await outbox.retry(item_id, later)
    assert (retried.state, retried.due_at, retried.deadline) == (
        State.PENDING,
        later,
        later + dt.timedelta(hours=2),
    )
    assert await outbox.claim(item_id)
    with pytest.raises(OutboxError, match="is sending"):
        await outbox.cancel(item_id, later)
    (claimed,) = await outbox.items(State.SENDING)
    await outbox.mark_sent(claimed, Receipt("m-1"), later)
    with pytest.raises(OutboxError, match="is sent, not cancelled or failed"):
        await outbox.retry(item_id, later)
    with pytest.raises(OutboxError, match="no outbox item 999"):
        await outbox.retry(999, later)
    assert (await outbox.counts())[State.SENT] == 1
    assert [outcome for _, outcome, _ in await outbox.attempts(item_id)] == ["sent"]


async def test_claim_is_exclusive(store: Store) -> None:
    outbox = Outbox(store)
    (item_id,) = await outbox.enqueue(Post("x"), ["console"], "k", T0)
    assert await outbox.claim(item_id)
    assert not await outbox.claim(item_id)  # a second worker finds it taken


def test_post_round_trips_through_json_with_every_hint() -> None:
    post = Post(
        "Résultats : 37 collectivités labellisées",
        visibility="unlisted",
        content_warning="annonce",
        image=Path("/srv/tnl/panneau.png"),
        image_alt="Panneau « Territoire Numérique Libre » à l'entrée d'une commune",
    )
    assert Post.from_json(post.to_json()) == post
    assert Post.from_json(Post("Bonjour").to_json()).language == "fr"


def test_post_refuses_an_image_without_alt_text_and_an_empty_text() -> None:
    with pytest.raises(ValueError, match="alt text"):
        Post("x", image=Path("a.png"))
    with pytest.raises(ValueError, match="needs some text"):
        Post("  ")


async def test_items_page_from_the_newest_reading_only_that_page(store: Store) -> None:
    outbox = Outbox(store)
    await outbox.enqueue(Post("x"), [f"chat:{n}" for n in range(7)], "k", T0)
    pages = [[i.target for i in await outbox.items(None, 3, latest=p)] for p in (1, 2, 3, 4)]
    assert pages == [
        ["chat:4", "chat:5", "chat:6"],
        ["chat:1", "chat:2", "chat:3"],
        ["chat:0"],
        [],
    ]
