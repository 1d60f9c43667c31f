"""Rows → laureates, or every problem of the file, each on its line, in French.

A palmarès is published in the label's name: one bad row refuses the whole file, so that the
organiser fixes everything once instead of discovering a half-published list.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

from bot.datafile import DataFileError, Problem
from bot.laureates.model import (
    Laureate,
    LaureateList,
    clean,
    name_key,
    parse_distinction,
    parse_type,
    scale_names,
)
from bot.laureates.sources import Row, read_rows

# Mastodon's account names; an instance is a host name with at least one dot.
_HANDLE = re.compile(
    r"@[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)
_HOST = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Invisible characters that reorder what follows them (a name could hide or flip the rest of
# a public post), and control characters.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def load_laureates(path: Path, edition: int) -> LaureateList:
    """The validated palmarès of `edition`; raises DataFileError with every problem found."""
    read = read_rows(path)
    problems = list(read.problems)
    laureates: list[Laureate] = []
    seen: dict[str, int] = {}
    for row in read.rows:
        laureate, row_problems = _laureate(path, row, edition)
        problems += row_problems
        if laureate is None:
            continue
        key = name_key(laureate.name)
        if key in seen:
            message = f"collectivité « {laureate.name} » déjà présente ligne {seen[key]}"
            problems.append(Problem(path, row.line_of("collectivite"), message))
            continue
        seen[key] = row.line
        laureates.append(laureate)
    if problems:
        raise DataFileError(problems)
    return LaureateList(edition, tuple(laureates), path)


def _laureate(path: Path, row: Row, edition: int) -> tuple[Laureate | None, list[Problem]]:
    problems: list[Problem] = []

    def text(column: str) -> str | None:
        """The cleaned cell, or None when it is missing (reported already) or invisible."""
        raw = row.values.get(column)
        if raw is None:
            return None
        value = clean(raw)
        if any(c in _BIDI or unicodedata.category(c) == "Cc" for c in value):
            message = f"« {column} » contient des caractères de contrôle invisibles"
            problems.append(Problem(path, row.line_of(column), message))
            return None
        return value

    def required(column: str, what: str) -> str | None:
        value = text(column)
        if value == "":
            problems.append(Problem(path, row.line_of(column), f"{what} vide"))
            return None
        return value

    def check(column: str, value: str | None, message: str) -> None:
        if value is not None:
            problems.append(Problem(path, row.line_of(column), message))

    name = required("collectivite", "nom de collectivité")
    kind_text = required("type", "type")
    kind = parse_type(kind_text) if kind_text else None
    check("type", kind_text if kind is None else None, f"type « {kind_text} » inconnu")
    territory = required("territoire", "territoire")
    grade_text = required("distinction", "distinction")
    grade = parse_distinction(grade_text, edition) if grade_text else None
    if grade_text and grade is None:
        message = (
            f"distinction « {grade_text} » inconnue pour l’édition {edition} "
            f"({scale_names(edition)})"
        )
        problems.append(Problem(path, row.line_of("distinction"), message))
    mention = text("mention") or None
    site = text("site") or None
    check("site", site if site and not _is_url(site) else None, f"site « {site} » invalide")
    handle = text("fediverse") or None
    bad_handle = handle if handle and not _HANDLE.fullmatch(handle) else None
    check("fediverse", bad_handle, f"compte fediverse « {handle} » invalide (@nom@instance)")
    if problems or not (name and kind and territory and grade):
        return None, problems
    return Laureate(name, kind, territory, grade, mention, site, handle, row.line), problems


def _is_url(text: str) -> bool:
    """http(s), a host with a dot, nothing a post would cut: what readers can click."""
    if any(c.isspace() for c in text):
        return False
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and _HOST.fullmatch(host) is not None


def check_laureates(path: Path, edition: int) -> list[Problem]:
    """The problems of a laureates file alone (no rendering); empty when it is valid."""
    try:
        load_laureates(path, edition)
    except DataFileError as error:
        return list(error.problems)
    return []
