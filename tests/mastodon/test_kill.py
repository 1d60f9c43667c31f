"""Killed between the POST and the outbox update, restarted: exactly one status exists.

test_publish.py simulates this crash inside one process; here it is real. A child process (a
freshly started bot: real MastodonTarget, real Mastodon.py client, SQLite store) delivers the
outbox to the fake Mastodon served by this test on 127.0.0.1. The fake creates a chosen status,
then holds its response (a "timeout" fault after the fact, selected by Idempotency-Key) and
tells the test, which SIGKILLs the child: the status exists, the child never learnt it, and its
outbox item stays in `sending`. A new child is started each time and the last one finishes.
Only the Idempotency-Key, resent after recovery, stands between such a restart and a duplicate.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.connectors.mastodon.config import DEFAULT_HASHTAGS
from bot.connectors.mastodon.target import thread_keys
from bot.connectors.mastodon.text import same_text, split_thread, with_hashtags
from bot.outbox import Post, State
from bot.outbox.item import OutboxItem
from bot.outbox.queue import Outbox
from bot.store.store import Store
from tests.fakes.mastodon_entities import Json
from tests.fakes.mastodon_server import Call, FakeMastodon

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "bot-token-ne-jamais-afficher"
TIMEOUT = 30.0  # seconds; generous: a healthy round takes well under one
SENTENCE = "La campagne de candidature au label Territoire Numérique Libre ouvre le 1er avril. "
ANNOUNCEMENT = SENTENCE * 12  # ~1,000 characters: a thread of 3 statuses at 500
SINGLES = {"reminder": "Rappel : dossiers attendus avant le 30 avril.", "closing": "Clôture !"}
# Where each child dies: right after the server created this status (by its Idempotency-Key).
KILL_AT = ("opening#1/3", "opening#3/3", "reminder")


def expected_statuses() -> dict[str, str]:
    """Idempotency-Key → text of every status the outbox should leave on the account."""
    parts = split_thread(with_hashtags(ANNOUNCEMENT, DEFAULT_HASHTAGS))
    assert len(parts) == 3, "the announcement must make a 3-status thread"
    expected = dict(zip(thread_keys("opening", len(parts)), parts, strict=True))
    for key, text in SINGLES.items():
        expected[key] = split_thread(with_hashtags(text, DEFAULT_HASHTAGS))[0]
    assert set(KILL_AT) <= set(expected)
    return expected


@pytest.fixture
async def server() -> AsyncIterator[FakeMastodon]:
    """The fake on the system clock: the child process cannot share a manual one."""
    fake = FakeMastodon()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


async def enqueue(url: str) -> None:
    store = await Store.open(url)
    try:
        outbox = Outbox(store)
        now = dt.datetime.now(dt.UTC)
        await outbox.enqueue(Post(ANNOUNCEMENT), ["mastodon:main"], "opening", now)
        for key, text in SINGLES.items():
            await outbox.enqueue(Post(text, visibility="unlisted"), ["mastodon:main"], key, now)
    finally:
        await store.close()


async def outbox_items(url: str) -> dict[str, OutboxItem]:
    """The outbox as the child left it, by key (read between children: none is running)."""
    store = await Store.open(url)
    try:
        return {item.key: item for item in await Outbox(store).items()}
    finally:
        await store.close()


async def attempts(url: str) -> dict[str, list[str]]:
    """Outbox key → outcomes of its delivery attempts, oldest first."""
    store = await Store.open(url)
    try:
        outbox = Outbox(store)
        return {
            item.key: [outcome for _, outcome, _ in await outbox.attempts(item.id)]
            for item in await outbox.items()
        }
    finally:
        await store.close()


@contextlib.asynccontextmanager
async def child(url: str, base: str, log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """A bot process delivering the outbox; killed and reaped on the way out, whatever happens,
    so a failing test leaks no process. Its output is appended to `log`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TNL_")}
    env |= {"TNL_MASTODON_URL": base, "TNL_MASTODON_TOKEN": TOKEN}
    with log.open("a") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.mastodon.kill_child",
            url,
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        await process.wait()


