"""Date answers computed from the campaign calendar at the moment of the question.

"Jusqu'à quand peut-on candidater ?" has a different true answer in March and in December; these
functions say what is true on `now`, in French, and never invent a date the calendar lacks.
"""

from __future__ import annotations

import datetime as dt

from bot.french import days, long_date
from scheduler.campaign import Campaign, Phase, paris_day, results_edition, status

SUBSCRIBE_HINT = "Envoyez /abonner pour être prévenu dès que les dates seront annoncées."


def _window(opens: dt.date, closes: dt.date) -> str:
    """« du 19 septembre au 19 octobre 2025 »: the year once when both days share it."""
    start = long_date(opens)
    if opens.year == closes.year:
        start = start.rsplit(" ", 1)[0]
    return f"du {start} au {long_date(closes)}"


def campaign_dates(campaign: Campaign, now: dt.datetime, *, can_subscribe: bool) -> str:
    """Where the candidature campaign stands today: open, upcoming, or not announced yet."""
    current = status(campaign, now)
    edition = current.edition
    if current.phase is Phase.OPEN and edition is not None:
        left = current.days_left or 0
        remaining = (
            "c'est le dernier jour, ne tardez pas !" if left == 0 else f"il reste {days(left)}."
        )
        return (
            f"La campagne {edition.name} est ouverte : vous pouvez candidater jusqu'au "
            f"{long_date(edition.closes)} inclus ; {remaining}"
        )
    if current.phase is Phase.UPCOMING and edition is not None:
        wait = (edition.opens - current.today).days
        soon = f" (dans {days(wait)})" if wait <= 30 else ""
        return (
            f"La campagne {edition.name} ouvrira le {long_date(edition.opens)}{soon} "
            f"et fermera le {long_date(edition.closes)}."
        )
    text = "Les dates de la prochaine campagne n'ont pas encore été annoncées."
    if edition is not None:
        window = _window(edition.opens, edition.closes)
        text += f" La dernière, celle de {edition.name}, était ouverte {window}."
    if can_subscribe:
        text += " " + SUBSCRIBE_HINT
    return text


def results_dates(campaign: Campaign, now: dt.datetime) -> str:
    """When the results of the latest edition are (or were) announced."""
    edition = results_edition(campaign, now)
    if edition is None:
        return "Aucune édition n'a encore eu lieu selon le calendrier du bot."
    subject = f"Les résultats de l'édition {edition.name}"
    if edition.results is None:
        return f"La date des résultats de l'édition {edition.name} n'a pas encore été annoncée."
    day = long_date(edition.results)
    today = paris_day(now)
    if edition.results > today:
        return f"{subject} seront annoncés le {day}."
    if edition.results == today:
        return f"{subject} sont annoncés aujourd'hui, {day}."
    return f"{subject} ont été annoncés le {day}."
