"""French presentation helpers: dates with Babel, typography for every text the bot sends."""

from __future__ import annotations

import datetime as dt
import re

NBSP = "\u00a0"
NNBSP = "\u202f"

_BEFORE_HIGH_PUNCTUATION = re.compile(r"[ \u00a0\u202f]*([?!;]+)(?=\s|$|[»)])")
_BEFORE_COLON = re.compile(r"(?<=\S)[ \u00a0\u202f]+:(?=\s|$)")
_OPEN_QUOTE = re.compile(r"«[ \u00a0\u202f]*")
_CLOSE_QUOTE = re.compile(r"[ \u00a0\u202f]*»")


def typography(text: str) -> str:
    """French spacing: narrow no-break space before ? ! ;, no-break space before : and in « ».

    Organisers type ordinary spaces; the bot fixes them on the way out so that a line never
    breaks before a question mark. URLs are left alone (their colons have no space before).
    """
    text = _BEFORE_HIGH_PUNCTUATION.sub(lambda m: NNBSP + m.group(1), text)
    text = _BEFORE_COLON.sub(NBSP + ":", text)
    text = _OPEN_QUOTE.sub("«" + NBSP, text)
    return _CLOSE_QUOTE.sub(NBSP + "»", text)


def long_date(day: dt.date) -> str:
    """« 1er juillet 2027 », « 31 mars 2027 »: Babel's month names, French ordinal for the 1st."""
    from babel.dates import format_date  # Babel's locale data costs ~50 ms; only dates need it.

    text = format_date(day, format="d MMMM y", locale="fr_FR")
    return "1er" + text[1:] if day.day == 1 else text


def long_datetime(moment: dt.datetime) -> str:
    """« 24 mars 2027 à 9 h », « … à 9 h 30 »: hours the French way, not as a clock shows them."""
    return f"{long_date(moment.date())} à {time_of_day(moment)}"


def time_of_day(moment: dt.datetime | dt.time) -> str:
    """« 9 h », « 9 h 30 », « 0 h 05 » (with a no-break space after the number)."""
    hours = f"{moment.hour}{NBSP}h"
    return hours if moment.minute == 0 else f"{hours} {moment.minute:02d}"


def days(count: int) -> str:
    return f"{count} jour" if count == 1 else f"{count} jours"
