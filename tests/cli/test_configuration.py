"""Every bad configuration ends in one line naming the setting at fault, and exit 2.

Run in-process through `bot.cli.main` (a traceback would be an exception escaping it); `tnl-bot
run` is also refused as a subprocess in tests/test_run.py.
"""

from __future__ import annotations

import io
import os
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.config import Settings

PASSWORD = "pa55-w0rd-never-shown"
# Every command that reads the settings, with arguments that would work.
COMMANDS = [
    ["ask", "bonjour"],
    ["chat"],
    ["check"],
    ["schedule"],
    ["outbox", "list"],
    ["unanswered"],
    ["run"],
    ["reload"],
    ["mastodon", "whoami"],
]
STORE_COMMANDS = [["chat"], ["outbox", "list"], ["unanswered"]]  # run: tests/test_run.py
NOWHERE = "no-such-host.invalid"

# name → (environment, .env text, what the one line says after `tnl-bot: <command>: `)
SETTINGS_ERRORS: dict[str, tuple[dict[str, str], str | None, str]] = {
    "number": ({"TNL_WEB_PORT": "http"}, None, "TNL_WEB_PORT: Input should be a valid integer"),
    "alias": ({"TNL_FLOOD_MESSAGES": "0"}, None, "TNL_FLOOD_MESSAGES: Input should be"),
    "choice": ({"TNL_LOG_FORMAT": "xml"}, None, "TNL_LOG_FORMAT: Input should be 'text' or"),
    "env-file-value": ({}, "TNL_DATA_DIR=d\nTNL_WEB_PORT=99999\n", ".env:2: TNL_WEB_PORT: "),
    "env-file-line": ({}, "# réglages\nTNL_DATA_DIR=d\nnot a setting\n", ".env:3: cannot parse"),
    "empty-url": ({"TNL_DATABASE_URL": ""}, None, "TNL_DATABASE_URL: empty: unset it"),
    "postgres-url": (
        {"TNL_DATABASE_URL": f"postgres://tnl:{PASSWORD}@localhost/tnl"},
        None,
        "TNL_DATABASE_URL: use postgresql+asyncpg:// instead of postgres://",
    ),
    "mysql-url": (
        {"TNL_DATABASE_URL": f"mysql://tnl:{PASSWORD}@localhost/tnl"},
        None,
        "TNL_DATABASE_URL: mysql:// is not supported",
    ),
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No TNL_ variable nor `.env` from the machine; stdin closed (chat would read it)."""
    for name in list(os.environ):
        if name.startswith("TNL_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TNL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))


def refused(command: list[str], capsys: pytest.CaptureFixture[str], expected: str) -> None:
    """`command` exits 2 with exactly one line, `tnl-bot: <command>: <expected>…`."""
    code = main(command, out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert err.startswith(f"tnl-bot: {command[0]}: {expected}"), err
    assert PASSWORD not in err


@pytest.mark.parametrize("command", COMMANDS, ids="-".join)
@pytest.mark.parametrize("case", SETTINGS_ERRORS)
def test_a_bad_setting_is_one_line_for_every_command(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    case: str,
    command: list[str],
) -> None:
    environ, env_file, expected = SETTINGS_ERRORS[case]
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    if env_file is not None:
        (tmp_path / ".env").write_text(env_file, encoding="utf-8")
    refused(command, capsys, expected)


def unresolvable(host: str, *args: Any, **kwargs: Any) -> Any:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def read_only_directory(tmp_path: Path) -> Path:
    """A directory the bot cannot write in: permissions do not stop root, /proc does."""
    if os.geteuid() == 0:
        return Path("/proc/self")
    directory = tmp_path / "read-only"
    directory.mkdir(mode=0o555)
    return directory


def refused_port() -> int:
    """A loopback port nothing listens on: bound, never listening, closed by the test's end."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", STORE_COMMANDS, ids="-".join)
@pytest.mark.parametrize("case", ["refused", "unknown-host", "data-dir-file", "read-only"])
def test_a_store_it_cannot_open_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    case: str,
    command: list[str],
) -> None:
    if case == "refused":
        url = f"postgresql+asyncpg://tnl:{PASSWORD}@127.0.0.1:{refused_port()}/tnl"
        monkeypatch.setenv("TNL_DATABASE_URL", url)
        expected = "TNL_DATABASE_URL: cannot connect to postgresql+asyncpg://tnl:***@127.0.0.1:"
    elif case == "unknown-host":
        # The resolver answers "unknown" without asking a name server: tests stay on loopback.
        monkeypatch.setattr(socket, "getaddrinfo", unresolvable)
        monkeypatch.setenv("TNL_DATABASE_URL", f"postgresql+asyncpg://tnl:{PASSWORD}@{NOWHERE}/t")
        expected = f"TNL_DATABASE_URL: cannot connect to postgresql+asyncpg://tnl:***@{NOWHERE}/t"
    elif case == "data-dir-file":
        (tmp_path / "data").write_text("", encoding="utf-8")
        expected = f"TNL_DATA_DIR: {tmp_path / 'data'}: is a file, not a directory"
    else:
        directory = read_only_directory(tmp_path)
        monkeypatch.setenv("TNL_DATA_DIR", str(directory))
        expected = f"TNL_DATA_DIR: cannot write the database in {directory}"
    refused(command, capsys, expected)


def test_check_validates_the_configuration_and_passes_on_a_good_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TNL_DATABASE_URL", f"postgresql+asyncpg://tnl:{PASSWORD}@db/tnl")
    assert main(["check"], out=io.StringIO()) == 0, capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("tnl-bot 0.")


def test_env_example_documents_every_setting() -> None:
    """`.env.example` names every setting, commented out or set, so it is the full list."""
    text = (Path(__file__).parents[2] / ".env.example").read_text(encoding="utf-8")
    documented = {
        line.lstrip("# ").partition("=")[0]
        for line in text.splitlines()
        if line.lstrip("# ").startswith("TNL_")
    }
    expected = {f"TNL_{name.upper()}" for name in Settings.model_fields}
    assert expected - documented == set()
    assert documented - expected == set()
