"""`tnl-bot run` and `tnl-bot reload`: the commands of the long-running bot.

`run` starts what bot.assembly puts together (connectors, outbox worker, scheduler); `reload`
checks the data files, then signals the running bot (SIGHUP, via the pid file in the data
directory) to re-read them.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.options import file_options

if TYPE_CHECKING:
    from bot.config import Settings

# The assembly's own constant, repeated here so that `reload` need not import the whole bot.
PID_FILE = "tnl-bot.pid"


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    files = file_options()  # no --now: the running bot lives in real time
    run = commands.add_parser(
        "run", parents=[files], help="run the bot: answers, announcements and outbox delivery"
    )
    run.set_defaults(run=cmd_run)
    reload = commands.add_parser(
        "reload",
        parents=[files],
        help="check, then make the running bot re-read corpus, calendar and templates",
    )
    reload.set_defaults(run=cmd_reload)


def _settings(args: argparse.Namespace) -> Settings:
    from bot.config import load_settings

    return load_settings(corpus_dir=args.corpus, campaign=args.campaign)


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    # asyncio costs `tnl-bot ask` 50 ms at import: every module the CLI loads imports it lazily.
    import asyncio

    from bot.assembly import serve
    from bot.clock import SystemClock

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from bot.config import ConfigurationError

    try:
        settings = _settings(args)
        return asyncio.run(serve(settings, SystemClock(), out, asyncio.Event()))
    except (ConfigurationError, ValueError) as error:
        print(f"tnl-bot: run: {error}", file=sys.stderr)
        return 1


def cmd_reload(args: argparse.Namespace, out: TextIO) -> int:
    from bot.config import ConfigurationError
    from bot.datafile import DataFileError
    from bot.faq.engine import FaqEngine
    from scheduler.templates import check_plan

    try:
        settings = _settings(args)
    except ConfigurationError as error:
        print(f"tnl-bot: reload: {error}", file=sys.stderr)
        return 1
    # What the running bot will re-read: refuse to signal it when any of it is invalid.
    problems = check_plan(settings.campaign, settings.templates)
    try:
        FaqEngine.from_files(settings.corpus_dir, settings.campaign)
    except DataFileError as error:
        problems = [*error.problems, *problems]
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print("tnl-bot: reload: not sent, the running bot keeps its data", file=sys.stderr)
        return 1
    pid_file: Path = settings.data_dir / PID_FILE
    try:
        pid = int(pid_file.read_text())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError):
        print(f"tnl-bot: reload: no running bot ({pid_file} missing or stale)", file=sys.stderr)
        return 1
    out.write(f"reload signal sent to process {pid}\n")
    return 0
