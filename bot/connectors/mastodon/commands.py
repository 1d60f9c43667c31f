"""`tnl-bot mastodon setup ACCOUNT` and `tnl-bot mastodon whoami ACCOUNT`.

`setup` makes the account honest about what it is (the bot flag, shown on the profile and
used by other bots to avoid loops), fills the profile from configuration, and lets private
questions through the ≥ 4.3 notification filter. `whoami` checks a token before a deployment.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from bot.connectors.mastodon.client import MastodonClient

DEFAULT_ACCOUNT = "main"  # bot.connectors.mastodon.config.DEFAULT_ACCOUNT, without pydantic


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    mastodon = commands.add_parser("mastodon", help="Mastodon account hygiene")
    sub = mastodon.add_subparsers(dest="mastodon_command", required=True, metavar="ACTION")
    setup = sub.add_parser(
        "setup", parents=[common], help="set the bot flag, profile fields and notification policy"
    )
    setup.add_argument("account", nargs="?", default=DEFAULT_ACCOUNT, help="account name")
    setup.set_defaults(run=cmd_setup)
    whoami = sub.add_parser("whoami", parents=[common], help="check an account's token")
    whoami.add_argument("account", nargs="?", default=DEFAULT_ACCOUNT, help="account name")
    whoami.set_defaults(run=cmd_whoami)


def _client(args: argparse.Namespace, out: TextIO) -> MastodonClient | None:
    import os

    from bot.clock import SystemClock
    from bot.connectors.mastodon.client import MastodonClient
    from bot.connectors.mastodon.config import AccountError, load_accounts
    from bot.datafile import DataFileError
    from bot.options import settings_of

    name = args.account
    try:
        accounts = load_accounts(settings_of(args), os.environ)
    except (DataFileError, AccountError) as error:
        out.write(f"tnl-bot: {error}\n")
        return None
    if name not in accounts:
        known = ", ".join(sorted(accounts)) or "none (set TNL_MASTODON_URL and TNL_MASTODON_TOKEN)"
        out.write(f"tnl-bot: no Mastodon account {name!r}; configured: {known}\n")
        return None
    return MastodonClient(accounts[name], SystemClock())


async def whoami(client: MastodonClient, out: TextIO) -> int:
    me = await client.call(lambda api: api.account_verify_credentials())
    flag = "bot flag set" if me.bot else "bot flag NOT set (run `tnl-bot mastodon setup`)"
    out.write(f"{client.account.name}: @{me.acct} on {client.account.url} ({flag})\n")
    return 0


async def setup(client: MastodonClient, out: TextIO) -> int:
    from bot.connectors.mastodon.answer import WANTED_POLICY

    account = client.account
    fields = list(account.fields)
    me = await client.call(
        lambda api: api.account_update_credentials(
            display_name=account.display_name, note=account.note, bot=True, fields=fields
        )
    )
    out.write(f"@{me.acct}: bot flag {'set' if me.bot else 'NOT set'}, {len(me.fields)} fields\n")
    await client.call(lambda api: api.update_notifications_policy(**WANTED_POLICY))
    out.write("notification policy: private mentions and unknown accounts accepted\n")
    return 0


def _run(args: argparse.Namespace, out: TextIO, action: str) -> int:
    from mastodon.errors import MastodonError

    from bot.connectors.mastodon.client import Throttled

    client = _client(args, out)
    if client is None:
        return 2
    try:
        import asyncio  # lazily: the CLI builds its parser, with this module, on every call

        return asyncio.run(setup(client, out) if action == "setup" else whoami(client, out))
    except (MastodonError, Throttled) as error:
        out.write(f"tnl-bot: Mastodon {action} failed for {args.account!r}: {error}\n")
        return 1


def cmd_setup(args: argparse.Namespace, out: TextIO) -> int:
    return _run(args, out, "setup")


def cmd_whoami(args: argparse.Namespace, out: TextIO) -> int:
    return _run(args, out, "whoami")
