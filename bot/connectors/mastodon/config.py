"""Mastodon accounts: the default one from the environment, more by name in a YAML file.

Tokens never live in files: the accounts file names the environment variable that holds each
token, so the file can be committed and reviewed while secrets stay in the deployment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from bot import texts
from bot.datafile import DataFileError, read_yaml, validate

if TYPE_CHECKING:
    from bot.config import Settings

DEFAULT_ACCOUNT = "main"
DEFAULT_HASHTAGS = ("TerritoireNumériqueLibre",)
DEFAULT_NOTE = (
    "Assistant automatique du label Territoire Numérique Libre : annonces des campagnes et "
    "réponses aux questions sur la candidature. Mentionnez-moi avec votre question."
)
DEFAULT_FIELDS = (
    ("Site", "https://territoire-numerique-libre.org"),
    ("Contact", texts.CONTACT_EMAIL),
)


class AccountEntry(BaseModel):
    """One account in the accounts file; `main` may omit url and token_env (the environment's)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    token_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    hashtags: list[str] = Field(default_factory=lambda: list(DEFAULT_HASHTAGS))
    display_name: Annotated[str, Field(max_length=30)] | None = None
    note: Annotated[str, Field(max_length=500)] | None = None
    fields: Annotated[dict[str, str], Field(max_length=4)] | None = None
    answer_mentions: bool = True
    poll_seconds: Annotated[float, Field(ge=5)] = 30.0


class AccountsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accounts: dict[str, AccountEntry] = Field(default_factory=dict)


@dataclass(frozen=True)
class MastodonAccount:
    """Everything needed to act as one account. `token` is a SecretStr: its repr is masked."""

    name: str
    url: str
    token: SecretStr
    hashtags: tuple[str, ...] = DEFAULT_HASHTAGS
    display_name: str | None = None
    note: str = DEFAULT_NOTE
    fields: tuple[tuple[str, str], ...] = DEFAULT_FIELDS
    answer_mentions: bool = True
    poll_seconds: float = 30.0

    @property
    def target_name(self) -> str:
        """The outbox target and store cursor name: `mastodon:<account>`."""
        return f"mastodon:{self.name}"


class AccountError(Exception):
    """An account cannot be used (unknown name, missing token variable)."""


def _account(name: str, entry: AccountEntry, url: str, token: str) -> MastodonAccount:
    return MastodonAccount(
        name=name,
        url=url.rstrip("/"),
        token=SecretStr(token),
        hashtags=tuple(tag.lstrip("#") for tag in entry.hashtags),
        display_name=entry.display_name,
        note=entry.note if entry.note is not None else DEFAULT_NOTE,
        fields=tuple(entry.fields.items()) if entry.fields is not None else DEFAULT_FIELDS,
        answer_mentions=entry.answer_mentions,
        poll_seconds=entry.poll_seconds,
    )


def load_accounts(settings: Settings, environ: Mapping[str, str]) -> dict[str, MastodonAccount]:
    """Every configured account by name; an empty dict when Mastodon is not configured.

    `environ` is where the accounts file's `token_env` variables are looked up: the process's
    environment, read by the runtime (this module never reads it on its own).
    Raises DataFileError (`file:line: message`) for a bad accounts file, AccountError when a
    token variable is missing.
    """
    env = environ
    entries: dict[str, AccountEntry] = {}
    path: Path | None = settings.mastodon_accounts
    if path is not None:
        document = read_yaml(path)
        entries = validate(document, AccountsFile).accounts
        problems = [
            document.problem(["accounts", name], f"accounts.{name}: needs both url and token_env")
            for name, entry in entries.items()
            if name != DEFAULT_ACCOUNT and (entry.url is None or entry.token_env is None)
        ]
        if problems:
            raise DataFileError(problems)
    accounts: dict[str, MastodonAccount] = {}
    main = entries.get(DEFAULT_ACCOUNT, AccountEntry())
    main_url = main.url or settings.mastodon_url
    main_token = (
        env.get(main.token_env)
        if main.token_env
        else (settings.mastodon_token.get_secret_value() if settings.mastodon_token else None)
    )
    if main_url and main_token:
        accounts[DEFAULT_ACCOUNT] = _account(DEFAULT_ACCOUNT, main, main_url, main_token)
    for name, entry in entries.items():
        if name == DEFAULT_ACCOUNT:
            continue
        assert entry.url is not None
        assert entry.token_env is not None
        token = env.get(entry.token_env)
        if not token:
            raise AccountError(
                f"Mastodon account {name!r}: environment variable {entry.token_env} is not set"
            )
        accounts[name] = _account(name, entry, entry.url, token)
    return accounts
