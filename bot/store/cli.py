"""`tnl-bot unanswered` (the questions the corpus does not answer yet, most frequent first) and
`tnl-bot store backup|check` (a consistent copy of the live store; its integrity and counts)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.faq.curation import Group
    from bot.faq.engine import FaqEngine
    from bot.store.store import Store


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    unanswered = commands.add_parser(
        "unanswered",
        help="questions the bot could not answer (and 👎), grouped by meaning",
        parents=[common],
    )
    unanswered.add_argument("--limit", type=int, default=20, help="how many groups (default 20)")
    unanswered.add_argument(
        "--export",
        action="store_true",
        help="print the groups as a YAML snippet of candidate alternatives, entry → questions",
    )
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


# Distinct questions read from the store to group: the most asked, well beyond a week's misses.
GROUPED_QUESTIONS = 2_000


def cmd_unanswered(args: argparse.Namespace, out: TextIO) -> int:
    async def work(store: Store) -> int:
        summaries = await store.most_unanswered(GROUPED_QUESTIONS)
        if not summaries:
            out.write("Aucune question sans réponse enregistrée.\n")
            return 0
        from bot.faq import curation

        asked = [curation.Asked(s.question, s.count) for s in summaries]
        groups = curation.group_questions(asked, _engine(args).index)[: args.limit]
        if args.export:
            out.write(curation.export(groups))
        else:
            _print_groups(groups, out)
        return 0

    return _with_store(args, work)


def _engine(args: argparse.Namespace) -> FaqEngine:
    from bot.faq.corpus import load_corpus
    from bot.faq.engine import FaqEngine
    from bot.options import settings_of
    from scheduler.campaign import load_campaign

    settings = settings_of(args)
    return FaqEngine(load_corpus(settings.corpus_dir), load_campaign(settings.campaign))


def _print_groups(groups: list[Group], out: TextIO) -> None:
    """One line per group: how often, a few wordings, the closest entry and its score."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from bot.display import visible
    from bot.faq.curation import EXAMPLES

    table = Table(title="Questions sans réponse, regroupées par sens")
    for column in ("fois", "exemples", "entrée la plus proche", "score"):
        table.add_column(column, justify="right" if column in ("fois", "score") else "left")
    for group in groups:
        examples = " · ".join(visible(q) for q in group.questions[:EXAMPLES])
        more = len(group.questions) - EXAMPLES
        if more > 0:
            examples += f" (+{more})"
        table.add_row(
            str(group.count),
            Text(examples),  # what people typed: data, never markup
            group.entry or "—",
            f"{group.score:.0f}",
        )
    Console(file=out, highlight=False, width=120).print(table)


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
