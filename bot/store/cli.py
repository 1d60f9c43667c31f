"""`tnl-bot unanswered` (the questions the corpus does not answer yet, most frequent first) and
`tnl-bot store backup|check` (a consistent copy of the live store; its integrity and counts)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.store.store import Store


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    unanswered = commands.add_parser(
        "unanswered", help="most frequent questions the bot could not answer"
    )
    unanswered.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    unanswered.set_defaults(run=cmd_unanswered)
    store = commands.add_parser("store", help="back up or check the store")
    actions = store.add_subparsers(dest="action", required=True, metavar="ACTION")
    backup = actions.add_parser("backup", help="copy the live SQLite store to FILE")
    backup.add_argument("file", type=Path, metavar="FILE")
    backup.set_defaults(run=cmd_backup)
    check = actions.add_parser("check", help="integrity, schema revision and row counts")
    check.set_defaults(run=cmd_check)


def _with_store(args: argparse.Namespace, work: Callable[[Store], Awaitable[int]]) -> int:
    """Open the configured store for `work`; one line and 1 when it cannot be used."""
    import asyncio

    from bot.options import settings_of
    from bot.store.errors import UnusableStore
    from bot.store.store import Store

    settings = settings_of(args)

    async def main() -> int:
        store = await Store.open(settings.store_url())
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except UnusableStore as error:
        print(f"tnl-bot: {error}", file=sys.stderr)
        return 1


def cmd_unanswered(args: argparse.Namespace, out: TextIO) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from bot.display import visible
    from bot.french import long_datetime
    from bot.paris import PARIS

    async def work(store: Store) -> int:
        summaries = await store.most_unanswered(args.limit)
        if not summaries:
            out.write("Aucune question sans réponse enregistrée.\n")
            return 0
        table = Table(title="Questions sans réponse")
        for column in ("fois", "question (dernière formulation)", "meilleur score", "dernière"):
            table.add_column(column)
        for summary in summaries:
            table.add_row(
                str(summary.count),
                Text(visible(summary.question)),  # what people typed: data, never markup
                f"{summary.best_score:.2f}",
                long_datetime(summary.last_asked.astimezone(PARIS)),
            )
        Console(file=out, highlight=False, width=120).print(table)
        return 0

    return _with_store(args, work)


def cmd_backup(args: argparse.Namespace, out: TextIO) -> int:
    import time

    from bot.options import settings_of
    from bot.store import maintenance
    from bot.store.errors import UnusableStore

    path = maintenance.sqlite_path(settings_of(args).store_url())
    if path is None:
        print(
            "tnl-bot: store backup: the store is PostgreSQL: use pg_dump "
            "(e.g. pg_dump -Fc -f tnl-bot.dump DATABASE)",
            file=sys.stderr,
        )
        return 1
    started = time.perf_counter()
    try:
        size = maintenance.backup(path, args.file)
    except (UnusableStore, OSError) as error:
        print(f"tnl-bot: store backup: {error}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    out.write(f"{path} → {args.file}: {size / 1e6:.1f} MB in {elapsed:.1f} s\n")
    return 0


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    from bot.store import maintenance

    async def work(store: Store) -> int:
        health = await maintenance.check(store.engine)
        out.write(f"integrity: {health.integrity}\n")
        out.write(f"schema revision: {health.revision} (this code: {health.head})\n")
        for table, count in health.rows.items():
            out.write(f"{table}: {count}\n")
        return 0 if health.ok else 1

    return _with_store(args, work)
