"""`tnl-bot unanswered`: the questions the corpus does not answer yet, most frequent first."""

from __future__ import annotations

import argparse
from typing import TextIO


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    unanswered = commands.add_parser(
        "unanswered", help="most frequent questions the bot could not answer"
    )
    unanswered.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    unanswered.set_defaults(run=cmd_unanswered)


def cmd_unanswered(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio

    from rich.console import Console
    from rich.table import Table

    from bot.french import long_datetime
    from bot.options import settings_of
    from bot.paris import PARIS
    from bot.store.store import Store

    settings = settings_of(args)

    async def main() -> int:
        store = await Store.open(settings.store_url())
        try:
            summaries = await store.most_unanswered(args.limit)
        finally:
            await store.close()
        if not summaries:
            out.write("Aucune question sans réponse enregistrée.\n")
            return 0
        table = Table(title="Questions sans réponse")
        for column in ("fois", "question (dernière formulation)", "meilleur score", "dernière"):
            table.add_column(column)
        for summary in summaries:
            table.add_row(
                str(summary.count),
                summary.question,
                f"{summary.best_score:.2f}",
                long_datetime(summary.last_asked.astimezone(PARIS)),
            )
        Console(file=out, highlight=False, width=120).print(table)
        return 0

    return asyncio.run(main())
