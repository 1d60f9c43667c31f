"""A laureates file as rows of text cells, whatever spreadsheet or editor produced it.

Organisers export from LibreOffice or Excel: UTF-8 with or without a BOM, or Windows-1252 from
an older Excel; commas, or semicolons in a French locale. Each row keeps the line the organiser
sees (the spreadsheet's row number, header = 1, even when a quoted cell spans several text
lines), so that every later message points at the right row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.datafile import DataFileError, Problem, read_yaml
from bot.laureates.model import name_key

COLUMNS = ("collectivite", "type", "territoire", "distinction", "mention", "site", "fediverse")
REQUIRED = COLUMNS[:4]
UNREADABLE = "octets illisibles : le fichier n’est ni en UTF-8 ni en Windows-1252"


@dataclass(frozen=True)
class Row:
    """One laureate's cells by column, and where each came from."""

    line: int
    values: Mapping[str, str]
    lines: Mapping[str, int] = field(default_factory=dict)  # YAML: a value's own line

    def line_of(self, column: str) -> int:
        return self.lines.get(column, self.line)


@dataclass(frozen=True)
class Rows:
    rows: tuple[Row, ...]
    problems: tuple[Problem, ...]  # found while reading: header, ragged rows, missing keys


def read_rows(path: Path) -> Rows:
    """Rows of a `.yaml`/`.yml` file or of a CSV file; raises DataFileError when there is
    nothing to validate (unreadable, undecodable, empty, not a list)."""
    if path.suffix.lower() in (".yaml", ".yml"):
        return _yaml_rows(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataFileError([Problem(path, 1, f"lecture impossible : {exc.strerror}")]) from exc
    return _csv_rows(path, decode(path, raw))


def decode(path: Path, raw: bytes) -> str:
    """Valid UTF-8 is taken as UTF-8 (Windows-1252 text with accents almost never is), anything
    else as Windows-1252; bytes neither can hold (undefined in 1252, NUL of UTF-16) are refused."""
    text: str | None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            text = None
    if text is not None and "\x00" not in text:
        return text
    lines = raw.split(b"\n")
    bad = [n for n, line in enumerate(lines, 1) if not _decodable(line)]
    raise DataFileError([Problem(path, n, UNREADABLE) for n in bad or [1]])


def _decodable(line: bytes) -> bool:
    if b"\x00" in line:
        return False
    try:
        line.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def _delimiter(header: str) -> str:
    """A French spreadsheet writes « ; » (the comma is its decimal mark), others « , »."""
    return ";" if header.count(";") > header.count(",") else ","


def _csv_rows(path: Path, text: str) -> Rows:
    if not text.strip():
        raise DataFileError([Problem(path, 1, "fichier vide")])
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(text.split("\n", maxsplit=1)[0])
    )
    try:
        table = list(reader)
    except csv.Error as exc:
        raise DataFileError([Problem(path, reader.line_num, f"CSV illisible : {exc}")]) from exc
    header, problems = _header(path, table[0])
    rows: list[Row] = []
    for line, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # spreadsheets export trailing empty rows
        if len(cells) != len(header):
            message = f"{_cells(len(cells))} au lieu de {len(header)}"
            problems.append(Problem(path, line, message))
            continue
        values = {key: cell for key, cell in zip(header, cells, strict=True) if key}
        rows.append(Row(line, values))
    if not rows and not problems:
        problems.append(Problem(path, 2, "aucun lauréat : le fichier n’a que son en-tête"))
    return Rows(tuple(rows), tuple(problems))


def _cells(count: int) -> str:
    return "1 cellule" if count == 1 else f"{count} cellules"


def _header(path: Path, cells: list[str]) -> tuple[list[str], list[Problem]]:
    """Column keys in order ("" for a column we report as unknown) and the header's problems."""
    problems: list[Problem] = []
    keys: list[str] = []
    for cell in cells:
        key = name_key(cell).replace(" ", "")
        if key not in COLUMNS:
            problems.append(Problem(path, 1, _unknown_column(cell)))
            key = ""
        elif key in keys:
            problems.append(Problem(path, 1, f"colonne « {cell.strip()} » en double"))
            key = ""
        keys.append(key)
    problems += [
        Problem(path, 1, f"colonne « {column} » manquante")
        for column in REQUIRED
        if column not in keys
    ]
    return keys, problems


def _unknown_column(name: str) -> str:
    return f"colonne « {name.strip()} » inconnue (colonnes possibles : {', '.join(COLUMNS)})"


def _yaml_rows(path: Path) -> Rows:
    document = read_yaml(path)
    root = document.root
    if not isinstance(root, yaml.SequenceNode) or not root.value:
        line = root.start_mark.line + 1 if root is not None else 1
        message = "le fichier doit être une liste de lauréats (« - collectivite: … »)"
        raise DataFileError([Problem(path, line, message)])
    rows: list[Row] = []
    problems: list[Problem] = []
    for item in root.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            problems.append(Problem(path, line, "lauréat attendu : « clé: valeur » par ligne"))
            continue
        values: dict[str, str] = {}
        lines: dict[str, int] = {}
        for key_node, value_node in item.value:
            key = name_key(str(key_node.value)).replace(" ", "")
            value_line = value_node.start_mark.line + 1
            if key not in COLUMNS:
                problems.append(Problem(path, key_node.start_mark.line + 1, _unknown_key(key_node)))
            elif not isinstance(value_node, yaml.ScalarNode):
                problems.append(Problem(path, value_line, f"« {key} » : un texte est attendu"))
            else:
                values[key] = "" if value_node.tag.endswith(":null") else str(value_node.value)
                lines[key] = value_line
        problems += [
            Problem(path, line, f"« {column} » manquant")
            for column in REQUIRED
            if column not in values
        ]
        rows.append(Row(line, values, lines))
    return Rows(tuple(rows), tuple(problems))


def _unknown_key(node: yaml.Node) -> str:
    return f"clé « {node.value} » inconnue (clés possibles : {', '.join(COLUMNS)})"