async def first_hang(fake: FakeMastodon, process: asyncio.subprocess.Process, log: Path) -> Call:
    """The call the fake starts holding; fails if the child exits (or stalls) before that."""
    hung = asyncio.ensure_future(fake.hanging.get())
    exited = asyncio.ensure_future(process.wait())
    try:
        await asyncio.wait({hung, exited}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (hung, exited):
            task.cancel()
        await asyncio.gather(hung, exited, return_exceptions=True)
    if hung.cancelled():
        state = "stalled" if process.returncode is None else f"exited {process.returncode}"
        raise AssertionError(f"the child {state} before the held POST:\n{log.read_text()}")
    return hung.result()


def statuses_by_key(fake: FakeMastodon, bot: Json) -> dict[str, Json]:
    """The status the server remembers for each Idempotency-Key of the bot's account."""
    return {
        key: fake.statuses[status_id]
        for (account_id, key), (status_id, _) in fake.idempotency.items()
        if account_id == bot["id"]
    }


async def test_sigkilled_between_post_and_outbox_update_then_restarted_posts_once(
    server: FakeMastodon, tmp_path: Path
) -> None:
    expected = expected_statuses()
    bot = server.add_account("tnl", TOKEN, bot=True)
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}"
    log = tmp_path / "child.log"
    await enqueue(url)

    for key in KILL_AT:
        server.fault("timeout", after=True, key=key)  # created, then the response never comes
        async with child(url, server.base, log) as process:
            held = await first_hang(server, process, log)
            assert held.idempotency_key == key
            process.send_signal(signal.SIGKILL)
            returncode = await asyncio.wait_for(process.wait(), TIMEOUT)
        assert returncode == -signal.SIGKILL
        state = (await outbox_items(url))[key.split("#")[0]].state
        assert state is State.SENDING, "the outcome was recorded before the kill"
        assert any(same_text(s["content"], expected[key]) for s in server.posts_of(bot))

    async with child(url, server.base, log) as process:
        returncode = await asyncio.wait_for(process.wait(), TIMEOUT)
    output = log.read_text()
    assert returncode == 0, output
    assert output.endswith("done\n"), output

    # Every item sent; each one resumed after every kill that caught it in `sending`.
    items = await outbox_items(url)
    assert {key: item.state for key, item in items.items()} == dict.fromkeys(
        ["opening", *SINGLES], State.SENT
    )
    for item_key, outcomes in (await attempts(url)).items():
        kills = sum(key.split("#")[0] == item_key for key in KILL_AT)
        assert outcomes[-1] == "sent", (item_key, outcomes)
        assert set(outcomes[:-1]) == {"interrupted"}, (item_key, outcomes)
        assert len(outcomes) - 1 >= kills, (item_key, outcomes)

    # Exactly one status per expected text, none deleted, the thread chained in order.
    posts = server.posts_of(bot)
    by_key = statuses_by_key(server, bot)
    assert set(by_key) == set(expected)
    assert len(posts) == len(expected)
    assert not server.deleted
    for key, text in expected.items():
        assert sum(same_text(post["content"], text) for post in posts) == 1, key
        assert same_text(by_key[key]["content"], text), key
    thread = [by_key[key] for key in thread_keys("opening", 3)]
    assert [s["in_reply_to_id"] for s in thread] == [None, thread[0]["id"], thread[1]["id"]]
    assert all(by_key[key]["in_reply_to_id"] is None for key in SINGLES)
    assert {by_key[key]["visibility"] for key in SINGLES} == {"unlisted"}

    # The receipts name the statuses first created: the resends got them back by their key.
    assert {key: item.receipt for key, item in items.items()} == {
        "opening": ",".join(s["id"] for s in thread) + f" {thread[0]['url']}",
        **{key: f"{by_key[key]['id']} {by_key[key]['url']}" for key in SINGLES},
    }

    # The retries really happened: more POSTs than statuses, the held ones never answered,
    # every other one answered 200, without a status of its own.
    posted = server.calls_to("POST", "/api/v1/statuses")
    per_key = collections.Counter(call.idempotency_key for call in posted)
    assert set(per_key) == set(expected)
    assert all(per_key[key] >= 2 for key in KILL_AT), per_key
    assert len(posted) > len(posts)
    assert sorted(c.idempotency_key or "" for c in posted if c.status == 0) == sorted(KILL_AT)
    assert collections.Counter(c.status for c in posted) == {
        0: len(KILL_AT),
        200: len(posted) - len(KILL_AT),
    }
