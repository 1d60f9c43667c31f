from __future__ import annotations

import datetime as dt
import io

import pytest
from rich.console import Console

from bot import texts
from bot.clock import FixedClock
from bot.connectors.console import ConsoleChat
from bot.core import Core, Incoming, parse_command
from bot.faq.engine import FaqEngine, Kind


@pytest.fixture
def core(engine: FaqEngine, now: dt.datetime) -> Core:
    return Core(engine, FixedClock(now), subscribe_platforms=frozenset({"telegram"}))


def message(text: str, platform: str = "console") -> Incoming:
    return Incoming(platform=platform, chat_id="c1", user_id="u1", text=text)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("/faq qui peut candidater", ("faq", "qui peut candidater")),
        ("/FAQ@tnl_bot  la question ", ("faq", "la question")),
        ("/dates", ("dates", "")),
        ("pas une commande", None),
        ("/", None),
        ("/../etc", None),
    ],
)
def test_parse_command(text: str, parsed: tuple[str, str] | None) -> None:
    assert parse_command(text) == parsed


def test_help_lists_the_commands(core: Core) -> None:
    reply = core.handle(message("/aide"))
    for command in ("/faq", "/dates", "/contact"):
        assert command in reply.text


def test_faq_command_answers_its_argument(core: Core) -> None:
    reply = core.handle(message("/faq la candidature est-elle gratuite ?"))
    assert reply.answer is not None
    assert reply.answer.entry == "cout-candidature"


def test_faq_command_without_question_explains_usage(core: Core) -> None:
    assert "/faq Qui peut candidater" in core.handle(message("/faq")).text


def test_dates_command_reflects_the_calendar(core: Core) -> None:
    text = core.handle(message("/dates")).text
    assert "pas encore été annoncées" in text
    assert "Les résultats de l'édition 2025 ont été annoncés le 19 novembre 2025." in text


def test_subscription_is_suggested_only_where_the_platform_has_it(core: Core) -> None:
    assert "/abonner" in core.handle(message("/dates", platform="telegram")).text
    assert "/abonner" not in core.handle(message("/dates", platform="console")).text


def test_unknown_command_points_to_help(core: Core) -> None:
    assert "/aide" in core.handle(message("/inconnue")).text


def test_contact(core: Core) -> None:
    assert texts.CONTACT_EMAIL in core.handle(message("/contact")).text


def test_choosing_a_suggestion_answers_that_entry(core: Core) -> None:
    reply = core.handle(message("niveau"))
    assert reply.suggestions
    chosen = core.choose(message("1"), reply.suggestions[0].entry)
    assert chosen.answer is not None
    assert chosen.answer.kind is Kind.ANSWER
    assert chosen.answer.entry == reply.suggestions[0].entry


def run_chat(core: Core, lines: list[str]) -> str:
    feed = iter(lines)

    def read(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    out = io.StringIO()
    assert ConsoleChat(core, Console(file=out, width=200), read=read).run() == 0
    return out.getvalue()


def test_console_chat_conversation(core: Core) -> None:
    output = run_chat(
        core,
        ["Bonjour", "niveau", "2", "[bold]qui[/bold] peut candidater ?", "/quitter", "jamais lu"],
    )
    assert "Bienvenue" in output
    assert "Vouliez-vous dire" in output
    assert "Tapez le numéro" in output
    assert "À bientôt" in output
    second = core.handle(message("niveau")).suggestions[1]
    # The console wraps long lines: the start of the chosen answer is enough to recognise it.
    assert core.choose(message("2"), second.entry).text[:60] in output


def test_console_chat_ends_cleanly_on_end_of_input(core: Core) -> None:
    assert "À bientôt" in run_chat(core, ["merci"])
