"""What an organiser sees before confirming, and the fingerprint that binds the send to it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence

from bot.conversation.connector import Preview
from bot.french import long_datetime, typography
from bot.paris import PARIS


def preview_hash(previews: Sequence[Preview]) -> str:
    """sha256 of every target's texts, in order: equal exactly when the posts would be."""
    canonical = json.dumps(
        [[p.target, list(p.texts)] for p in previews], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def recipients(preview: Preview) -> str:
    if preview.recipients is None:
        return "abonnés du compte"
    return f"{preview.recipients} destinataire{'s' if preview.recipients != 1 else ''}"


def describe(
    number: int, previews: Sequence[Preview], due: dt.datetime | None, minutes: float
) -> str:
    """The preview message: per target, the texts exactly as they will appear (French
    typography on the bot's own lines only: the organiser's text is shown untouched)."""
    when = (
        f"le {long_datetime(due.astimezone(PARIS))} (heure de Paris)"
        if due is not None
        else "dès confirmation"
    )
    return framed(f"Aperçu de la diffusion n° {number}, envoi {when} :", body(previews), minutes)


def body(previews: Sequence[Preview]) -> str:
    """Per target: recipients, then each text as it will appear."""
    lines: list[str] = []
    for preview in previews:
        count = len(preview.texts)
        unit = "message" if preview.target.startswith("telegram") else "statut"
        plural = "s" if count > 1 else ""
        heading = f"— {preview.target} ({recipients(preview)}), {count} {unit}{plural} :"
        lines.append("\n" + typography(heading))
        for index, text in enumerate(preview.texts, 1):
            prefix = f"[{index}/{count}] " if count > 1 else ""
            lines.append(f"{prefix}{text}")
    return "\n".join(lines)


def framed(title: str, content: str, minutes: float) -> str:
    """A title, the content, and how to confirm or cancel."""
    closing = f"Envoyez /confirmer dans les {minutes:g} minutes pour confirmer, ou /annuler."
    return f"{typography(title)}\n{content}\n\n{typography(closing)}"


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
