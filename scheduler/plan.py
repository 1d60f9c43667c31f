"""The announcement plan: which messages each edition gets, and when (Europe/Paris).

Defaults: opening day at 09:00; reminders 30, 7 and 1 days before closing at 09:00 (only those
that fall after the opening day: a one-month campaign gets no "J-30"); closing day at 09:00;
results day at 09:00 when the calendar has one. An edition's `announcements:` mapping moves one
(a date-time) or drops one (`false`). The plan is recomputed from the calendar at every start
and reload; an announcement's id (edition + kind) is what makes it happen only once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.paris import PARIS
from scheduler.campaign import (
    ANNOUNCEMENT_KINDS,
    AnnouncementKind,
    Campaign,
    Edition,
)

ANNOUNCE_AT = dt.time(9, 0)
REMINDER_DAYS: dict[AnnouncementKind, int] = {"reminder-30": 30, "reminder-7": 7, "reminder-1": 1}

LABELS: dict[AnnouncementKind, str] = {
    "opening": "ouverture",
    "reminder-30": "rappel J-30",
    "reminder-7": "rappel J-7",
    "reminder-1": "rappel J-1",
    "closing": "clôture",
    "results": "résultats",
}


@dataclass(frozen=True)
class Announcement:
    edition: Edition
    kind: AnnouncementKind
    due: dt.datetime  # aware

    @property
    def id(self) -> str:
        """Stable across restarts and calendar edits: the outbox key and the store's record."""
        return f"{self.edition.name}:{self.kind}"

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def days_left(self) -> int | None:
        """For a reminder, the days from its actual date (Paris) to closing day: a `reminder-30`
        moved to another date must not still say « Plus que 30 jours »."""
        if self.kind not in REMINDER_DAYS:
            return None
        return (self.edition.closes - self.due.astimezone(PARIS).date()).days


def _at_nine(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, ANNOUNCE_AT, tzinfo=PARIS)


def _default(edition: Edition, kind: AnnouncementKind) -> dt.datetime | None:
    if kind == "opening":
        return _at_nine(edition.opens)
    if kind == "closing":
        return _at_nine(edition.closes)
    if kind == "results":
        return _at_nine(edition.results) if edition.results is not None else None
    day = edition.closes - dt.timedelta(days=REMINDER_DAYS[kind])
    return _at_nine(day) if day > edition.opens else None


def edition_plan(edition: Edition) -> list[Announcement]:
    announcements = []
    for kind in ANNOUNCEMENT_KINDS:
        override = edition.announcements.get(kind)
        if override is False:
            continue
        due = override if override is not None else _default(edition, kind)
        if due is not None:
            announcements.append(Announcement(edition, kind, due))
    return sorted(announcements, key=_order)


def campaign_plan(campaign: Campaign) -> list[Announcement]:
    """Every announcement of every edition, in the order they are due."""
    return sorted((a for edition in campaign.editions for a in edition_plan(edition)), key=_order)


def upcoming(
    plan: Sequence[Announcement], now: dt.datetime, count: int
) -> list[tuple[dt.datetime, str]]:
    """The next `count` announcements after `now`, soonest first, each with its due time and
    what it is in French (with its outbox key): what `/etat` shows organisers, so that nobody
    announces by hand what the calendar is about to say."""
    return [
        (a.due, f"{a.label} de l’édition {a.edition.name} ({a.id})") for a in plan if a.due > now
    ][:count]


def _order(announcement: Announcement) -> tuple[dt.datetime, int]:
    return announcement.due, ANNOUNCEMENT_KINDS.index(announcement.kind)
