"""`tnl-bot outbox list|retry|cancel`: what the bot has sent or will send, and fixing it by hand."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TextIO

from bot.store.items import State

if TYPE_CHECKING:
    from rich.table import Table

    from bot.store.store import Store

STATES = [state.value for state in State]


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    outbox = commands.add_parser("outbox", help="list, retry or cancel outbox items")
    actions = outbox.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="items, newest last")
    listing.add_argument("--state", choices=STATES, help="only items in this state")
    listing.add_argument("--limit", type=int, default=50, help="items per page (default 50)")
    listing.add_argument(
        "--page",
        type=int,
        default=1,
        help="1: the newest items and keys, 2: the ones before… (default 1)",
    )
    listing.add_argument("--keys", type=int, default=20, help="keys per page (default 20)")
    listing.set_defaults(run=cmd_list)
    retry = actions.add_parser("retry", help="send a failed or cancelled item again")
    retry.add_argument("id", type=int)
    retry.set_defaults(run=cmd_retry)
    cancel = actions.add_parser("cancel", help="do not send a pending (or failed) item")
    cancel.add_argument("id", type=int)
    cancel.set_defaults(run=cmd_cancel)


def _with_outbox(args: argparse.Namespace, work: Callable[..., Awaitable[int]]) -> int:
    import asyncio

    from bot.options import settings_of
    from bot.outbox.queue import Outbox
    from bot.store.store import Store

    settings = settings_of(args)

    async def main() -> int:
        store = await Store.open(settings.store_url())
        try:
            deadline = dt.timedelta(hours=settings.outbox_deadline_hours)
            return await work(store, Outbox(store, default_deadline=deadline))
        finally:
            await store.close()

    return asyncio.run(main())


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from bot.display import visible
    from bot.outbox.queue import Outbox

    async def work(store: Store, outbox: Outbox) -> int:
        state = State(args.state) if args.state else None
        items = await outbox.items(state, max(args.limit, 1), latest=max(args.page, 1))
        table = Table(title=f"Outbox, page {args.page} (newest last)")
        for column in ("id", "key", "target", "state", "attempts", "due (UTC)", "reason / receipt"):
            table.add_column(column)
        for item in items:
            table.add_row(
                str(item.id),
                Text(visible(item.key)),
                Text(visible(item.target)),
                item.state.value,
                str(item.attempts),
                f"{item.due_at:%Y-%m-%d %H:%M}",
                Text(visible(item.receipt or item.reason or "")),  # errors quote platforms
            )
        counts = await outbox.counts()
        console = Console(file=out, highlight=False, width=120)
        console.print(table)
        out.write(", ".join(f"{state.value}: {count}" for state, count in counts.items()) + "\n")
        console.print(await broadcasts(store, max(args.keys, 1), max(args.page, 1)))
        return 0

    return _with_outbox(args, work)


async def broadcasts(store: Store, keys: int, page: int) -> Table:
    """Per key (one announcement or broadcast) of the page, and per target family
    (`telegram:*` sums every chat): sent / pending / failed / in doubt (sends that may have
    arrived twice). Summed by the store: one row per key, group and state reaches Python,
    however many chats a broadcast reached."""
    from rich.table import Table
    from rich.text import Text

    from bot.display import visible
    from bot.outbox.progress import progress

    table = Table(title="Progress per key")
    for column in ("key", "targets", "sent", "pending", "failed", "cancelled", "in doubt"):
        table.add_column(column, justify="left" if column in ("key", "targets") else "right")
    for line in await progress(store, keys, page=page):
        table.add_row(
            Text(visible(line.key)),
            Text(visible(line.targets)),
            *(str(n) for n in (line.counts[State.SENT], line.pending)),
            *(str(line.counts[state]) for state in (State.FAILED, State.CANCELLED)),
            str(line.in_doubt),
        )
    return table


def _transition(args: argparse.Namespace, out: TextIO, action: str) -> int:
    from bot.outbox.queue import Outbox, OutboxError

    async def work(store: Store, outbox: Outbox) -> int:
        now = dt.datetime.now(dt.UTC)
        try:
            change = outbox.retry if action == "retry" else outbox.cancel
            item = await change(args.id, now)
        except OutboxError as error:
            print(f"tnl-bot: outbox {action}: {error}", file=sys.stderr)
            return 1
        await store.audit(
            "cli", f"outbox.{action}", now, f"item {item.id} ({item.key} → {item.target})"
        )
        out.write(f"item {item.id} ({item.key} → {item.target}) is now {item.state.value}\n")
        return 0

    return _with_outbox(args, work)


def cmd_retry(args: argparse.Namespace, out: TextIO) -> int:
    return _transition(args, out, "retry")


def cmd_cancel(args: argparse.Namespace, out: TextIO) -> int:
    return _transition(args, out, "cancel")
