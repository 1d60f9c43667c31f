"""A palmarès as the texts each platform will carry, measured before anything is queued.

Mastodon gets a summary status and one post per laureate (a thread under the summary by
default); Telegram a digest grouped by distinction, cut into messages. The texts come from
`scheduler/laureates.yaml`, which organisers edit; an over-long post is reported on the line of
its laureate when the file is checked, never discovered by a refusal in the middle of a thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import jinja2
from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

from bot import textsplit
from bot.datafile import DataFileError, Problem, YamlDocument, read_yaml, validate
from bot.laureates.keys import post_key
from bot.laureates.model import Distinction, Laureate, LaureateList
from bot.templating import compile_sections, render
from scheduler.templates import default_templates_file

MastodonMode = Literal["thread", "separate", "summary-only"]
TargetKind = Literal["mastodon", "telegram"]
FIELDS = frozenset({"edition", "count", "mode", "hashtags", "groups", "laureate", "position"})
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_CAMEL = re.compile(r"#[A-Z0-9À-Ý]\w*")


class LaureateTexts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    summary: Text
    laureate: Text
    digest: Text


class LaureateTemplatesFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    hashtags: str = ""
    mastodon: MastodonMode = "thread"
    templates: LaureateTexts

    @field_validator("hashtags")
    @classmethod
    def _camel_case(cls, value: str) -> str:
        """`#territoirenumeriquelibre` is read letter by letter by a screen reader."""
        for tag in value.split():
            if not _CAMEL.fullmatch(tag):
                raise ValueError(f"{tag!r} is not a CamelCase hashtag (#TerritoireNumériqueLibre)")
        return value


@dataclass(frozen=True)
class LaureateTemplates:
    settings: LaureateTemplatesFile
    compiled: dict[str, jinja2.Template]
    lines: dict[str, int]  # section → line of its text, for messages
    path: Path


def default_laureate_templates_file() -> Path:
    return default_templates_file().with_name("laureates.yaml")


def load_laureate_templates(path: Path | None = None) -> LaureateTemplates:
    """The validated, compiled templates; DataFileError with every problem of the file."""
    document: YamlDocument = read_yaml(path or default_laureate_templates_file())
    settings = validate(document, LaureateTemplatesFile)
    compiled, lines = compile_sections(document, settings.templates.model_dump(), FIELDS)
    return LaureateTemplates(settings, compiled, lines, document.path)


@dataclass(frozen=True)
class Budget:
    """How one platform counts a text and how much it accepts: Mastodon counts each URL as 23
    and gives its own limit in `/api/v2/instance`; Telegram counts UTF-16 units of the HTML it
    is sent. The connector that will send the texts knows; the caller passes it."""

    limit: int
    length: Callable[[str], int] = len


@dataclass(frozen=True)
class Publication:
    """Texts for one kind of target, in sending order, each with its outbox key.

    `threaded`: each text is a reply to the one before it (a Mastodon thread)."""

    target_kind: TargetKind
    texts: tuple[str, ...]
    keys: tuple[str, ...]
    threaded: bool = False


@dataclass(frozen=True)
class Group:
    """The laureates of one distinction, in file order."""

    heading: str
    distinction: Distinction
    laureates: tuple[Laureate, ...]


def groups(palmares: LaureateList) -> tuple[Group, ...]:
    """Best distinction first, as a palmarès is read out."""
    ranks = sorted({x.distinction for x in palmares.laureates}, reverse=True)
    return tuple(
        Group(d.heading, d, tuple(x for x in palmares.laureates if x.distinction == d))
        for d in ranks
    )


def publications(
    palmares: LaureateList, templates: LaureateTemplates, *, mastodon: Budget, telegram: Budget
) -> tuple[Publication, ...]:
    """The Mastodon and Telegram publications of a palmarès; DataFileError lists every post
    that cannot be rendered or is longer than its platform accepts."""
    mode = templates.settings.mastodon
    common: dict[str, Any] = {
        "edition": palmares.edition,
        "count": len(palmares.laureates),
        "mode": mode,
        "hashtags": templates.settings.hashtags,
        "groups": groups(palmares),
    }
    problems: list[Problem] = []

    def text(section: str, fields: dict[str, Any]) -> str:
        try:
            return render(templates.compiled[section], fields)
        except jinja2.TemplateError as error:
            line = templates.lines[section]
            problems.append(Problem(templates.path, line, f"{section}: {error}"))
            return ""

    def post(section: str, fields: dict[str, Any], where: Problem) -> str:
        rendered = text(section, fields)
        size = mastodon.length(rendered)
        if size > mastodon.limit:
            message = (
                f"{where.message} : {size} caractères sur Mastodon, "
                f"plus que les {mastodon.limit} permis par l’instance"
            )
            problems.append(Problem(where.path, where.line, message))
        return rendered

    summary_at = Problem(templates.path, templates.lines["summary"], "résumé")
    mastodon_texts = [post("summary", common, summary_at)]
    mastodon_keys = [post_key(palmares, "summary")]
    if mode != "summary-only":
        for position, laureate in enumerate(palmares.laureates, 1):
            fields = {**common, "laureate": laureate, "position": position}
            where = Problem(palmares.path, laureate.line, f"publication de « {laureate.name} »")
            mastodon_texts.append(post("laureate", fields, where))
            mastodon_keys.append(post_key(palmares, f"laureate:{position}"))
    digest = textsplit.split(text("digest", common), telegram.limit, telegram.length)
    if problems:
        raise DataFileError(problems)
    return (
        Publication(
            "mastodon", tuple(mastodon_texts), tuple(mastodon_keys), threaded=mode == "thread"
        ),
        Publication(
            "telegram",
            tuple(digest),
            tuple(post_key(palmares, f"digest:{n}") for n in range(1, len(digest) + 1)),
        ),
    )
