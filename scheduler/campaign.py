"""The campaign calendar: one `Edition` a year, with its candidature window and results day.

The calendar file is the source of truth for every date the bot says or announces. Dates are
calendar days in Europe/Paris: a campaign is open from the first minute of `opens` to the last
minute of `closes`, whatever the reader's time zone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    model_validator,
)

from bot.datafile import DataFileError, read_yaml, validate
from bot.paris import PARIS

Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]

AnnouncementKind = Literal[
    "opening", "reminder-30", "reminder-7", "reminder-1", "closing", "results"
]
ANNOUNCEMENT_KINDS: tuple[AnnouncementKind, ...] = get_args(AnnouncementKind)


def _paris_if_naive(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=PARIS)


def _override(value: object) -> dt.datetime | Literal[False] | None:
    """One clear message for an organiser, instead of one per member of a type union."""
    if value is None or value is False:
        return value
    moment = value
    if isinstance(value, str) and len(value.strip()) > 10:
        with contextlib.suppress(ValueError):
            moment = dt.datetime.fromisoformat(value.strip())
    if not isinstance(moment, dt.datetime):
        raise ValueError(f"{value!r} is not a date and time like 2027-03-24 09:00, nor false")
    return _paris_if_naive(moment)


# "2027-03-24 10:30" in the calendar means Paris time, like every date in the file.
Override = Annotated[dt.datetime | Literal[False] | None, PlainValidator(_override)]


class AnnouncementOverrides(BaseModel):
    """Per-edition changes to the default announcement plan: a moment moves one, `false` drops
    it (see scheduler/plan.py for the defaults)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    opening: Override = None
    reminder_30: Override = Field(None, alias="reminder-30")
    reminder_7: Override = Field(None, alias="reminder-7")
    reminder_1: Override = Field(None, alias="reminder-1")
    closing: Override = None
    results: Override = None

    def get(self, kind: AnnouncementKind) -> dt.datetime | Literal[False] | None:
        value: dt.datetime | Literal[False] | None = getattr(self, kind.replace("-", "_"))
        return value


class Edition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    opens: dt.date
    closes: dt.date
    results: dt.date | None = None
    page: Url | None = None
    questionnaire: Url | None = None  # where to apply; the templates file has the default
    announcements: AnnouncementOverrides = AnnouncementOverrides.model_validate({})

    @model_validator(mode="after")
    def _ordered(self) -> Edition:
        if self.closes < self.opens:
            raise ValueError(f"closes ({self.closes}) is before opens ({self.opens})")
        if self.results is not None and self.results < self.closes:
            raise ValueError(f"results ({self.results}) is before closes ({self.closes})")
        return self

    def is_open_on(self, day: dt.date) -> bool:
        return self.opens <= day <= self.closes


class Campaign(BaseModel):
    """All known editions, sorted by opening date, never overlapping."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    editions: tuple[Edition, ...] = ()

    @model_validator(mode="after")
    def _sorted_and_disjoint(self) -> Campaign:
        problems = conflicts(self.editions)
        if problems:
            raise ValueError(problems[0][1])
        object.__setattr__(self, "editions", tuple(sorted(self.editions, key=lambda e: e.opens)))
        return self


def conflicts(editions: Sequence[Edition]) -> list[tuple[int, str]]:
    """(index, message) for each edition that repeats a name or overlaps an earlier one."""
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for index, edition in enumerate(editions):
        if edition.name in seen:
            problems.append((index, f"edition name {edition.name!r} is used twice"))
        seen.setdefault(edition.name, index)
    order = sorted(range(len(editions)), key=lambda i: editions[i].opens)
    for before, after in itertools.pairwise(order):
        if editions[after].opens <= editions[before].closes:
            message = f"edition {editions[after].name} overlaps edition {editions[before].name}"
            problems.append((after, message))
    return problems


class Phase(enum.Enum):
    UPCOMING = "upcoming"  # an edition is announced and not yet open
    OPEN = "open"
    CLOSED = "closed"  # the last edition is closed; nothing announced after it
    UNKNOWN = "unknown"  # the calendar holds no edition at all


@dataclass(frozen=True)
class CampaignStatus:
    """Where the calendar stands on a given day, for answers and announcements alike."""

    today: dt.date
    phase: Phase
    edition: Edition | None  # the open, upcoming or last closed edition

    @property
    def days_left(self) -> int | None:
        """Whole days after today during which one can still apply (0 on closing day)."""
        if self.phase is not Phase.OPEN or self.edition is None:
            return None
        return (self.edition.closes - self.today).days


def paris_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(PARIS).date()


def status(campaign: Campaign, now: dt.datetime) -> CampaignStatus:
    today = paris_day(now)
    for edition in campaign.editions:
        if edition.is_open_on(today):
            return CampaignStatus(today, Phase.OPEN, edition)
    upcoming = [e for e in campaign.editions if e.opens > today]
    if upcoming:
        return CampaignStatus(today, Phase.UPCOMING, upcoming[0])
    if campaign.editions:
        return CampaignStatus(today, Phase.CLOSED, campaign.editions[-1])
    return CampaignStatus(today, Phase.UNKNOWN, None)


def results_edition(campaign: Campaign, now: dt.datetime) -> Edition | None:
    """The edition whose results people most likely ask about: the latest one that has opened."""
    today = paris_day(now)
    started = [e for e in campaign.editions if e.opens <= today]
    return started[-1] if started else None


def default_campaign_file() -> Path:
    return Path(__file__).with_name("campaign.yaml")


def load_campaign(path: Path) -> Campaign:
    """Read and validate the calendar; errors carry the line of the edition at fault."""
    document = read_yaml(path)
    try:
        return validate(document, Campaign)
    except DataFileError as error:
        if any(problem.line != document.line_of(()) for problem in error.problems):
            raise
    # Only whole-calendar conflicts remain: point at the edition at fault, not at line 1.
    editions = validate(document, _Editions).editions
    raise DataFileError(
        [document.problem(("editions", index), message) for index, message in conflicts(editions)]
    )


class _Editions(BaseModel):
    """The calendar without its cross-edition rules, to locate those rules' violations."""

    model_config = ConfigDict(extra="forbid")

    editions: list[Edition] = []
