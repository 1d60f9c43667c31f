"""Logging for the running bot, with every secret masked wherever a record comes from.

Tokens travel in URLs (the Bot API puts the token in the path), libraries log URLs at DEBUG and
quote them in errors, and a database URL carries its password. The runtime knows every secret
(it built the settings): it installs one `Redactor` on the handlers, where every record of every
logger ends up, instead of each connector patching logging for itself.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping

MASK = "<secret>"
SHORTEST = 8  # a one-letter "secret" would mask half of every line
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Environment variables whose values are secrets whatever reads them: account files name the
# variables holding their tokens (PARTNER_MASTODON_TOKEN…), so they are found by name.
# Libraries whose INFO is chatter for an operator (migrations run, jobs added, every request):
# WARNING and above unless TNL_LOG_LEVEL=DEBUG.
LIBRARIES = ("alembic", "apscheduler", "httpx", "httpcore", "aiohttp", "telegram", "mastodon")
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|DATABASE_URL", re.IGNORECASE)


def environment_secrets(environ: Mapping[str, str]) -> list[str]:
    return [value for name, value in environ.items() if SECRET_NAME.search(name)]


class Redactor(logging.Filter):
    """Replaces each secret by a mask in a record's message, arguments and traceback."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first: a secret that contains another is masked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= SHORTEST}, key=len, reverse=True)
        self._formatter = logging.Formatter()

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem; do not hide it
            return True
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = self.redact(self._formatter.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (`TNL_LOG_FORMAT=json`), for log collectors. The record is
    already redacted by the handler's filter; the traceback is the filter's masked text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def configure(
    secrets: Iterable[str], level: int | str = logging.INFO, *, json_lines: bool = False
) -> Redactor:
    """Log to stderr through one handler that masks `secrets`; returns its redactor.
    Libraries stay at WARNING unless `level` is DEBUG."""
    redactor = Redactor(secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(FORMAT))
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet = logging.DEBUG if root.level <= logging.DEBUG else max(root.level, logging.WARNING)
    for library in LIBRARIES:
        logging.getLogger(library).setLevel(quiet)
    return redactor
