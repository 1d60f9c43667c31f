"""Announcement texts: French Jinja2 templates in `scheduler/templates.yaml`, edited by organisers.

Compiled and rendered by `bot.templating` (unknown fields found statically, with their line);
`check_plan` renders every planned announcement of the calendar so that `tnl-bot check` catches
the rest before anyone is online.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import jinja2
from pydantic import BaseModel, ConfigDict, StringConstraints

from bot.datafile import DataFileError, Problem, YamlDocument, read_yaml, validate
from bot.french import long_date
from bot.templating import compile_sections, render
from scheduler.campaign import AnnouncementKind, Url
from scheduler.plan import Announcement

FIELDS = frozenset(
    {"edition", "opens", "closes", "results", "days_left", "questionnaire", "page", "hashtags"}
)
# « 30 jours », « 7 j » in a rendered text: the number of days it announces.
_DAYS = re.compile(r"\b(\d+)\s*(?:jours?|j)\b")
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class TemplateTexts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    opening: Text
    reminder: Text  # J-30, J-7 and J-1 share it, with `days_left`
    closing: Text
    results: Text


class TemplatesFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    hashtags: str = ""
    questionnaire: Url
    max_length: int = 500
    templates: TemplateTexts


def _section(kind: AnnouncementKind) -> str:
    return "reminder" if kind.startswith("reminder") else kind


@dataclass(frozen=True)
class Templates:
    """The validated templates file, compiled; renders one announcement's text."""

    settings: TemplatesFile
    compiled: dict[str, jinja2.Template]
    lines: dict[str, int]  # section → line of its text in the file, for error messages
    path: Path

    def fields(self, announcement: Announcement) -> dict[str, Any]:
        edition = announcement.edition
        fields: dict[str, Any] = {
            "edition": edition.name,
            "opens": long_date(edition.opens),
            "closes": long_date(edition.closes),
            "questionnaire": edition.questionnaire or self.settings.questionnaire,
            "hashtags": self.settings.hashtags,
        }
        if edition.results is not None:
            fields["results"] = long_date(edition.results)
        if edition.page is not None:
            fields["page"] = edition.page
        if announcement.days_left is not None:
            fields["days_left"] = announcement.days_left
        return fields

    def render(self, announcement: Announcement) -> str:
        """The French text, typography applied; raises jinja2.TemplateError on a bad template."""
        return render(self.compiled[_section(announcement.kind)], self.fields(announcement))

    def problem(self, announcement: Announcement, message: str) -> Problem:
        return Problem(self.path, self.lines[_section(announcement.kind)], message)


def _compile(document: YamlDocument, settings: TemplatesFile) -> Templates:
    sources = settings.templates.model_dump()
    compiled, lines = compile_sections(document, sources, FIELDS)
    return Templates(settings, compiled, lines, document.path)


def default_templates_file() -> Path:
    return Path(__file__).with_name("templates.yaml")


def load_templates(path: Path) -> Templates:
    document = read_yaml(path)
    return _compile(document, validate(document, TemplatesFile))


def _wrong_days(announcement: Announcement, text: str) -> str | None:
    """What is wrong with the number of days a reminder's text announces, if anything: a number
    written in the template, or a reminder moved to closing day or after it."""
    left = announcement.days_left
    if left is None:
        return None
    if left < 1:
        return f"due {-left} day(s) after closing day" if left else "due on closing day"
    said = {int(n) for n in _DAYS.findall(text)}
    if said - {left}:
        written = ", ".join(str(n) for n in sorted(said - {left}))
        return f"says {written} days but is due {left} days before closing: use {{{{ days_left }}}}"
    return None


def render_problems(templates: Templates, plan: list[Announcement]) -> list[Problem]:
    """Render every planned announcement: catches missing fields (an edition without `page`),
    texts longer than the platforms accept, and reminders announcing the wrong number of days."""
    problems: list[Problem] = []
    for announcement in plan:
        try:
            text = templates.render(announcement)
        except jinja2.TemplateError as error:
            message = f"{announcement.kind} for edition {announcement.edition.name}: {error}"
            problems.append(templates.problem(announcement, message))
            continue
        wrong = _wrong_days(announcement, text)
        if wrong is not None:
            message = f"{announcement.kind} for edition {announcement.edition.name}: {wrong}"
            problems.append(templates.problem(announcement, message))
        if len(text) > templates.settings.max_length:
            problems.append(
                templates.problem(
                    announcement,
                    f"{announcement.kind} for edition {announcement.edition.name}: "
                    f"{len(text)} characters, more than max_length "
                    f"{templates.settings.max_length}",
                )
            )
    return problems


def check_plan(campaign_path: Path, templates_path: Path | None = None) -> list[Problem]:
    """Problems of the templates file, and of rendering the calendar's whole plan with it.

    The calendar's own problems (including its `announcements:` overrides: unknown kinds, bad
    dates) are reported by `load_campaign`, which `tnl-bot check` already runs; they are not
    repeated here.
    """
    from scheduler.campaign import load_campaign
    from scheduler.plan import campaign_plan

    try:
        templates = load_templates(templates_path or default_templates_file())
    except DataFileError as error:
        return list(error.problems)
    try:
        campaign = load_campaign(campaign_path)
    except DataFileError:
        return []
    return render_problems(templates, campaign_plan(campaign))
