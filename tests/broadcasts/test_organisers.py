"""Organisers broadcast from chat: preview, confirm (same organiser, in time, as previewed),
cancel, expire; everyone else gets the neutral answer and the attempt is audited."""

from __future__ import annotations

import datetime as dt

from bot.paris import PARIS
from bot.store.store import Store
from tests.broadcasts.conftest import ALICE, BRUNO, CAROLE, ZOE, Desk, audit_actions


async def test_preview_then_confirm_sends_exactly_what_was_shown(desk: Desk, store: Store) -> None:
    text = "Les candidatures 2027 ouvrent le 1er mars : préparez vos dossiers !"
    preview = await desk.says(ALICE, f"/diffuser {text}")
    assert "Aperçu de la diffusion n° 1" in preview
    assert "telegram (3 destinataires), 2 messages" in preview
    assert "mastodon:main (120 destinataires), 2 statuts" in preview
    assert f"[1/2] {text[:40]}" in preview  # the organiser's text, untouched
    assert "/confirmer" in preview
    assert await desk.queued() == []  # nothing before confirmation
    confirmed = await desk.says(ALICE, "/confirmer")
    assert confirmed.startswith("Diffusion n° 1 confirmée")
    assert await desk.queued() == [
        ("broadcast:1", "mastodon:main", text),
        ("broadcast:1", "telegram", text),
    ]
    assert "Aucune diffusion en attente" in await desk.says(ALICE, "/confirmer")
    assert await audit_actions(store) == [
        ("chat:1", "broadcast.preview"),
        ("chat:1", "broadcast.confirm"),
    ]


async def test_a_first_word_restricts_the_targets(desk: Desk) -> None:
    preview = await desk.says(ALICE, "/diffuser mastodon Bonjour")
    assert "mastodon:main" in preview
    assert "telegram (" not in preview
    await desk.says(ALICE, "/confirmer")
    assert await desk.queued() == [("broadcast:1", "mastodon:main", "Bonjour")]
    assert "Cible inconnue" in await desk.says(ALICE, "/diffuser mastodon:autre Bonjour")


async def test_abonnes_chooses_the_narrower_audience_with_its_own_preview(desk: Desk) -> None:
    everyone = await desk.says(ALICE, "/diffuser Bonjour")
    assert "telegram (3 destinataires)" in everyone
    assert "abonnes" not in everyone  # a narrower audience is chosen, never a default
    await desk.says(ALICE, "/annuler")
    preview = await desk.says(ALICE, "/diffuser abonnés Réunion des abonnés jeudi")
    assert "telegram:abonnes (2 destinataires)" in preview
    assert "mastodon:main" not in preview
    assert "telegram (" not in preview
    assert "Réunion des abonnés jeudi" in preview
    await desk.says(ALICE, "/confirmer")
    assert await desk.queued() == [("broadcast:2", "telegram:abonnes", "Réunion des abonnés jeudi")]
    await desk.says(ALICE, "/diffuser telegram Bonsoir")
    await desk.says(ALICE, "/confirmer")
    assert ("broadcast:3", "telegram", "Bonsoir") in await desk.queued()
    assert len(await desk.queued()) == 2


async def test_nobody_else_confirms_and_contacts_cannot_broadcast(desk: Desk, store: Store) -> None:
    assert await desk.says(ZOE, "/diffuser Achetez !") == await desk.says(ZOE, "/inconnue")
    await desk.says(ALICE, "/diffuser Bonjour")
    assert "n’est pas la vôtre" in await desk.says(BRUNO, "/confirmer 2")
    assert "Aucune diffusion en attente" in await desk.says(BRUNO, "/confirmer")
    assert await desk.says(ZOE, "/confirmer 2") == await desk.says(ZOE, "/inconnue")
    assert await desk.queued() == []
    actions = await audit_actions(store)
    assert ("chat:9", "refused.diffuser") in actions
    assert ("chat:9", "refused.confirmer") in actions
    assert ("chat:2", "broadcast.confirm.refused") in actions


async def test_organiser_commands_are_taken_in_private_only(desk: Desk) -> None:
    in_group = await desk.says(ALICE, "/diffuser Bonjour", private=False)
    assert in_group == await desk.says(ALICE, "/inconnue")
    assert await desk.queued() == []


async def test_a_late_confirmation_sends_nothing_and_the_organiser_is_told(
    desk: Desk, store: Store
) -> None:
    await desk.says(CAROLE, "/diffuser Bonjour")
    desk.clock.advance(10 * 60)
    desk.lapse.set()  # the expiry timer goes off
    await desk.commands.expired()
    ((conversation, notice),) = desk.platforms["telegram"].said
    assert conversation == "5"
    assert "L’aperçu n° 1 a expiré sans confirmation" in notice
    assert "Aucune diffusion en attente" in await desk.says(CAROLE, "/confirmer")
    assert await desk.queued() == []
    assert ("telegram:5", "broadcast.expired") in await audit_actions(store)


