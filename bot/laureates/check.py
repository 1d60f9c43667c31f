"""`check_file`: what `tnl-bot laureates check FILE` reports, before any preview is offered."""

from __future__ import annotations

from pathlib import Path

from bot.datafile import DataFileError, Problem
from bot.french import typography
from bot.laureates.render import Budget, load_laureate_templates, publications
from bot.laureates.validate import load_laureates


def check_file(
    path: Path,
    edition: int,
    *,
    mastodon: Budget,
    telegram: Budget,
    templates_path: Path | None = None,
) -> list[Problem]:
    """Every problem of the list; if it has none, of the templates; if they have none, of the
    posts (too long for a platform). Empty when the list can be published as is."""
    try:
        palmares = load_laureates(path, edition)
        templates = load_laureate_templates(templates_path)
        publications(palmares, templates, mastodon=mastodon, telegram=telegram)
    except DataFileError as error:
        return list(error.problems)
    return []


def chat_lines(problems: list[Problem]) -> list[str]:
    """Problems as an organiser reads them in a chat, without the server's path:
    « ligne 7 : type « mairie » inconnu »."""
    return [typography(f"ligne {p.line} : {p.message}") for p in problems]
