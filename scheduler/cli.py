"""`tnl-bot schedule`: the upcoming announcements, their French dates and rendered texts."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TextIO


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    schedule = commands.add_parser(
        "schedule", parents=[common], help="list the upcoming campaign announcements"
    )
    schedule.add_argument("--templates", type=Path, metavar="FILE", help="env TNL_TEMPLATES")
    schedule.add_argument(
        "--all", action="store_true", help="also list past announcements of the calendar"
    )
    schedule.set_defaults(run=cmd_schedule)


def cmd_schedule(args: argparse.Namespace, out: TextIO) -> int:
    from rich.console import Console
    from rich.table import Table

    from bot.datafile import DataFileError
    from bot.french import long_datetime
    from bot.options import settings_of
    from bot.paris import PARIS
    from scheduler.campaign import load_campaign
    from scheduler.plan import campaign_plan
    from scheduler.templates import load_templates, render_problems

    settings = settings_of(args)
    now = args.now if args.now is not None else dt.datetime.now(dt.UTC)
    try:
        campaign = load_campaign(args.campaign or settings.campaign)
        templates = load_templates(args.templates or settings.templates)
        plan = campaign_plan(campaign)
        problems = render_problems(templates, plan)
        if problems:
            raise DataFileError(problems)
    except DataFileError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"tnl-bot: schedule: {len(error.problems)} error(s), see above", file=sys.stderr)
        return 1
    shown = plan if args.all else [a for a in plan if a.due >= now]
    console = Console(file=out, highlight=False, width=max(Console(file=out).width, 100))
    if not shown:
        console.print(
            f"Aucune annonce à venir après le {long_datetime(now.astimezone(PARIS))} : "
            "ajoutez la prochaine édition au calendrier."
        )
        return 0
    table = Table(title="Annonces de campagne", show_lines=True)
    table.add_column("Quand (Paris)", no_wrap=True)
    table.add_column("Annonce", no_wrap=True)
    table.add_column("Texte")
    for announcement in shown:
        when = long_datetime(announcement.due.astimezone(PARIS))
        if announcement.due < now:
            when += " (passée)"
        table.add_row(when, announcement.id, templates.render(announcement))
    console.print(table)
    return 0
