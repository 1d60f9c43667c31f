"""Secrets never reach a log line, whichever logger writes it and however."""

from __future__ import annotations

import io
import logging

import pytest

from bot.runtime.logs import MASK, Redactor

TOKEN = "123456:ABC-secret-token-value"
PASSWORD = "hunter2-database"


def logged(redactor: Redactor, write: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(redactor)
    logger = logging.getLogger("tests.runtime.some.library")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        assert callable(write)
        write(logger)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


def test_secrets_are_masked_in_messages_arguments_and_tracebacks() -> None:
    redactor = Redactor([TOKEN, PASSWORD, "short"])

    def write(logger: logging.Logger) -> None:
        logger.warning("GET https://api.telegram.org/bot%s/getMe failed", TOKEN)
        logger.error("postgresql://tnl:%s@db/tnl unreachable" % PASSWORD)  # noqa: UP031
        try:
            raise ValueError(f"InvalidToken: {TOKEN}")
        except ValueError:
            logger.exception("connect failed")
        logger.info("a short word stays")

    text = logged(redactor, write)
    assert TOKEN not in text
    assert PASSWORD not in text
    assert text.count(MASK) == 3
    assert "a short word stays" in text  # too short to be treated as a secret


def test_json_lines_are_redacted_and_libraries_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    """TNL_LOG_FORMAT=json: one object per line, the secret masked in message and traceback;
    a library's INFO is not shown."""
    import json

    from bot.runtime import logs

    secret = "json-secret-0123456789"
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    libraries = {name: logging.getLogger(name).level for name in logs.LIBRARIES}
    try:
        logs.configure([secret], "INFO", json_lines=True)
        logging.getLogger("alembic.runtime").info("Context impl SQLiteImpl.")
        try:
            raise RuntimeError(f"token {secret}")
        except RuntimeError:
            logging.getLogger("bot.test").exception("failed with %s", secret)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        for name, library_level in libraries.items():
            logging.getLogger(name).setLevel(library_level)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["message"] == "failed with <secret>"
    assert entry["level"] == "ERROR"
    assert "RuntimeError: token <secret>" in entry["exception"]
    assert secret not in lines[0]
