"""Every module imports alone, in a fresh interpreter, and importing it does nothing.

An import cycle shows up as a module that fails when it is the first one imported (the order a
test suite happens to use hides it); a side effect at import (a data file created, logging
configured, an event loop asked for) surprises whoever imports the module for something else —
the CLI, a test, a benchmark. Each module gets its own interpreter, several at a time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "scheduler", "faq_corpus")
# Scripts, not modules: running is what importing them is for.
SCRIPTS = {
    "bot.__main__",  # `python -m bot`
    "bot.store.migrations.env",  # run by Alembic inside a migration
}

CHILD = """
import asyncio, importlib, logging, sys

class NoLoop(asyncio.DefaultEventLoopPolicy):
    def get_event_loop(self):
        raise RuntimeError("an event loop was asked for at import")

    def new_event_loop(self):
        raise RuntimeError("an event loop was created at import")

asyncio.set_event_loop_policy(NoLoop())
def handled(logger):
    # A library's NullHandler is the convention for "configure me", not configuration.
    return [h for h in logger.handlers if not isinstance(h, logging.NullHandler)]

root = logging.getLogger()
before = (handled(root), root.level, logging.getLogRecordFactory())
importlib.import_module(sys.argv[1])
problems = []
if (handled(root), root.level) != before[:2]:
    problems.append("configured the root logger")
if logging.getLogRecordFactory() is not before[2]:
    problems.append("replaced the log record factory")
problems += [
    f"gave logger {name} a handler"
    for name, logger in logging.Logger.manager.loggerDict.items()
    if isinstance(logger, logging.Logger) and handled(logger)
]
print("; ".join(problems))
"""


def modules() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            if name not in SCRIPTS:
                found.append(name)
    return found


def import_alone(module: str, workdir: Path) -> str:
    """What went wrong importing `module` first thing in a new interpreter ('' if nothing),
    run in an empty `workdir` that must stay empty."""
    workdir.mkdir()
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(workdir / "home"),
        "TNL_DATA_DIR": str(workdir / "data"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", CHILD, module],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        return f"{module}: import failed\n{result.stderr.strip().splitlines()[-1]}"
    created = sorted(str(path.relative_to(workdir)) for path in workdir.rglob("*"))
    problems = [p for p in (result.stdout.strip(), f"created {created}" if created else "") if p]
    return f"{module}: {'; '.join(problems)}" if problems else ""


def source_files() -> set[Path]:
    return {
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*")
        if "__pycache__" not in path.parts
    }


@pytest.mark.slow
def test_every_module_imports_alone_without_side_effects(tmp_path: Path) -> None:
    names = modules()
    assert {"bot.outbox.queue", "scheduler.runner", "faq_corpus"} <= set(names)
    sources = source_files()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        reports = pool.map(lambda n: import_alone(n, tmp_path / n), names)
        problems = [report for report in reports if report]
    assert problems == []
    assert source_files() == sources  # nothing written next to the code either
