"""The console chat: the same service as every platform, in a terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from bot.connectors.console import ConsoleChat, wrap
from bot.conversation import ConversationService
from bot.conversation.commands import parse_command


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("/faq qui peut candidater", ("faq", "qui peut candidater")),
        ("/FAQ@tnl_bot  la question ", ("faq", "la question")),
        ("/dates", ("dates", "")),
        ("/non_repondues", ("non_repondues", "")),
        ("pas une commande", None),
        ("/", None),
        ("/../etc", None),
    ],
)
def test_parse_command(text: str, parsed: tuple[str, str] | None) -> None:
    assert parse_command(text) == parsed


async def run_chat(service: ConversationService, lines: list[str]) -> str:
    feed = iter(lines)

    def read(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    out = io.StringIO()
    chat = ConsoleChat(service, Console(file=out, width=200), read=read)
    assert await chat.run() == 0
    return out.getvalue()


async def test_console_chat_conversation(service: ConversationService) -> None:
    output = await run_chat(
        service,
        ["Bonjour", "niveau", "2", "[bold]qui[/bold] peut candidater ?", "/aide", "/quitter", "x"],
    )
    assert "Bienvenue" in output
    assert "Vouliez-vous dire" in output
    assert "Tapez le numéro" in output
    assert "[bold]qui[/bold]" not in output  # user text is never echoed, let alone as markup
    assert "/abonner" not in output  # the console has no subscriptions: never offered
    assert "À bientôt" in output
    assert output.count("TNL ›") == 5  # "x" after /quitter is never read


async def test_console_chat_ends_cleanly_on_end_of_input(service: ConversationService) -> None:
    assert "À bientôt" in await run_chat(service, ["merci"])


def test_wrap_never_breaks_an_address_at_a_hyphen() -> None:
    url = "https://territoire-numerique-libre.org/le-label/faq"
    mail = "contact@territoire-numerique-libre.org"
    text = f"Écrivez-nous à {mail} ou lisez la foire-aux-questions : {url} et-ceci-aussi."
    for width in range(20, 70):
        lines = wrap(text, width)
        assert any(url in line for line in lines), (width, lines)
        assert any(mail in line for line in lines), (width, lines)
        rejoined = "".join(line if line.endswith("-") else f"{line} " for line in lines)
        assert rejoined.strip() == text  # nothing lost, ordinary words may break at hyphens
    assert wrap("la foire-aux-questions", 12) == ["la foire-", "aux-", "questions"]
