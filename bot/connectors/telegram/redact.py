"""Keep the bot token out of every log line.

The Bot API puts the token in the URL path (`/bot<token>/sendMessage`): PTB logs that URL at
DEBUG, some aiohttp errors quote it (and httpx, if PTB's default request class is ever used
again, logs every request URL at INFO); PTB's `InvalidToken` message quotes the token. A filter
on one logger would miss records of its children and of handlers configured later, so the
redaction is done where every record is born: a wrapper around the logging record factory,
installed once per secret.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

MASK = "<telegram-token>"

_lock = threading.Lock()
_secrets: set[str] = set()
_installed: list[bool] = []  # non-empty once the record factory is wrapped


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def protect(secret: str) -> None:
    """From now on, `secret` is replaced by a mask in every log record of the process."""
    if len(secret) < 8:  # a one-letter "token" would mask half of every line
        return
    with _lock:
        _secrets.add(secret)
        if _installed:
            return
        _installed.append(True)
        logging.setLogRecordFactory(_wrap(logging.getLogRecordFactory()))


def _wrap(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    formatter = logging.Formatter()

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        if not _secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem; do not hide it
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(formatter.formatException(record.exc_info))
        return record

    return make
