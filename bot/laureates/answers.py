"""« Strasbourg a-t-elle été labellisée en 2025 ? » answered from the published palmarès.

Like dates from the calendar, the answer is computed from data the organisers published, never
guessed: a collectivity found in the lists gets its distinctions; one that is asked about and
not found gets an honest « je ne trouve pas », since our lists may be incomplete. Questions that
name no collectivity (« Quels sont les niveaux ? ») are left to the FAQ engine: None.

Names are recognised as people type them: without accents or capitals, without « Ville de » or
« Communauté de communes du », with a small typo. Fuzzy matching never considers the words of
the question itself (niveau, label, obtenu…), so « niveau » cannot be read as a town « Nivea ».
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.faq.normalise import STOP_WORDS, words
from bot.french import typography
from bot.laureates.model import Laureate
from bot.texts import CONTACT_EMAIL

# Words that ask about a collectivity's result.
_ASKS_WHO = re.compile(r"labelli|laureat|obten|obtient|recompens|distingu|prime|palmares")
_ASKS_WHAT = re.compile(r"niveau|label|badge|bronze|argent|mention|distinction")
# Never part of a name: the question's grammar and the label's vocabulary.
_COMMON = STOP_WORDS | {
    "combien", "quand", "comment", "pourquoi", "ou", "qui", "quel", "quelle", "quels", "quelles",
    "label", "labels", "labellise", "labellisee", "labellises", "labellisees", "labellisation",
    "niveau", "niveaux", "laureat", "laureate", "laureats", "laureates", "obtenu", "obtenue",
    "obtient", "palmares", "badge", "bronze", "argent", "or", "mention", "distinction",
    "territoire", "numerique", "libre", "tnl", "collectivite", "collectivites", "edition",
    "annee", "site", "liste", "resultat", "resultats", "recompensee", "recompense", "primee",
    "prime", "distinguee", "distingue", "ville", "commune", "communes", "communaute", "mairie",
    "metropole", "region", "departement", "syndicat", "agglomeration", "agglo", "urbaine",
    "eurometropole", "pays", "t", "il", "elle", "ils", "elles", "fois", "deja", "encore",
}  # fmt: skip
# Leading and trailing words of an official name that people leave out.
_PREFIXES = frozenset(
    "ville commune communaute communes agglomeration urbaine metropole eurometropole "
    "departement region de d du des la le les l".split()
)
_SUFFIXES = frozenset({"metropole", "agglomeration"})
_ASKED = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"^(?:est-ce qu(?:e |['’]))?(?P<name>.+?)\s+(?:a|est|ont|sont)(?:-t)?-(?:elle|il)s?\b",
        r"^est-ce qu(?:e |['’])(?P<name>.+?)\s+(?:a|est|figure)\b",
        r"\b(?:obtenu|obtient|eu|re[çc]u)\s+(?:par\s+)?(?P<name>[^?!.]+?)\s*[?!.]*$",
        r"^(?P<name>.+?)\s+(?:est|a été|figure)\s+(?:parmi\s+les\s+)?(?:labellis|laur)",
    )
)
_YEAR = re.compile(r"\b(20\d\d)\b")
_TOKEN = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
FUZZY_SCORE = 85
MAX_WORDS = 8


@dataclass(frozen=True)
class _Known:
    """One collectivity of the lists: its official name and what it got, edition by edition."""

    name: str
    results: tuple[tuple[int, Laureate], ...]  # (edition, laureate), latest first


def core(tokens: Sequence[str]) -> tuple[str, ...]:
    """« ville de la tronche » → « tronche »; « rennes metropole » → « rennes »; never empty."""
    start, end = 0, len(tokens)
    while start < end - 1 and tokens[start] in _PREFIXES:
        start += 1
    while end > start + 1 and tokens[end - 1] in _SUFFIXES:
        end -= 1
    return tuple(tokens[start:end])


def answer(question: str, published: Mapping[int, Sequence[Laureate]]) -> str | None:
    """The French answer about the collectivity the question names, or None when it is not a
    question about a collectivity's result."""
    tokens = words(question)
    if not published or not any(_ASKS_WHO.match(t) or _ASKS_WHAT.match(t) for t in tokens):
        return None
    year_match = _YEAR.search(question)
    year = int(year_match.group(1)) if year_match else None
    known = _collectivities(published)
    found = _find(tokens, known)
    if found:
        return typography("\n".join(_about(k, year, published) for k in found))
    asked = _asked_name(question)
    return None if asked is None else typography(_not_found(asked, year, published))


