"""Organiser-edited Jinja2 texts: compiled with the line of each, checked, rendered in French.

The campaign announcements (`scheduler/templates.yaml`) and the laureate posts
(`scheduler/laureates.yaml`) share these rules: StrictUndefined turns a misspelt field into an
error instead of an empty hole in a public message, an unknown field is found statically with
the line to fix, and every text leaves with French typography and no runs of blank lines.
Autoescaping stays off: the output is plain text, escaped by each connector for its platform.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
import jinja2.meta

from bot.datafile import DataFileError, Problem, YamlDocument
from bot.french import typography


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def compile_sections(
    document: YamlDocument,
    sources: Mapping[str, str],
    fields: frozenset[str],
    parent: Sequence[str] = ("templates",),
) -> tuple[dict[str, jinja2.Template], dict[str, int]]:
    """Each section's template and the line of its text; DataFileError lists every syntax
    error and unknown field of the file."""
    env = environment()
    compiled: dict[str, jinja2.Template] = {}
    lines: dict[str, int] = {}
    problems: list[Problem] = []
    for section, source in sources.items():
        # A block scalar's node starts on the key's line; its text on the next one.
        lines[section] = document.line_of((*parent, section)) + 1
        try:
            tree = env.parse(source)
        except jinja2.TemplateSyntaxError as error:
            problems.append(
                Problem(document.path, lines[section] + error.lineno - 1, f"{section}: {error}")
            )
            continue
        for name in sorted(jinja2.meta.find_undeclared_variables(tree) - fields):
            offset = next((n for n, text in enumerate(source.splitlines()) if name in text), 0)
            problems.append(
                Problem(
                    document.path,
                    lines[section] + offset,
                    f"{section}: unknown field {name!r} (known: {', '.join(sorted(fields))})",
                )
            )
        compiled[section] = env.from_string(tree)
    if problems:
        raise DataFileError(problems)
    return compiled, lines


def render(template: jinja2.Template, fields: Mapping[str, Any]) -> str:
    """The French text, typography applied; raises jinja2.TemplateError on a bad template."""
    raw = template.render(fields)
    return typography(re.sub(r"\n{3,}", "\n\n", raw).strip())
