"""Settings come from the environment; secrets in them never show in reprs or logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import Settings

PASSWORD = "s3cr3t-pa55w0rd"


def test_database_url_password_never_shows(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(
        "TNL_DATABASE_URL", f"postgresql+asyncpg://tnl:{PASSWORD}@127.0.0.1:5432/tnl"
    )
    settings = Settings()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("tnl-bot.test").info("settings: %s / %r", settings, settings)
    assert PASSWORD not in caplog.text
    assert PASSWORD not in str(settings.model_dump())
    assert PASSWORD in settings.store_url()


def test_default_store_is_a_file_under_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TNL_DATABASE_URL", raising=False)
    monkeypatch.setenv("TNL_DATA_DIR", str(tmp_path / "data"))
    url = Settings().store_url()
    assert url.startswith("sqlite+aiosqlite:///")
    assert str(tmp_path / "data") in url
