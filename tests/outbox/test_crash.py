"""Crash safety end to end: a delivering process is SIGKILLed at random moments and restarted.

At the end every item is delivered; duplicates are counted per target and reported: none on the
idempotent target, and on the other at most the worker's `unrecorded_limit` per kill (sends done
but not yet committed: outcomes are written in batches, a few milliseconds apart).
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.outbox import Post, State
from bot.outbox.queue import Outbox
from bot.store.store import Store
from tests.outbox.crash_child import UNRECORDED

ROOT = Path(__file__).resolve().parents[2]
ITEMS = 1000
KILLS = 6


def child(url: str, directory: Path, seed: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.outbox.crash_child", url, str(directory), str(seed)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def lines_per_key(path: Path) -> collections.Counter[str]:
    return collections.Counter(json.loads(line)["key"] for line in path.read_text().splitlines())


async def enqueue_all(url: str) -> None:
    store = await Store.open(url)
    outbox = Outbox(store, default_deadline=dt.timedelta(days=365))
    now = dt.datetime.now(dt.UTC)  # the child runs on the system clock
    for n in range(ITEMS):
        await outbox.enqueue(Post(f"Message {n}"), ["plain", "idem"], f"message-{n}", now)
    await store.close()


async def final_state(url: str) -> dict[State, int]:
    store = await Store.open(url)
    counts = await Outbox(store).counts()
    await store.close()
    return counts


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing_and_doubles_only_without_idempotency(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}"
    asyncio.run(enqueue_all(url))
    rng = random.Random(20270324)
    kills = 0
    for _ in range(KILLS):
        process = child(url, tmp_path, rng.randrange(2**32))
        assert process.stdout is not None
        deliveries_before_kill = rng.randrange(20, 250)
        seen = 0
        while seen < deliveries_before_kill:
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith("sent"):
                seen += 1
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.communicate(timeout=30)
        assert process.returncode == -signal.SIGKILL, "the child ended before being killed"

    survivor = child(url, tmp_path, rng.randrange(2**32))
    out, err = survivor.communicate(timeout=60)
    assert survivor.returncode == 0, err
    assert out.endswith("done\n")

    assert await_counts(url) == {
        State.PENDING: 0,
        State.SENDING: 0,
        State.SENT: 2 * ITEMS,
        State.FAILED: 0,
        State.CANCELLED: 0,
    }
    plain = lines_per_key(tmp_path / "plain.jsonl")
    idempotent = lines_per_key(tmp_path / "idempotent.jsonl")
    expected_keys = {f"message-{n}" for n in range(ITEMS)}
    assert set(plain) == set(idempotent) == expected_keys  # every item delivered
    plain_duplicates = sum(plain.values()) - ITEMS
    idempotent_duplicates = sum(idempotent.values()) - ITEMS
    report = (
        f"{kills} SIGKILLs, {ITEMS} items per target: duplicates plain={plain_duplicates}, "
        f"idempotent={idempotent_duplicates}"
    )
    print(report)
    record_property("crash_duplicates", report)
    assert kills >= 5
    assert idempotent_duplicates == 0
    # It was one per kill when every send was committed on its own; batching outcomes (for
    # throughput) widens the window to the sends not yet committed, at most UNRECORDED.
    assert plain_duplicates <= kills * UNRECORDED


def await_counts(url: str) -> dict[State, int]:
    return asyncio.run(final_state(url))