async def test_a_confirmation_after_the_delay_finds_the_draft_expired(desk: Desk) -> None:
    await desk.says(ALICE, "/diffuser Bonjour")
    desk.clock.advance(11 * 60)  # the timer has not run: the confirmation itself sees it
    assert "a expiré" in await desk.says(ALICE, "/confirmer 1")
    assert await desk.queued() == []


async def test_a_changed_rendering_is_not_sent_on_an_old_preview(desk: Desk) -> None:
    await desk.says(ALICE, "/diffuser " + "x" * 50)
    desk.platforms["telegram"].width = 30  # e.g. the instance changed its limit meanwhile
    assert "Le rendu a changé" in await desk.says(ALICE, "/confirmer")
    assert await desk.queued() == []
    assert "Aperçu de la diffusion n° 1" in await desk.says(ALICE, "/apercu")


async def test_cancel_and_schedule(desk: Desk) -> None:
    await desk.says(ALICE, "/diffuser Bonjour")
    assert "annulée" in await desk.says(ALICE, "/annuler")
    assert "Aucune diffusion en attente" in await desk.says(ALICE, "/confirmer")
    preview = await desk.says(ALICE, "/programmer 2027-03-01 09:00 Ouverture demain !")
    assert "le 1er mars 2027 à 9\u00a0h (heure de Paris)" in preview
    assert "programmée" in await desk.says(ALICE, "/confirmer")
    (item, *_) = await desk.outbox.items()
    assert item.due_at == dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)
    assert "passée" in await desk.says(ALICE, "/programmer 2020-01-01 09:00 Trop tard")
    assert "n° 2 (confirmée)" in await desk.says(ALICE, "/etat")


async def test_organisers_see_their_commands_in_help(desk: Desk) -> None:
    assert "/diffuser" in await desk.says(ALICE, "/aide")
    assert "/diffuser" not in await desk.says(ZOE, "/aide")


async def test_with_no_platform_there_is_nowhere_to_broadcast(desk: Desk) -> None:
    desk.commands.connectors.clear()
    assert "Aucune plateforme n’est configurée" in await desk.says(ALICE, "/diffuser Bonjour")


async def test_withdraw_deletes_what_was_published_and_cancels_what_waits(
    desk: Desk, store: Store
) -> None:
    await desk.says(ALICE, "/diffuser Bonjour")
    await desk.says(ALICE, "/confirmer")
    await desk.delivered()
    await desk.says(ALICE, "/programmer 2027-03-01 09:00 Demain !")
    await desk.says(ALICE, "/confirmer")
    preview = await desk.says(ALICE, "/retirer 1")
    assert "Retrait de la diffusion n° 1" in preview
    assert "telegram : 1 publiés, supprimés si possible" in preview
    assert desk.platforms["telegram"].withdrawn == []  # nothing before the confirmation
    done = await desk.says(ALICE, "/confirmer")
    assert "— telegram : 1 supprimé" in done
    assert desk.platforms["telegram"].withdrawn == [("telegram", "telegram#1")]
    assert desk.platforms["mastodon:main"].withdrawn == [("mastodon:main", "mastodon:main#1")]
    assert "déjà été retirée" in await desk.says(ALICE, "/retirer 1")
    await desk.says(ALICE, "/retirer 2")  # scheduled for 2027: still waiting, cancelled
    assert "2 annulé" not in await desk.says(ALICE, "/confirmer")
    assert {i.state.value for i in await desk.outbox.items(key="broadcast:2")} == {"cancelled"}
    assert "pas de diffusion n° 99" in await desk.says(ALICE, "/retirer 99")
    await desk.says(ALICE, "/diffuser Brouillon")
    await desk.says(ALICE, "/annuler")
    assert "jamais été confirmée" in await desk.says(ALICE, "/retirer 5")
    assert ("chat:1", "withdraw.confirm") in await audit_actions(store)


async def test_state_shows_the_next_announcements_and_the_subscribers(
    desk: Desk, store: Store
) -> None:
    state = await desk.says(ALICE, "/etat")
    assert "Aucune annonce programmée." in state  # the reference moment is after every edition
    assert "Abonnés\u00a0: aucun" in state
    assert state.startswith("Envois\u00a0: en attente 0, en cours 0, envoyés 0, échoués 0")
    desk.clock.set(dt.datetime(2025, 11, 1, 12, 0, tzinfo=PARIS))
    await store.subscribe("telegram", "42", desk.clock.now())
    await store.subscribe("telegram", "43", desk.clock.now())
    state = await desk.says(ALICE, "/etat")
    assert (
        "Prochaines annonces programmées\u00a0:\n— 19 novembre 2025 à 9\u00a0h\u00a0: résultats de l’édition 2025 (2025:results)\n"
        in state
    )
    assert "Abonnés\u00a0: telegram 2" in state
