"""End to end: an organiser broadcasts by Mastodon direct message to the real `tnl-bot run`.

TNL_ORGANISERS names the organiser as `mastodon:user@instance`; the running bot looks the
account up at start, answers its direct messages with a direct preview, and publishes once,
publicly, when the same account confirms. The fakes and helpers are `tests/test_run.py`'s.
"""

from __future__ import annotations

import datetime as dt
import html
import urllib.parse
from pathlib import Path

import pytest

from bot.connectors.mastodon.text import html_to_text
from bot.french import typography
from tests.fakes.mastodon_entities import Json
from tests.fakes.mastodon_server import FakeMastodon
from tests.test_run import (
    MASTODON_TOKEN,
    environment,
    fakes,
    prepare,
    replies_to,
    running,
    statuses_posted,
)

NEWS = "Réunion des collectivités lauréates jeudi à 14 h."
ORGANISER_TOKEN = "orga-token"


def published(mastodon: FakeMastodon, bot: Json) -> list[Json]:
    """The bot's public statuses carrying the news."""
    return [
        status
        for status in statuses_posted(mastodon, bot)
        if NEWS in html.unescape(status["content"]) and status["visibility"] == "public"
    ]


@pytest.mark.slow
async def test_an_organiser_broadcasts_by_direct_message(tmp_path: Path) -> None:
    prepare(tmp_path, dt.datetime.now(dt.UTC))
    async with fakes() as (telegram, mastodon):
        tnl = mastodon.add_account("tnl", MASTODON_TOKEN, bot=True)
        mastodon.add_account("orga", ORGANISER_TOKEN)
        domain = urllib.parse.urlsplit(mastodon.base).netloc
        env = environment(tmp_path, telegram, mastodon) | {
            "TNL_ORGANISERS": f"mastodon:orga@{domain}"
        }
        async with running(env, tmp_path) as bot:
            await bot.until("the opening", lambda: statuses_posted(mastodon, tnl))
            order = mastodon.post_as(
                ORGANISER_TOKEN, f"@tnl /diffuser mastodon {NEWS}", visibility="direct"
            )
            await bot.until("the preview", lambda: replies_to(mastodon, order))
            (preview, *_) = replies_to(mastodon, order)
            assert preview["visibility"] == "direct"
            assert typography("Aperçu de la diffusion n° 1") in html_to_text(preview["content"])
            assert not published(mastodon, tnl)  # nothing before the confirmation

            confirm = mastodon.post_as(ORGANISER_TOKEN, "@tnl /confirmer", visibility="direct")
            await bot.until("the broadcast", lambda: published(mastodon, tnl))
            await bot.until("the confirmation", lambda: replies_to(mastodon, confirm))
            assert "Diffusion n° 1 confirmée" in html_to_text(
                replies_to(mastodon, confirm)[0]["content"]
            )
        log = bot.log()
    assert len(published(mastodon, tnl)) == 1, log
    assert not any(NEWS in text for text in telegram.texts("@tnl_annonces"))  # mastodon only
    assert "Traceback" not in log, log
