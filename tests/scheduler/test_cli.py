"""The commands of this issue, through argparse as `tnl-bot` runs them, and `tnl-bot run`."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
from pathlib import Path

import pytest

from bot.config import Settings
from bot.outbox import Post
from bot.outbox import cli as outbox_cli
from bot.outbox.queue import Outbox
from bot.runtime import cli as run_cli
from bot.runtime.assembly import serve
from bot.runtime.lock import PID_FILE
from bot.store import cli as store_cli
from bot.store.store import Store
from scheduler import cli as schedule_cli
from tests.manual_clock import ManualClock
from tests.scheduler.season import paris, write_calendar


def parser() -> argparse.ArgumentParser:
    from bot.cli import _data_options

    common = _data_options()
    top = argparse.ArgumentParser(prog="tnl-bot")
    commands = top.add_subparsers(dest="command", required=True)
    for module in (schedule_cli, outbox_cli, store_cli, run_cli):
        module.register(commands, common)
    return top


def run(*argv: str) -> tuple[int, str]:
    args = parser().parse_args(argv)
    out = io.StringIO()
    return int(args.run(args, out)), out.getvalue()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TNL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TNL_DATABASE_URL", raising=False)
    return tmp_path / "data"


def test_schedule_lists_the_shipped_2025_plan_with_french_dates_and_texts() -> None:
    code, out = run("schedule", "--now", "2025-09-01")
    assert code == 0
    for expected in (
        "19 septembre 2025 à 9\u00a0h",
        "2025:opening",
        "12 octobre 2025 à 9\u00a0h",
        "2025:reminder-7",
        "19 novembre 2025 à 9\u00a0h",
        "2025:results",
        "La campagne 2025 du label",
    ):
        assert expected in out
    assert "2023:" not in out


def test_schedule_after_the_last_edition_says_so(tmp_path: Path) -> None:
    code, out = run("schedule", "--now", "2026-11-24")
    assert (code, out.split(" :")[0]) == (
        0,
        "Aucune annonce à venir après le 24 novembre 2026 à 0\u00a0h",
    )


def test_schedule_reports_calendar_errors_with_their_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = write_calendar(tmp_path, "editions:\n  - name: x\n    opens: 2027-02-30\n")
    code, _ = run("schedule", "--campaign", str(calendar))
    assert code == 1
    assert "campaign.yaml:3: editions.opens:" in capsys.readouterr().err


def test_outbox_list_retry_cancel_and_unanswered(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def prepare() -> None:
        store = await Store.open(Settings().store_url())
        await Outbox(store).enqueue(Post("Bonjour"), ["console"], "2027:opening", paris(2027, 3, 1))
        await store.log_unanswered("Combien coûte le panneau ?", 0.42, paris(2027, 3, 2))
        await store.close()

    asyncio.run(prepare())
    code, out = run("outbox", "list", "--state", "pending")
    assert code == 0
    assert "2027:opening" in out
    assert "pending: 1, sending: 0, sent: 0" in out
    assert run("outbox", "cancel", "1") == (0, "item 1 (2027:opening → console) is now cancelled\n")
    assert run("outbox", "cancel", "1")[0] == 1
    assert "item 1 is cancelled, not failed or pending" in capsys.readouterr().err
    assert run("outbox", "retry", "1") == (0, "item 1 (2027:opening → console) is now pending\n")
    code, out = run("unanswered")
    assert code == 0
    assert "Combien coûte le panneau ?" in out
    assert "signaletique" in out  # the closest entry, for the editor


def test_reload_refuses_when_no_bot_runs(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("reload")[0] == 1
    assert "no running bot" in capsys.readouterr().err


async def test_serve_announces_what_is_due_to_the_configured_jsonl_target(
    data_dir: Path, tmp_path: Path
) -> None:
    calendar = write_calendar(tmp_path)
    settings = Settings(campaign=calendar, targets="jsonl", data_dir=data_dir, web_port=0)
    clock = ManualClock(paris(2027, 3, 1, 10))  # opening was due 1 h ago: within grace
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, clock, io.StringIO(), stop, environ={}))
    published = data_dir / "publications.jsonl"
    for _ in range(500):  # at most ~5 s, polling every 10 ms
        if published.exists() or task.done():
            break
        await asyncio.sleep(0.01)
    assert (data_dir / PID_FILE).exists()
    stop.set()
    assert await asyncio.wait_for(task, 10) == 0
    (line,) = published.read_text().splitlines()
    record = json.loads(line)
    assert record["key"] == "2027:opening"
    assert record["post"]["text"].startswith("La campagne 2027")
    assert not (data_dir / PID_FILE).exists()
