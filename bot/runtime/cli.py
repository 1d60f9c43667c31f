"""`tnl-bot run` and `tnl-bot reload`: the commands of the long-running bot.

`run` starts what `bot.runtime.assembly` puts together (connectors, outbox worker, scheduler,
web application); `reload` checks the data files, then signals the running bot (SIGHUP; the pid
comes from the instance lock, and only while a bot holds it) to re-read them.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import TextIO

from bot.options import file_options, settings_of


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


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    # asyncio costs `tnl-bot ask` 50 ms at import: every module the CLI loads imports it lazily.
    import asyncio

    from bot.clock import SystemClock
    from bot.runtime import logs
    from bot.runtime.assembly import serve

    settings = settings_of(args)
    logs.configure(
        [*settings.secrets(), *logs.environment_secrets(os.environ)],
        settings.log_level,
        json_lines=settings.log_format == "json",
    )
    return asyncio.run(serve(settings, SystemClock(), out, asyncio.Event(), environ=os.environ))


def cmd_reload(args: argparse.Namespace, out: TextIO) -> int:
    from bot.datafile import DataFileError
    from bot.runtime.assembly import load_data
    from bot.runtime.lock import running_pid

    settings = settings_of(args)
    # What the running bot will re-read: refuse to signal it when any of it is invalid.
    try:
        load_data(settings)
    except DataFileError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print("tnl-bot: reload: not sent, the running bot keeps its data", file=sys.stderr)
        return 1
    pid = running_pid(settings.data_dir)
    if pid is None:
        print(f"tnl-bot: reload: no running bot on {settings.data_dir}", file=sys.stderr)
        return 1
    os.kill(pid, signal.SIGHUP)
    out.write(f"reload signal sent to process {pid}\n")
    return 0
