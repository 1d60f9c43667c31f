"""An organiser sends a laureates file as a Telegram document: it reaches the service with its
bytes and caption, through the real PTB Application and the fake Bot API's getFile."""

from __future__ import annotations

import pytest

from bot.connectors.telegram import TelegramConnector
from bot.connectors.telegram.conversation import MAX_FILE
from bot.conversation import ConversationService, Incoming, Reply
from bot.conversation.commands import Command
from tests.fakes.telegram_server import FakeTelegram

ORGANISER = 1001
CSV = "collectivite;type;territoire;distinction\nSaint-Étienne-lès-Remiremont;commune;Vosges;Or\n"


def received_files(service: ConversationService) -> list[tuple[Incoming, str]]:
    """A `/laureats` stand-in that keeps what it was given."""
    received: list[tuple[Incoming, str]] = []

    async def laureates(incoming: Incoming, argument: str) -> Reply:
        received.append((incoming, argument))
        name = incoming.attachment.name if incoming.attachment else "aucun fichier"
        return Reply(f"Reçu : {name}")

    service.add_command(Command("laureats", "Publier les lauréats", laureates))
    return received


async def test_a_document_reaches_the_service_with_its_bytes_and_caption(
    fake: FakeTelegram, connector: TelegramConnector, service: ConversationService
) -> None:
    received = received_files(service)
    content = CSV.encode("cp1252")  # as a spreadsheet exports it: bytes, decoded later
    fake.send_document(ORGANISER, "laureats-2025.csv", content, caption="/laureats 2025")
    await fake.wait_for(lambda: fake.sent[ORGANISER])
    [(incoming, argument)] = received
    assert argument == "2025"
    assert incoming.text == "/laureats 2025"
    assert incoming.attachment is not None
    assert incoming.attachment.name == "laureats-2025.csv"
    assert incoming.attachment.content == content
    assert incoming.private
    assert fake.texts(ORGANISER) == ["Reçu : laureats-2025.csv"]
    assert fake.downloads == ["documents/file_1.csv"]


async def test_a_document_without_caption_goes_to_the_service_as_an_empty_text(
    fake: FakeTelegram, connector: TelegramConnector, service: ConversationService
) -> None:
    received = received_files(service)
    fake.send_document(ORGANISER, "laureats.yaml", b"- collectivite: Arles\n")
    await fake.wait_for(lambda: fake.sent[ORGANISER])
    assert received == []  # no command: the service answered it as it answers any text
    assert fake.downloads == ["documents/file_1.yaml"]


async def test_an_oversized_document_is_refused_before_downloading(
    fake: FakeTelegram, connector: TelegramConnector, service: ConversationService
) -> None:
    received = received_files(service)
    fake.send_document(ORGANISER, "video.csv", b"x" * (MAX_FILE + 1), caption="/laureats 2025")
    await fake.wait_for(lambda: fake.sent[ORGANISER])
    [refusal] = fake.texts(ORGANISER)
    assert "trop volumineux (1,1\u00a0Mio)" in refusal
    assert "jusqu'à 1\u00a0Mio" in refusal
    assert received == []
    assert fake.method_calls("getFile") == []
    assert fake.downloads == []


async def test_a_document_telegram_does_not_hand_over_gets_a_reply_and_a_log_line(
    fake: FakeTelegram,
    connector: TelegramConnector,
    service: ConversationService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """getFile refused (a 5xx, a file too big for bots), or the download failing after it: the
    organiser is told to send it again, and the log says why."""
    received = received_files(service)
    fake.fail_next("getFile", "500")
    fake.send_document(ORGANISER, "laureats-2025.csv", CSV.encode(), caption="/laureats 2025")
    await fake.wait_for(lambda: fake.sent[ORGANISER])
    assert fake.texts(ORGANISER) == [
        "Impossible de récupérer le fichier «\u00a0laureats-2025.csv\u00a0» auprès de "
        "Telegram\u00a0: réessayez de l’envoyer dans quelques minutes."
    ]
    assert fake.downloads == []
    fake.fail_next("file", "502")
    fake.send_document(ORGANISER, "palmares.csv", CSV.encode(), caption="/laureats 2025")
    await fake.wait_for(lambda: len(fake.sent[ORGANISER]) == 2)
    assert "« palmares.csv »" in fake.texts(ORGANISER)[1].replace("\u00a0", " ")
    assert fake.downloads == ["documents/file_2.csv"]
    assert received == []
    problems = [r.getMessage() for r in caplog.records if "not downloaded" in r.getMessage()]
    assert problems == [
        "document 'laureats-2025.csv' from Telegram user 1001 not downloaded: "
        "NetworkError: Internal Server Error",
        "document 'palmares.csv' from Telegram user 1001 not downloaded: NetworkError: Bad Gateway",
    ]
