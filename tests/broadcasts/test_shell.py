"""Organisers at the server's shell: `tnl-bot laureates check|publish`, `tnl-bot broadcast`
and `tnl-bot audit`, run as `tnl-bot` runs them (configured by the environment only)."""

from __future__ import annotations

import getpass
import io
import json
import os
from pathlib import Path

import pytest

from bot.cli import main
from bot.outbox.queue import Outbox
from bot.store.store import Store
from tests.fakes.telegram_server import FakeTelegram
from tests.manual_clock import ManualClock

FILES = Path(__file__).parent.parent / "data" / "laureates"


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An environment with nothing but a data directory (and no .env of the developer's)."""
    for name in [n for n in os.environ if n.startswith("TNL_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TNL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out), out.getvalue()


def test_laureates_check(shell: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = FILES / "palmares-2025-40-cp1252.csv"
    assert run("laureates", "check", str(good), "--edition", "2025")[0] == 0
    code, _ = run("laureates", "check", str(FILES / "unknown-type.csv"), "--edition", "2025")
    assert code == 1
    assert "unknown-type.csv:" in capsys.readouterr().err


async def test_broadcast_publish_and_audit_from_the_shell(
    shell: Path, monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    fake = await FakeTelegram(clock=clock).start()
    try:
        monkeypatch.setenv("TNL_TELEGRAM_TOKEN", fake.token)
        monkeypatch.setenv("TNL_TELEGRAM_API_URL", fake.url)
        monkeypatch.setenv("TNL_TELEGRAM_CHANNEL", "@tnl")
        code, out = await _in_thread("broadcast", "Bonjour à tous !", "--yes")
        assert code == 0, out
        assert "Aperçu de la diffusion n° 1" in out
        assert "Diffusion n° 1 confirmée" in out
        assert "Aucun bot en service" in out  # the running bot delivers; none runs here
        code, out = await _in_thread(
            "laureates",
            "publish",
            str(FILES / "palmares-2025-40-cp1252.csv"),
            "--edition",
            "2025",
            "--dry-run",
        )
        assert code == 0, out
        assert "Palmarès 2025" in out
        code, out = await _in_thread("withdraw", "1", "--yes")
        assert code == 0, out
        assert "Retrait de la diffusion n° 1" in out
        assert "— telegram : 1 annulé" in out  # no bot ran: it was still waiting
        code, out = await _in_thread("audit", "--json")
        actions = [json.loads(line) for line in out.splitlines()]
        me = f"console:{getpass.getuser()}"
        assert [(a["actor"], a["action"]) for a in reversed(actions)] == [
            (me, "broadcast.preview"),
            (me, "broadcast.confirm"),
            (me, "laureates.preview"),
            (me, "broadcast.cancel"),  # a dry run previews, then withdraws the draft
            (me, "withdraw.preview"),
            (me, "withdraw.confirm"),
        ]
        assert not fake.method_calls("sendMessage")  # the shell itself never sends
    finally:
        await fake.close()
    store = await Store.open(f"sqlite+aiosqlite:///{shell / 'tnl-bot.sqlite3'}")
    try:
        items = await Outbox(store).items()
        assert [(i.key, i.target, i.post.text, i.state.value) for i in items] == [
            ("broadcast:1", "telegram", "Bonjour à tous !", "cancelled")
        ]
    finally:
        await store.close()


async def _in_thread(*args: str) -> tuple[int, str]:
    """The command runs its own event loop, as from a shell; the fake keeps serving on ours."""
    import asyncio

    return await asyncio.to_thread(run, *args)


@pytest.fixture
def clock() -> ManualClock:
    import datetime as dt

    return ManualClock(dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC))
