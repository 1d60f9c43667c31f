"""`tnl-bot run` and `tnl-bot reload`: the long-running bot (scheduler + outbox worker).

`run` wires the pieces that must live together in one process: the store, the outbox worker
with the targets named in the configuration, and the announcement scheduler. Connectors for
Telegram and Mastodon join here as further targets. `reload` signals a running bot (SIGHUP) to
re-read the calendar and templates, after checking them, via the pid file in the data directory.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import asyncio

    from bot.clock import Clock
    from bot.config import Settings
    from bot.outbox import Target

PID_FILE = "tnl-bot.pid"


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    run = commands.add_parser(
        "run", parents=[common], help="run the bot: announcements and outbox delivery"
    )
    run.set_defaults(run=cmd_run)
    reload = commands.add_parser(
        "reload", parents=[common], help="make the running bot re-read calendar and templates"
    )
    reload.set_defaults(run=cmd_reload)


def build_targets(settings: Settings, out: TextIO) -> list[Target]:
    from bot.targets import ConsoleTarget, JsonlTarget

    targets: list[Target] = []
    for name in settings.target_names():
        if name == "console":
            targets.append(ConsoleTarget(out))
        elif name == "jsonl":
            path = settings.jsonl_path or settings.data_dir / "publications.jsonl"
            targets.append(JsonlTarget(path, idempotent=settings.jsonl_idempotent))
        else:
            raise ValueError(f"unknown target {name!r} in TNL_TARGETS (known: console, jsonl)")
    return targets


async def serve(settings: Settings, clock: Clock, out: TextIO, stop: asyncio.Event) -> int:
    """Run until `stop` is set; 1 if the calendar or templates are invalid at start."""
    import asyncio

    from bot.outbox.queue import Outbox
    from bot.outbox.worker import DeliveryWorker
    from bot.store.store import Store
    from scheduler.runner import AnnouncementScheduler, Planner

    targets = build_targets(settings, out)
    store = await Store.open(settings.store_url())
    pid_file = settings.data_dir / PID_FILE
    runner: AnnouncementScheduler | None = None
    try:
        outbox = Outbox(store, dt.timedelta(hours=settings.outbox_deadline_hours))
        worker = DeliveryWorker(outbox, targets, clock)
        planner = Planner(
            store,
            outbox,
            clock,
            campaign_path=settings.campaign,
            templates_path=settings.templates,
            targets=[target.name for target in targets],
            grace=dt.timedelta(hours=settings.announcement_grace_hours),
            on_enqueued=worker.wake,
        )
        runner = AnnouncementScheduler(planner)
        if not await runner.start():
            return 1
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(runner.reload()))
            loop.add_signal_handler(signal.SIGTERM, stop.set)
            loop.add_signal_handler(signal.SIGINT, stop.set)
        pid_file.write_text(str(os.getpid()))
        await worker.run(stop)
        return 0
    finally:
        if runner is not None:
            runner.shutdown()
        pid_file.unlink(missing_ok=True)
        await store.close()


def _settings(args: argparse.Namespace) -> Settings:
    from bot.config import Settings

    settings = Settings()
    if args.campaign is not None:
        settings = settings.model_copy(update={"campaign": args.campaign})
    return settings


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    # asyncio costs `tnl-bot ask` 50 ms at import: every module the CLI loads imports it lazily.
    import asyncio

    from bot.clock import SystemClock

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = _settings(args)
    try:
        return asyncio.run(serve(settings, SystemClock(), out, asyncio.Event()))
    except ValueError as error:
        print(f"tnl-bot: run: {error}", file=sys.stderr)
        return 1


def cmd_reload(args: argparse.Namespace, out: TextIO) -> int:
    from bot.datafile import DataFileError
    from scheduler.campaign import load_campaign
    from scheduler.templates import check_plan

    settings = _settings(args)
    problems = check_plan(settings.campaign, settings.templates)
    try:
        load_campaign(settings.campaign)
    except DataFileError as error:
        problems = [*error.problems, *problems]
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print("tnl-bot: reload: not sent, the running bot keeps its plan", file=sys.stderr)
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
