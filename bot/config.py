"""One settings object, read from the environment (prefix TNL_) and an optional `.env` file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.faq.corpus import default_corpus_dir
from scheduler.campaign import default_campaign_file

DATABASE_FILE = "tnl-bot.sqlite3"


def default_url(data_dir: Path) -> str:
    """The SQLite file under the data directory (the store creates it, directory included, on
    first use): where the bot keeps its memory unless TNL_DATABASE_URL says otherwise."""
    return f"sqlite+aiosqlite:///{(data_dir / DATABASE_FILE).resolve()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TNL_", env_file=".env", extra="ignore", populate_by_name=True
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
    telegram_webhook_url: str | None = None  # the public https URL Telegram posts updates to
    telegram_webhook_secret: SecretStr | None = None  # X-Telegram-Bot-Api-Secret-Token

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
    """Settings from the environment, or a `ConfigurationError` naming each bad variable."""
    from pydantic import ValidationError

    try:
        settings = Settings()
    except ValidationError as error:
        raise ConfigurationError(error) from error
    return settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})


class ConfigurationError(Exception):
    """Invalid environment: one line per variable, as `TNL_NAME: what is wrong`."""

    def __init__(self, error: Exception) -> None:
        from pydantic import ValidationError

        lines = (
            [
                f"TNL_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
                for e in error.errors()
            ]
            if isinstance(error, ValidationError)
            else [str(error)]
        )
        super().__init__("\n".join(lines))
