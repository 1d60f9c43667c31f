"""Accounts configuration, secrets kept out of logs and reprs, and the CLI commands."""

from __future__ import annotations

import argparse
import io
import logging
from pathlib import Path

import pytest
from mastodon.errors import MastodonServiceUnavailableError
from pydantic import SecretStr

from bot.config import Settings
from bot.connectors.mastodon import register
from bot.connectors.mastodon.config import AccountError, MastodonAccount, load_accounts
from bot.connectors.mastodon.runtime import connect
from bot.datafile import DataFileError
from tests.fakes.mastodon_entities import Json
from tests.fakes.mastodon_server import FakeMastodon
from tests.manual_clock import ManualClock
from tests.mastodon.conftest import TOKEN

ACCOUNTS = """\
accounts:
  main:
    fields: {Site: "https://territoire-numerique-libre.org"}
  partenaire:
    url: https://social.example.org
    token_env: PARTNER_TOKEN
"""


def test_default_account_from_settings_and_more_by_name(tmp_path: Path) -> None:
    path = tmp_path / "mastodon.yaml"
    path.write_text(ACCOUNTS)
    settings = Settings(
        mastodon_url="https://mastodon.example",
        mastodon_token=SecretStr("t0"),
        mastodon_accounts=path,
    )
    accounts = load_accounts(settings, {"PARTNER_TOKEN": "t1"})
    assert sorted(accounts) == ["main", "partenaire"]
    assert accounts["main"].fields == (("Site", "https://territoire-numerique-libre.org"),)
    assert accounts["partenaire"].token.get_secret_value() == "t1"
    assert accounts["partenaire"].target_name == "mastodon:partenaire"
    with pytest.raises(AccountError, match="PARTNER_TOKEN"):
        load_accounts(settings, {})


def test_no_account_configured_means_no_connector() -> None:
    assert load_accounts(Settings(mastodon_url=None, mastodon_token=None), {}) == {}


def test_accounts_file_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "mastodon.yaml"
    path.write_text("accounts:\n  partenaire:\n    url: https://x.example\n    tokn_env: X\n")
    with pytest.raises(DataFileError) as error:
        load_accounts(Settings(mastodon_accounts=path), {})
    assert [p.line for p in error.value.problems] == [4]
    assert "tokn_env: is not a known field" in str(error.value)
    path.write_text("accounts:\n  partenaire:\n    url: https://x.example\n")
    with pytest.raises(DataFileError, match=r"mastodon\.yaml:3: accounts\.partenaire: needs both"):
        load_accounts(Settings(mastodon_accounts=path), {})


async def test_the_token_never_appears_in_reprs_or_logs(
    fake: FakeMastodon, bot_account: Json, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings(mastodon_url=fake.base, mastodon_token=SecretStr(TOKEN))
    clients = connect(settings, clock, {}, accounts=load_accounts(settings, {}))
    fake.fault("503", method="GET", path="/api/v1/accounts/verify_credentials")
    with pytest.raises(MastodonServiceUnavailableError):
        await clients["main"].call(lambda api: api.account_verify_credentials())
    shown = repr(settings) + str(settings) + repr(clients) + repr(load_accounts(settings, {}))
    assert TOKEN not in shown
    assert TOKEN not in caplog.text
    assert fake.calls[-1].method == "GET"  # the call did happen, with the token


def cli(argv: list[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="tnl-bot")
    register(parser.add_subparsers(dest="command"), argparse.ArgumentParser(add_help=False))
    args = parser.parse_args(argv)
    out = io.StringIO()
    return args.run(args, out), out.getvalue()


async def test_setup_and_whoami(fake: FakeMastodon, monkeypatch: pytest.MonkeyPatch) -> None:
    me = fake.add_account("tnl", TOKEN, bot=False)
    monkeypatch.setenv("TNL_MASTODON_URL", fake.base)
    monkeypatch.setenv("TNL_MASTODON_TOKEN", TOKEN)
    import asyncio

    code, out = await asyncio.to_thread(cli, ["mastodon", "whoami", "main"])
    assert (code, "bot flag NOT set" in out) == (0, True)
    code, out = await asyncio.to_thread(cli, ["mastodon", "setup", "main"])
    assert code == 0, out
    assert me["bot"] is True
    assert [f["name"] for f in me["fields"]] == ["Site", "Contact"]
    assert fake.policies[me["id"]]["for_private_mentions"] == "accept"
    code, out = await asyncio.to_thread(cli, ["mastodon", "whoami", "inconnu"])
    assert code == 2
    assert "no Mastodon account 'inconnu'" in out
    assert TOKEN not in out


def test_account_repr_masks_the_token() -> None:
    account = MastodonAccount("main", "https://m.example", SecretStr(TOKEN))
    assert TOKEN not in repr(account)