def _collectivities(published: Mapping[int, Sequence[Laureate]]) -> dict[tuple[str, ...], _Known]:
    """By the words of their name: the same collectivity across editions is one entry."""
    results: dict[tuple[str, ...], list[tuple[int, Laureate]]] = {}
    for edition in sorted(published, reverse=True):
        for laureate in published[edition]:
            results.setdefault(tuple(words(laureate.name)), []).append((edition, laureate))
    return {key: _Known(entries[0][1].name, tuple(entries)) for key, entries in results.items()}


def _find(tokens: Sequence[str], known: Mapping[tuple[str, ...], _Known]) -> list[_Known]:
    """Collectivities named in the question: full names or their core, exactly, else the closest
    core within a small typo; the longest name wins where two overlap."""
    variants: dict[tuple[str, ...], list[_Known]] = {}
    for key, entry in known.items():
        for variant in {key, core(key)}:
            variants.setdefault(variant, []).append(entry)
    windows = [
        tuple(tokens[i : i + n])
        for n in range(min(MAX_WORDS, len(tokens)), 0, -1)
        for i in range(len(tokens) - n + 1)
    ]
    for window in windows:
        if window in variants:
            return variants[window]
    best: tuple[float, tuple[str, ...]] | None = None
    for window in windows:
        if all(t in _COMMON or t.isdigit() for t in window):
            continue
        text = " ".join(window)
        for variant in variants:
            candidate = " ".join(variant)
            if len(candidate) < 4 or set(variant) <= _COMMON:
                continue
            score = fuzz.ratio(text, candidate)
            if score >= FUZZY_SCORE and (best is None or score > best[0]):
                best = (score, variant)
    return variants[best[1]] if best else []


def _asked_name(question: str) -> str | None:
    """The name in « X a-t-elle été labellisée », « est-ce que X est lauréate », « quel niveau a
    obtenu X »: only these shapes, so that « Comment se passe la labellisation ? » names nobody."""
    for shape in _ASKED:
        match = shape.search(question.strip())
        if match:
            tokens = _TOKEN.findall(match.group("name"))
            while tokens and set(words(tokens[0])) <= _PREFIXES | STOP_WORDS:
                del tokens[0]
            while tokens and all(p in _COMMON or p.isdigit() for p in words(tokens[-1])):
                del tokens[-1]
            if any(p not in _COMMON for t in tokens for p in words(t)):
                return " ".join(tokens)
    return None


def _distinction(laureate: Laureate) -> str:
    text = laureate.distinction.phrase
    if laureate.mention:
        text += f", avec la mention spéciale « {laureate.mention} »"
    return text


def _short(edition: int, laureate: Laureate) -> str:
    return f"{laureate.distinction.phrase.removeprefix('le ')} en {edition}"


def _about(entry: _Known, year: int | None, published: Mapping[int, Sequence[Laureate]]) -> str:
    by_edition = dict(entry.results)
    if year is not None and year in by_edition:
        return f"Oui : {entry.name} a obtenu {_distinction(by_edition[year])} en {year}."
    latest, laureate = entry.results[0]
    history = f"{entry.name} a obtenu {_distinction(laureate)} en {latest}."
    if len(entry.results) > 1:
        history += " Auparavant : " + _join(_short(e, x) for e, x in entry.results[1:]) + "."
    if year is None:
        return history
    if year in published:
        return f"Non : {entry.name} ne figure pas dans le palmarès {year}. {history}"
    return f"Le palmarès {year} n’est pas publié. {history}"


def _not_found(asked: str, year: int | None, published: Mapping[int, Sequence[Laureate]]) -> str:
    editions = _join(str(e) for e in sorted(published))
    text = f"Je ne trouve pas « {asked} » dans les palmarès publiés ({editions})."
    if year is not None and year not in published:
        text += f" Le palmarès {year} n’est pas publié."
    return (
        f"{text} Mes listes peuvent être incomplètes ou le nom écrit autrement : "
        f"l’équipe du label vous renseignera à l’adresse {CONTACT_EMAIL}."
    )


def _join(items: Iterable[str]) -> str:
    """« 2023, 2024 et 2025 »."""
    values = list(items)
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " et " + values[-1]
