"""One settings object, read from the environment (prefix TNL_) and an optional `.env` file."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.faq.corpus import default_corpus_dir
from scheduler.campaign import default_campaign_file


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TNL_", env_file=".env", extra="ignore")

    corpus_dir: Path = default_corpus_dir()
    campaign: Path = default_campaign_file()
    data_dir: Path = Path("data")
