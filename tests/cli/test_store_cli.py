"""`tnl-bot unanswered` shows what contacts typed as data; `tnl-bot store backup|check`."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.display import visible
from bot.store.store import Store

T0 = dt.datetime(2027, 3, 24, 8, 0, tzinfo=dt.UTC)
HOSTILE = [
    "comment [/] candidater ?",
    "[bold]urgent[/bold] dossier",
    "payer \u202eenilno\u202c ?",
    "cloche\x07 et \x1b[31mrouge",
]


def run(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(args, out=out), out.getvalue()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TNL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TNL_DATABASE_URL", raising=False)
    return tmp_path


def store_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'tnl-bot.sqlite3'}"


async def fill(directory: Path) -> None:
    store = await Store.open(store_url(directory))
    for question in HOSTILE:
        await store.log_unanswered(question, 0.2, T0)
    await store.close()


def test_visible_spells_out_control_and_bidi_characters_and_keeps_the_rest() -> None:
    assert visible("payer \u202eenilno\u202c") == "payer ⟨U+202E⟩enilno⟨U+202C⟩"
    assert visible("a\x1b[31mb\nc\u200bd") == "a⟨U+001B⟩[31mb⟨U+000A⟩c⟨U+200B⟩d"
    assert visible("Équipe 👩\u200d💻 « label » [/]") == "Équipe 👩\u200d💻 « label » [/]"


def test_unanswered_shows_markup_and_control_characters_as_data(data_dir: Path) -> None:
    asyncio.run(fill(data_dir))
    code, out = run(["unanswered"])
    assert code == 0
    assert "comment [/] candidater" in out
    assert "[bold]urgent[/bold]" in out
    assert "⟨U+202E⟩enilno⟨U+202C⟩" in out
    assert "cloche⟨U+0007⟩ et ⟨U+001B⟩[31mrouge" in out
    assert not any(char in out for char in "\u202e\u202c\x07\x1b")


def test_store_backup_and_check(data_dir: Path) -> None:
    asyncio.run(fill(data_dir))
    code, out = run(["store", "backup", str(data_dir / "copy.sqlite3")])
    assert code == 0
    assert "copy.sqlite3" in out
    assert (data_dir / "copy.sqlite3").stat().st_size > 0
    code, out = run(["store", "check"])
    assert code == 0
    assert "integrity: ok\n" in out
    assert "unanswered_questions: 4\n" in out


def test_a_store_not_what_it_was_is_one_line_and_exit_1(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (data_dir / "tnl-bot.sqlite3").write_bytes(b"")
    assert run(["store", "check"]) == (1, "")
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("tnl-bot: store ")
    assert "is empty (0 bytes)" in line
    assert (data_dir / "tnl-bot.sqlite3").read_bytes() == b""


@pytest.mark.parametrize("command", [["outbox", "list"], ["unanswered"]])
def test_a_zero_byte_store_stops_every_command_in_one_line(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in [n for n in os.environ if n.startswith("TNL_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "tnl-bot.sqlite3").write_bytes(b"")
    monkeypatch.setenv("TNL_DATA_DIR", str(data))
    monkeypatch.setenv("TNL_WEB_PORT", "0")
    code = main(command, io.StringIO())
    err = capsys.readouterr().err
    assert code in (1, 2), err
    assert "empty (0 bytes)" in err
    assert "Traceback" not in err
    assert (data / "tnl-bot.sqlite3").read_bytes() == b""  # untouched


def test_unanswered_groups_by_meaning_and_exports_candidates(data_dir: Path) -> None:
    async def asked() -> None:
        store = await Store.open(store_url(data_dir))
        for question in ("Jusqu'à quand peut-on déposer un dossier ?",) * 2 + (
            "jusqu'à quand peut on déposer le dossier svp",
            *HOSTILE,
        ):
            await store.log_unanswered(question, 0.2, T0)
        await store.close()

    asyncio.run(asked())
    code, out = run(["unanswered"])
    assert code == 0
    assert "regroupées par sens" in out
    lines = [line for line in out.splitlines() if "déposer" in line]
    assert lines[0].lstrip("│ ").startswith("3 ")  # one group: 2 + 1 askings
    code, out = run(["unanswered", "--export"])
    assert code == 0
    candidates = yaml.safe_load(out)
    assert any("payer \u202eenilno\u202c ?" in questions for questions in candidates.values())
    assert "\u202e" not in out
