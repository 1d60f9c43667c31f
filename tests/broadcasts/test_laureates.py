"""The palmarès from a spreadsheet export: checked line by line, previewed per platform,
confirmed, and never published twice."""

from __future__ import annotations

from pathlib import Path

from bot.conversation import Attachment
from bot.store.store import Store
from tests.broadcasts.conftest import ALICE, ZOE, Desk, audit_actions

FILES = Path(__file__).parent.parent / "data" / "laureates"
PALMARES = Attachment("palmares.csv", (FILES / "palmares-2025-40-cp1252.csv").read_bytes())
PALMARES_ROWS = PALMARES.content.decode("cp1252").splitlines()


async def test_forty_laureates_previewed_confirmed_and_never_twice(desk: Desk) -> None:
    preview = await desk.says(ALICE, "/laureats 2025", file=PALMARES)
    assert "Aperçu de la diffusion n° 1" in preview
    assert "mastodon:main (120 destinataires)" in preview
    assert "Palmarès 2025" in preview
    assert "Envoyez /confirmer" in preview
    assert "confirmée" in await desk.says(ALICE, "/confirmer")
    queued = await desk.outbox.items()
    by_target = {item.target: item for item in queued}
    assert sorted(by_target) == ["mastodon:main", "telegram"]
    thread = by_target["mastodon:main"].post
    assert len(thread.parts) == 41  # the summary, then one status per laureate, in file order
    assert thread.parts[0].startswith("Palmarès 2025")
    # The same list again (re-sent right after /laureats this time): previewed, confirmed,
    # and nothing new is queued: the keys come from the list's content.
    assert "Envoyez maintenant le fichier" in await desk.says(ALICE, "/laureats 2025")
    assert "Aperçu de la diffusion n° 2" in await desk.says(ALICE, "", file=PALMARES)
    assert "confirmée" in await desk.says(ALICE, "/confirmer")
    assert len(await desk.outbox.items()) == len(queued)


async def test_a_malformed_file_is_refused_with_its_lines(desk: Desk, store: Store) -> None:
    bad = Attachment("liste.csv", (FILES / "unknown-type.csv").read_bytes())
    refused = await desk.says(ALICE, "/laureats 2025", file=bad)
    assert refused.startswith("Le fichier n’a pas été accepté")
    assert "ligne " in refused
    assert "inconnu" in refused
    assert "Aucune diffusion en attente" in await desk.says(ALICE, "/confirmer")
    assert await desk.outbox.items() == []
    assert ("chat:1", "laureates.refused") in await audit_actions(store)


async def test_only_organisers_publish_laureates_and_stray_files_are_not_taken(
    desk: Desk,
) -> None:
    assert await desk.says(ZOE, "/laureats 2025", file=PALMARES) == await desk.says(
        ZOE, "/inconnue"
    )
    assert "Je ne sais pas quoi faire de ce fichier" in await desk.says(ZOE, "", file=PALMARES)
    assert "Envoyez un fichier .csv ou .yaml" in await desk.says(
        ALICE, "/laureats 2025", file=Attachment("liste.pdf", b"%PDF")
    )
    assert await desk.outbox.items() == []


async def test_once_published_the_list_answers_contacts(desk: Desk, store: Store) -> None:
    first = PALMARES_ROWS[1].split(";")[0]
    question = f"{first} a-t-elle été labellisée en 2025 ?"
    before = await desk.says(ZOE, question)
    assert "2025" not in before or first not in before  # nothing published: the FAQ answers
    await desk.says(ALICE, "/laureats 2025", file=PALMARES)
    assert first not in await desk.says(ZOE, question)  # previewed is not published
    await desk.says(ALICE, "/confirmer")
    answer = await desk.says(ZOE, question)
    assert first in answer
    assert "2025" in answer
    unknown = await desk.says(ZOE, "Trifouilly-les-Oies a-t-elle été labellisée en 2025 ?")
    assert "Je ne trouve pas" in unknown
    # A restart reads the published list back from the store.
    desk.service.palmares.clear()
    from bot.broadcasts.laureates import LaureateCommands

    await LaureateCommands(desk.service, desk.commands).load()
    assert first in await desk.says(ZOE, question)


async def test_a_long_link_counts_as_mastodon_counts_it(desk: Desk) -> None:
    """Mastodon counts any URL as 23 characters: a laureate's deep link to its page does not
    make its status « too long » when the instance would take it."""
    site = "https://www.brumeval.example/" + "actualites/" * 45 + "label"
    rows = [
        "collectivite;type;territoire;distinction;mention;site;fediverse",
        f"Ville de Brumeval;commune;Finistère;Or;;{site};@mairie@brumeval.example",
    ]
    listing = Attachment("palmares.csv", "\n".join(rows).encode())
    preview = await desk.says(ALICE, "/laureats 2025", file=listing)
    assert "Aperçu de la diffusion n° 1" in preview
    assert "confirmée" in await desk.says(ALICE, "/confirmer")
    (thread,) = [i.post for i in await desk.outbox.items() if i.target == "mastodon:main"]
    assert len(thread.parts[1]) > 500  # as typed; 23 for the link as Mastodon counts it
