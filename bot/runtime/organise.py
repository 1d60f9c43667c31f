"""`tnl-bot broadcast`, `tnl-bot laureates check|publish` and `tnl-bot audit`: the organisers'
commands from the server's shell, through the same preview and confirmation as in a chat.

The running bot delivers what is confirmed here (the outbox is shared through the store); while
it does, a progress bar follows the deliveries and a table sums them up per target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.options import file_options, settings_of

if TYPE_CHECKING:
    from rich.console import Console

    from bot.runtime.desk import Desk

WAIT = 0.5  # seconds between two looks at the outbox while the bot delivers
# (asyncio and the rest are imported by the commands: this module is loaded by every `tnl-bot`
# call, `ask` included, which must start fast.)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    files = file_options()
    broadcast = commands.add_parser(
        "broadcast", parents=[files], help="preview, confirm and send a message (organisers)"
    )
    broadcast.add_argument("text", help="the message, as it will be published")
    broadcast.add_argument(
        "--targets",
        help="comma-separated, e.g. telegram,mastodon:main (telegram:abonnes: subscribers)",
    )
    broadcast.add_argument("--at", metavar="AAAA-MM-JJ HH:MM", help="later, Paris time")
    broadcast.add_argument("--yes", action="store_true", help="confirm without asking")
    broadcast.set_defaults(run=cmd_broadcast)

    laureates = commands.add_parser("laureates", help="the laureates of an edition")
    sub = laureates.add_subparsers(dest="laureates_command", required=True, metavar="ACTION")
    check = sub.add_parser("check", parents=[files], help="check a laureates file (CSV or YAML)")
    check.add_argument("file", type=Path)
    check.add_argument("--edition", type=int, required=True)
    check.set_defaults(run=cmd_laureates_check)
    publish = sub.add_parser("publish", parents=[files], help="preview, confirm and publish")
    publish.add_argument("file", type=Path)
    publish.add_argument("--edition", type=int, required=True)
    choice = publish.add_mutually_exclusive_group()
    choice.add_argument("--dry-run", action="store_true", help="show the preview only")
    choice.add_argument("--yes", action="store_true", help="confirm without asking")
    publish.set_defaults(run=cmd_laureates_publish)

    withdraw = commands.add_parser(
        "withdraw", parents=[files], help="cancel and delete a confirmed broadcast"
    )
    withdraw.add_argument("number", type=int, help="the broadcast's number")
    withdraw.add_argument("--yes", action="store_true", help="confirm without asking")
    withdraw.set_defaults(run=cmd_withdraw)

    audit = commands.add_parser("audit", parents=[files], help="who did what, latest first")
    audit.add_argument("--since", type=dt.date.fromisoformat, metavar="AAAA-MM-JJ")
    audit.add_argument("--limit", type=int, default=100)
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    audit.set_defaults(run=cmd_audit)


def cmd_laureates_check(args: argparse.Namespace, out: TextIO) -> int:
    from bot.broadcasts.laureates import MASTODON, TELEGRAM
    from bot.laureates.check import check_file

    problems = check_file(args.file, args.edition, mastodon=MASTODON, telegram=TELEGRAM)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"tnl-bot: laureates: {len(problems)} error(s), nothing published", file=sys.stderr)
        return 1
    out.write(f"OK: {args.file} can be published for {args.edition}\n")
    return 0


def cmd_broadcast(args: argparse.Namespace, out: TextIO) -> int:
    async def work(desk: Desk, console: Console) -> int:
        from bot.broadcasts.plan import same_post
        from bot.clock import parse_moment
        from bot.conversation import Incoming
        from bot.outbox.post import Post

        targets = (
            tuple(t.strip() for t in args.targets.split(",") if t.strip())
            if args.targets
            else tuple(desk.organisers.connectors)
        )
        audiences = desk.organisers.audiences()
        unknown = [t for t in targets if t not in audiences]
        if unknown or not targets:
            known = ", ".join(audiences) or "none configured"
            print(
                f"tnl-bot: broadcast: unknown target(s) {unknown} (known: {known})", file=sys.stderr
            )
            return 2
        due = parse_moment(args.at.replace(" ", "T")) if args.at else None
        incoming = Incoming("console", "shell", desk.identity, "")
        preview = await desk.organisers.draft(
            incoming, "broadcast", same_post(Post(args.text), targets), due
        )
        return await _confirm(desk, console, preview.text, yes=args.yes)

    return _at_the_desk(args, out, work)


def cmd_laureates_publish(args: argparse.Namespace, out: TextIO) -> int:
    async def work(desk: Desk, console: Console) -> int:
        from bot.conversation import Attachment

        file = Attachment(args.file.name, args.file.read_bytes())
        reply = await desk.say(f"/laureats {args.edition}", file)
        if "/confirmer" not in reply.text:  # refused: the problems are in the reply
            console.print(reply.text, markup=False)
            return 1
        if args.dry_run:
            console.print(reply.text, markup=False)
            await desk.say("/annuler")
            return 0
        return await _confirm(desk, console, reply.text, yes=args.yes)

    return _at_the_desk(args, out, work)


def cmd_withdraw(args: argparse.Namespace, out: TextIO) -> int:
    async def work(desk: Desk, console: Console) -> int:
        preview = await desk.say(f"/retirer {args.number}")
        if "/confirmer" not in preview.text:  # nothing to withdraw: the reason is the reply
            console.print(preview.text, markup=False)
            return 1
        console.print(preview.text, markup=False)
        if not args.yes and not await _agreed():
            await desk.say("/annuler")
            console.print("Annulé : rien n’a été retiré.")
            return 1
        console.print((await desk.say("/confirmer")).text, markup=False)
        return 0

    return _at_the_desk(args, out, work)


async def _agreed() -> bool:
    import asyncio

    answer = await asyncio.to_thread(input, "Confirmer ? [o/N] ")
    return answer.strip().casefold() in ("o", "oui", "y", "yes")


async def _confirm(desk: Desk, console: Console, preview: str, *, yes: bool) -> int:
    """Show the preview, ask (unless --yes), confirm; then follow the deliveries."""
    console.print(preview, markup=False)
    if not yes and not await _agreed():
        await desk.say("/annuler")
        console.print("Annulé : rien n’a été envoyé.")
        return 1
    confirmed = await desk.say("/confirmer")
    console.print(confirmed.text, markup=False)
    if "confirmée" not in confirmed.text:
        return 1
    number = int(confirmed.text.split("n° ", 1)[1].split(" ", 1)[0].rstrip(","))
    return await _follow(desk, console, number)


async def _follow(desk: Desk, console: Console, number: int) -> int:
    """A progress bar while the running bot delivers, then a table per target."""
    import asyncio

    from rich.progress import Progress
    from rich.table import Table

    from bot.broadcasts.plan import from_json
    from bot.outbox.progress import progress
    from bot.runtime.lock import running_pid
    from bot.store.broadcasts import BroadcastRecords
    from bot.store.items import State

    broadcast = await BroadcastRecords(desk.store).get(number)
    assert broadcast is not None
    keys = from_json(broadcast.post).keys(number)
    if broadcast.due_at is not None:
        console.print("Programmée : le bot en service l’enverra à l’heure dite.")
        return 0
    if running_pid(desk.settings.data_dir) is None:
        console.print("Aucun bot en service : l’envoi partira au prochain `tnl-bot run`.")
        return 0
    audiences = list(desk.organisers.audiences())
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("Envoi", total=None)
        while True:
            lines = [
                line
                for key in keys
                for line in await progress(desk.store, key=key, audiences=audiences)
            ]
            total = sum(sum(line.counts.values()) for line in lines)
            left = sum(line.pending for line in lines)
            bar.update(task, total=total, completed=total - left)
            if total and not left:
                break
            await asyncio.sleep(WAIT)
    table = Table(title=f"Diffusion n° {number}")
    for column in ("cible", "envoyés", "échecs", "incertains"):
        table.add_column(column)
    for line in lines:
        table.add_row(
            line.targets,
            str(line.counts[State.SENT]),
            str(line.counts[State.FAILED]),
            str(line.in_doubt),
        )
    console.print(table)
    return 1 if any(line.counts[State.FAILED] for line in lines) else 0


def _at_the_desk(
    args: argparse.Namespace, out: TextIO, work: Callable[[Desk, Console], Awaitable[int]]
) -> int:
    """Run `work` at an organiser's desk opened on the configured store and platforms."""
    import asyncio
    import os

    from rich.console import Console

    from bot.clock import SystemClock
    from bot.datafile import DataFileError
    from bot.runtime.assembly import load_data
    from bot.runtime.desk import desk

    settings = settings_of(args)
    try:
        engine = load_data(settings)
    except DataFileError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 1
    console = Console(file=out, highlight=False)

    async def main() -> int:
        async with desk(settings, engine, SystemClock(), os.environ) as opened:
            return await work(opened, console)

    return asyncio.run(main())


def cmd_audit(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio
    import json

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from bot.paris import PARIS
    from bot.store.store import Store

    settings = settings_of(args)
    since = dt.datetime.combine(args.since, dt.time(), tzinfo=PARIS) if args.since else None

    async def entries() -> list[tuple[str, str, str, str]]:
        store = await Store.open(settings.store_url())
        try:
            found = await store.audit_entries(args.limit, since)
        finally:
            await store.close()
        return [
            (
                e.at.astimezone(PARIS).isoformat(timespec="seconds"),
                e.actor,
                e.action,
                e.detail or "",
            )
            for e in found
        ]

    rows = asyncio.run(entries())
    if args.json:
        for at, actor, action, detail in rows:
            record = {"at": at, "actor": actor, "action": action, "detail": detail}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return 0
    table = Table(title="Journal d’audit")
    for column in ("quand (Paris)", "qui", "quoi", "détail"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # Text: what people typed is never markup
    Console(file=out, highlight=False, width=160).print(table)
    return 0
