"""One settings object, read from the environment (prefix TNL_) and an optional `.env` file."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.faq.corpus import default_corpus_dir
from scheduler.campaign import default_campaign_file

DATABASE_FILE = "tnl-bot.sqlite3"
ENV_FILE = ".env"
# The two stores the bot is written and tested for (bot.store): URL scheme → what it is.
SCHEMES = {"sqlite+aiosqlite": "SQLite", "postgresql+asyncpg": "PostgreSQL"}
MASK = "***"


def masked_url(url: str) -> str:
    """`url` with its password replaced by ***, for messages a person reads."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:{MASK}@{host}"))


def database_url_problem(url: str) -> str | None:
    """What is wrong with a TNL_DATABASE_URL before trying it (the scheme decides the driver,
    and a driver we do not ship fails deep in SQLAlchemy with a message about Python modules)."""
    if not url.strip():
        return (
            "empty: unset it for the SQLite file under TNL_DATA_DIR, "
            "or give a postgresql+asyncpg://user:password@host/database URL"
        )
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme in SCHEMES:
        return None
    if scheme in ("postgres", "postgresql") or scheme.startswith("postgresql+"):
        return f"use postgresql+asyncpg:// instead of {scheme}:// (the bot's PostgreSQL driver)"
    if scheme == "sqlite" or scheme.startswith("sqlite+"):
        return f"use sqlite+aiosqlite:///path instead of {scheme}://"
    known = " or ".join(f"{name} ({scheme}://)" for scheme, name in SCHEMES.items())
    shown = f"{scheme}://" if scheme else "no scheme"
    return f"{shown} is not supported: {known}"


def default_url(data_dir: Path) -> str:
    """The SQLite file under the data directory (the store creates it, directory included, on
    first use): where the bot keeps its memory unless TNL_DATABASE_URL says otherwise."""
    return f"sqlite+aiosqlite:///{(data_dir / DATABASE_FILE).resolve()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TNL_", env_file=ENV_FILE, extra="ignore", populate_by_name=True
    )

    corpus_dir: Path = default_corpus_dir()
    campaign: Path = default_campaign_file()
    data_dir: Path = Path("data")
    # The store: a SQLite file under data_dir unless a URL is given (postgresql+asyncpg://…).
    # Secret because a PostgreSQL URL carries its password.
    database_url: SecretStr | None = None
    # Announcement texts; next to the calendar (scheduler.templates is not imported here: the
    # `ask` command reads these settings and must start fast).
    templates: Path = default_campaign_file().with_name("templates.yaml")
    # Where announcements go, comma-separated: console, jsonl, telegram, mastodon:<account>.
    # Empty: every configured platform, or the console when none is configured.
    targets: str = ""
    jsonl_path: Path | None = None  # default: data_dir / "publications.jsonl"
    jsonl_idempotent: bool = True
    announcement_grace_hours: Annotated[float, Field(ge=0)] = 6.0  # later: skipped, not sent
    outbox_deadline_hours: Annotated[float, Field(gt=0)] = 24.0  # retried until then, then failed
    # Delivery attempts and sent items older than this are deleted (by the leading instance);
    # announcement decisions, broadcasts and the audit log are kept.
    retention_days: Annotated[float, Field(gt=0)] = 90.0
    # Flood guard, every platform: messages per user per minute before the polite notice, then
    # seconds the user is ignored. (The TELEGRAM_ names are those of the first versions.)
    flood_messages: Annotated[
        int,
        Field(
            ge=1, validation_alias=AliasChoices("tnl_flood_messages", "tnl_telegram_flood_messages")
        ),
    ] = 20
    flood_pause: Annotated[
        float,
        Field(ge=0, validation_alias=AliasChoices("tnl_flood_pause", "tnl_telegram_flood_pause")),
    ] = 600.0
    # Organisers (broadcasts, laureates): platform identities, comma-separated —
    # telegram:<numeric user id>, mastodon:<user@instance>, matrix:@user:server, console:<name>.
    organisers: str = ""
    confirm_minutes: Annotated[float, Field(gt=0)] = 10.0  # a preview lapses after this
    # Mastodon: the default account ("main"); more accounts by name in a YAML file whose entries
    # name the environment variable holding each token (bot/connectors/mastodon/config.py).
    mastodon_url: str | None = None
    mastodon_token: SecretStr | None = None  # never printed: SecretStr masks it in reprs and logs
    mastodon_accounts: Path | None = None
    # The process's web application (Telegram webhook; later health, metrics, web chat):
    # loopback unless an operator decides otherwise.
    web_host: str = "127.0.0.1"
    web_port: Annotated[int, Field(ge=0, le=65535)] = 8080
    # Telegram (bot/connectors/telegram): the token is a secret, never printed nor logged.
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"  # or a self-hosted Bot API server
    telegram_channel: str | None = None  # "@name" or "-100…": where announcements go
    telegram_mode: Literal["polling", "webhook"] = "polling"
    # Messages per second Telegram accepts from the bot, all chats and instances together: 30
    # documented; more for bots with paid broadcasts.
    telegram_per_second: Annotated[int, Field(ge=1)] = 30
    telegram_webhook_url: str | None = None  # the public https URL Telegram posts updates to
    telegram_webhook_secret: SecretStr | None = None  # X-Telegram-Bot-Api-Secret-Token
    # Logs on stderr: the bot's own at this level, libraries' at WARNING unless DEBUG is asked;
    # `json`: one JSON object per line for a log collector.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            problem = database_url_problem(value.get_secret_value())
            if problem is not None:
                raise ValueError(problem)
        return value

    def store_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return default_url(self.data_dir)

    def secrets(self) -> list[str]:
        """Every secret value these settings hold, for the log redaction: tokens, the webhook
        secret, and the password in a database URL."""
        values = [
            secret.get_secret_value()
            for secret in (
                self.telegram_token,
                self.mastodon_token,
                self.telegram_webhook_secret,
                self.database_url,
            )
            if secret is not None
        ]
        if self.database_url is not None:
            from urllib.parse import urlsplit

            password = urlsplit(self.database_url.get_secret_value()).password
            if password:
                values.append(password)
        return values

    @field_validator("organisers")
    @classmethod
    def _organisers_are_identities(cls, value: str) -> str:
        for handle in organiser_handles(value):
            platform, _, who = handle.partition(":")
            if platform == "telegram" and not who.isdecimal():
                raise ValueError(f"« {handle} »: Telegram organisers are numeric user ids")
            if platform == "mastodon" and who.lstrip("@").count("@") != 1:
                raise ValueError(f"« {handle} »: Mastodon organisers are user@instance")
            if not who or platform not in ("telegram", "mastodon", "matrix", "console"):
                raise ValueError(
                    f"« {handle} » is not telegram:<id>, mastodon:<user@instance>, "
                    "matrix:@user:server or console:<name>"
                )
        return value

    def organiser_handles(self) -> list[str]:
        return organiser_handles(self.organisers)

    def target_names(self) -> list[str]:
        return [name.strip() for name in self.targets.split(",") if name.strip()]


