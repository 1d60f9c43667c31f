"""What a laureates list is once validated: collectivities, their type and their distinction.

The label changed scales in 2025 (Badge, then the Bronze, Argent and Or labels) after nine
editions graded « niveau 1 » to « niveau 5 »; no mapping between the two is published, so an
edition accepts exactly one scale and the bot never translates one into the other.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from bot.faq.normalise import fold

FIRST_MEDAL_EDITION = 2025  # first edition graded Badge / Bronze / Argent / Or


@dataclass(frozen=True, order=True)
class Distinction:
    """One grade of one scale; `rank` orders a palmarès, best last."""

    rank: int
    name: str  # as organisers write it: « Or », « niveau 4 »
    heading: str = field(compare=False)  # a digest's section title: « Label Or »
    phrase: str = field(compare=False)  # inside a sentence: « le label Or »

    def __str__(self) -> str:
        return self.name


MEDALS = (
    Distinction(1, "Badge", "Badge", "le badge"),
    Distinction(2, "Bronze", "Label Bronze", "le label Bronze"),
    Distinction(3, "Argent", "Label Argent", "le label Argent"),
    Distinction(4, "Or", "Label Or", "le label Or"),
)
LEVELS = tuple(Distinction(n, f"niveau {n}", f"Niveau {n}", f"le niveau {n}") for n in range(1, 6))


def scale(edition: int) -> tuple[Distinction, ...]:
    return MEDALS if edition >= FIRST_MEDAL_EDITION else LEVELS


def scale_names(edition: int) -> str:
    """« Badge, Bronze, Argent ou Or », for an error message."""
    names = [d.name for d in scale(edition)]
    return ", ".join(names[:-1]) + " ou " + names[-1]


def parse_distinction(text: str, edition: int) -> Distinction | None:
    """The grade `text` names on this edition's scale: « or », « OR », « Niveau 3 », « 3 »."""
    key = re.sub(r"\s+", " ", fold(text)).strip()
    key = re.sub(r"^(?:label|niveau|niv\.?) ?", "", key)
    for distinction in scale(edition):
        names = {fold(distinction.name).removeprefix("niveau ")}
        if distinction in LEVELS:
            names.add(str(distinction.rank))
        if key in names:
            return distinction
    return None


# Canonical types, as the label's pages and the facts list them.
TYPES = (
    "commune",
    "communauté de communes",
    "communauté d’agglomération",
    "communauté urbaine",
    "métropole",
    "département",
    "région",
    "syndicat",
    "autre",
)


def name_key(text: str) -> str:
    """Folded words only: « Communauté d'Agglomération  du Sud » and « communaute d agglomeration
    du sud » are one collectivity, one type."""
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


_TYPE_KEYS = {name_key(kind): kind for kind in TYPES}


def parse_type(text: str) -> str | None:
    return _TYPE_KEYS.get(name_key(text))


_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """One NFC string, spaces collapsed: the same name typed on two machines compares equal."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


@dataclass(frozen=True)
class Laureate:
    """One collectivity of a palmarès; `line` says where it was read, for later messages."""

    name: str
    kind: str  # one of TYPES
    territory: str  # a département or a région, as the organisers wrote it
    distinction: Distinction
    mention: str | None = None
    site: str | None = None
    fediverse: str | None = None  # @user@instance
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class LaureateList:
    """An edition's palmarès in file order (the order of the thread)."""

    edition: int
    laureates: tuple[Laureate, ...]
    path: Path = field(compare=False)
