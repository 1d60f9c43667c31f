"""The curated corpus: one YAML file per theme plus a synonyms file, validated on load."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from bot.datafile import (
    DataFileError,
    LineMap,
    Problem,
    YamlDocument,
    collection_paused,
    read_yaml,
    validate,
)
from bot.faq.normalise import Synonyms, words

SYNONYMS_FILE = "synonymes.yaml"
MAX_ANSWER_CHARS = 600
MIN_ALTERNATIVES = 5

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Entry(BaseModel):
    """One question the bot knows how to answer, with the ways people ask it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    question: Text
    alternatives: Annotated[list[Text], Field(min_length=MIN_ALTERNATIVES)]
    # Optional: the semantic stage finds entries without them; a keyword only adds a bonus.
    keywords: list[Text] = []
    answer: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ANSWER_CHARS)
    ]
    source: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]
    reviewed: dt.date
    # Date entries get their first sentences from the campaign calendar, at answer time.
    dynamic: Literal["dates", "results"] | None = None
    # Out-of-scope intents are matched like the others but never count as an answer.
    scope: Literal["in", "out"] = "in"

    @field_validator("alternatives", "keywords")
    @classmethod
    def _distinct(cls, values: list[str]) -> list[str]:
        seen: set[tuple[str, ...]] = set()
        for value in values:
            key = tuple(words(value))
            if key in seen:
                raise ValueError(f"{value!r} is listed twice")
            seen.add(key)
        return values

    @property
    def in_scope(self) -> bool:
        return self.scope == "in"

    @property
    def phrasings(self) -> list[str]:
        return [self.question, *self.alternatives]


class ThemeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: Text
    entries: Annotated[list[Entry], Field(min_length=1)]


class SynonymsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    synonyms: dict[Text, Annotated[list[Text], Field(min_length=1)]]


@dataclass(frozen=True)
class Origin:
    """Where an entry was written, to point organisers at the right line."""

    document: LineMap
    index: int
    theme: str

    def line_of(self, *location: int | str) -> int:
        return self.document.line_of(("entries", self.index, *location))


@dataclass(frozen=True)
class Corpus:
    entries: tuple[Entry, ...]
    synonyms: Synonyms
    origins: Mapping[str, Origin]

    def entry(self, entry_id: str) -> Entry:
        """The entry with this id; KeyError for an id the corpus lacks (a forged button)."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)


def default_corpus_dir() -> Path:
    import faq_corpus

    return Path(faq_corpus.__file__).parent


def _synonym_problems(document: YamlDocument, groups: Mapping[str, list[str]]) -> list[Problem]:
    """A variant in two groups, or that is another group's canonical word, is ambiguous."""
    problems: list[Problem] = []
    owner: dict[tuple[str, ...], str] = {tuple(words(c)): c for c in groups}
    for canonical, variants in groups.items():
        for i, variant in enumerate(variants):
            key = tuple(words(variant))
            other = owner.get(key)
            if other is not None and other != canonical:
                problems.append(
                    document.problem(
                        ("synonyms", canonical, i),
                        f"synonym {variant!r} of {canonical!r} is already used by {other!r}",
                    )
                )
            owner.setdefault(key, canonical)
    return problems


def load_synonyms(path: Path) -> Synonyms:
    if not path.exists():
        return Synonyms()
    document = read_yaml(path)
    groups = validate(document, SynonymsFile).synonyms
    problems = _synonym_problems(document, groups)
    if problems:
        raise DataFileError(problems)
    return Synonyms.from_groups(groups)


def load_corpus(directory: Path) -> Corpus:
    """Load every theme file of `directory`; collects all problems before failing."""
    with collection_paused():
        return _load_corpus(directory)


def _load_corpus(directory: Path) -> Corpus:
    if not directory.is_dir():
        raise DataFileError([Problem(directory, 1, "corpus directory not found")])
    problems: list[Problem] = []
    entries: list[Entry] = []
    origins: dict[str, Origin] = {}
    synonyms = Synonyms()
    try:
        synonyms = load_synonyms(directory / SYNONYMS_FILE)
    except DataFileError as exc:
        problems.extend(exc.problems)
    theme_files = sorted(p for p in directory.glob("*.yaml") if p.name != SYNONYMS_FILE)
    if not theme_files:
        problems.append(Problem(directory, 1, "no theme file (*.yaml) in the corpus directory"))
    for path in theme_files:
        try:
            document = read_yaml(path)
            theme = validate(document, ThemeFile)
        except DataFileError as exc:
            problems.extend(exc.problems)
            continue
        lines = document.lines
        for index, entry in enumerate(theme.entries):
            first = origins.get(entry.id)
            origin = Origin(lines, index, theme.theme)
            if first is not None:
                where = f"{first.document.path.name}:{first.line_of()}"
                problems.append(
                    Problem(
                        path, origin.line_of("id"), f"duplicate id {entry.id!r} (first at {where})"
                    )
                )
                continue
            origins[entry.id] = origin
            entries.append(entry)
    if problems:
        raise DataFileError(problems)
    return Corpus(tuple(entries), synonyms, origins)