def organiser_handles(value: str) -> list[str]:
    """`telegram:42, mastodon:@ana@social.example`
    → ["telegram:42", "mastodon:ana@social.example"]"""
    handles = []
    for raw in value.split(","):
        platform, colon, who = raw.strip().partition(":")
        if raw.strip():
            who = (
                who.strip().removeprefix("@")
                if platform.strip().casefold() == "mastodon"
                else who.strip()
            )
            handles.append(f"{platform.strip().casefold()}{colon}{who}")
    return handles


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and `.env`, or a `ConfigurationError` naming each bad
    variable (and the `.env` line it came from) or each `.env` line that cannot be read."""
    from pydantic import ValidationError

    lines = env_file_lines(Path(ENV_FILE))
    try:
        settings = Settings()
    except ValidationError as error:
        raise ConfigurationError(
            [_located(_variable(e["loc"]), e["msg"], lines) for e in error.errors()]
        ) from error
    return settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})


def env_file_lines(path: Path, environ: Mapping[str, str] = os.environ) -> dict[str, int]:
    """The line of `path` that sets each variable the environment does not override;
    ConfigurationError for lines python-dotenv cannot parse (it would only warn and skip them,
    and the bot would run without the setting its operator wrote)."""
    from dotenv.parser import parse_stream

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError([f"{path}: cannot read: {error}"]) from error
    found: dict[str, int] = {}
    problems: list[str] = []
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.line
        if binding.error:
            problems.append(f"{path}:{line}: cannot parse this line: expected NAME=value")
        elif binding.key is not None and binding.key not in environ:
            found[binding.key.upper()] = line
    if problems:
        raise ConfigurationError(problems)
    return found


def _variable(location: tuple[int | str, ...]) -> str:
    """The environment variable of a validation error: `TNL_` + the field (or its alias,
    which already carries the prefix)."""
    name = "_".join(str(part) for part in location).upper()
    return name if name.startswith("TNL_") else f"TNL_{name}"


def _located(variable: str, message: str, lines: Mapping[str, int]) -> str:
    message = message.removeprefix("Value error, ")
    if variable in lines:
        return f"{ENV_FILE}:{lines[variable]}: {variable}: {message}"
    return f"{variable}: {message}"


class ConfigurationError(Exception):
    """Invalid configuration: one line per problem, `TNL_NAME: what is wrong` (prefixed by
    `.env:LINE:` when the value comes from that file); `bot.cli.main` prints them, exit 2."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
