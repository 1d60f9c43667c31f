"""The conversation service, as transcripts: what people say and what the bot answers."""

from __future__ import annotations

import pytest

from bot import texts
from bot.conversation import ConversationService, Identity, Incoming
from bot.faq.engine import Kind
from bot.french import typography
from bot.store.store import Store
from tests.conversation.conftest import ORGANISER, Person
from tests.manual_clock import ManualClock


async def test_help_lists_only_what_the_platform_offers(alice: Person, bob: Person) -> None:
    chat_help = await alice.hears("/aide")
    for command in ("/faq", "/dates", "/contact", "/abonner", "/desabonner"):
        assert command in chat_help
    thread_help = await bob.hears("/aide")
    assert "/faq" in thread_help
    assert "/abonner" not in thread_help  # no subscriptions on that platform: never named


async def test_dates_mention_subscription_only_where_it_exists(alice: Person, bob: Person) -> None:
    assert "/abonner" in await alice.hears("/dates")
    dates = await bob.hears("/dates")
    assert "pas encore été annoncées" in dates
    assert "/abonner" not in dates
    assert "/abonner" not in await bob.hears("Quand ouvre la prochaine campagne ?")


async def test_a_platform_without_the_command_treats_it_as_unknown(bob: Person) -> None:
    assert await bob.hears("/abonner") == await bob.hears("/nimportequoi")
    assert "/aide" in await bob.hears("/abonner")


async def test_faq_command_and_plain_questions(alice: Person) -> None:
    reply = await alice.says("/faq la candidature est-elle gratuite ?")
    assert reply is not None
    assert reply.answer is not None
    assert reply.answer.entry == "cout-candidature"
    assert "/faq Qui peut candidater" in await alice.hears("/faq")
    assert texts.CONTACT_EMAIL in await alice.hears("/contact")


async def test_picking_a_suggestion_by_number(alice: Person, service: ConversationService) -> None:
    offered = await alice.says("niveau")
    assert offered is not None
    assert len(offered.suggestions) >= 2
    picked = await alice.says("2")
    assert picked is not None
    assert picked.answer is not None
    assert picked.answer.kind is Kind.ANSWER
    assert picked.answer.entry == offered.suggestions[1].entry
    # Once answered, no suggestion is pending: the number gets the range to choose from.
    assert await alice.hears("2") == typography(texts.PICK_A_NUMBER.format(count=3))


async def test_a_number_out_of_range_gets_the_range(alice: Person) -> None:
    offered = await alice.says("niveau")
    assert offered is not None
    count = len(offered.suggestions)
    assert await alice.hears(str(count + 1)) == f"Choisissez un numéro entre 1 et {count}."


async def test_picking_where_the_platform_says_what_was_asked(bob: Person) -> None:
    """A Mastodon-like thread: « 2 » replies to the bot's suggestions; the question above is
    what the platform tells, so it works after a restart (no memory of ours involved)."""
    offered = await bob.says("niveau")
    assert offered is not None
    assert "Répondez par le numéro" in offered.text  # no buttons: the hint says how to pick
    stranger = Person(bob.service, "thread", "3003", "status-9")
    picked = await stranger.says("1", asked_before="niveau")
    assert picked is not None
    assert picked.answer is not None
    assert picked.answer.entry == offered.suggestions[0].entry


async def test_choosing_with_a_button_and_a_forged_one(alice: Person) -> None:
    service = alice.service
    offered = await alice.says("niveau")
    assert offered is not None
    chosen = await service.choose(alice.incoming(""), offered.suggestions[0].entry)
    assert chosen is not None
    assert chosen.answer is not None
    assert chosen.answer.entry == offered.suggestions[0].entry
    forged = await service.choose(alice.incoming(""), "no-such-entry")
    assert forged is not None
    assert forged.text.startswith("Cette suggestion n’est plus")


async def test_unanswered_questions_are_logged_small_talk_is_not(
    alice: Person, store: Store
) -> None:
    await alice.hears("Bonjour")
    await alice.hears("Quel temps fera-t-il à Brest demain ?")
    logged = await store.most_unanswered()
    assert [(s.question, s.count) for s in logged] == [("Quel temps fera-t-il à Brest demain ?", 1)]


async def test_feedback_names_the_question_even_for_a_chosen_suggestion(
    alice: Person, store: Store
) -> None:
    service = alice.service
    offered = await alice.says("niveau")
    assert offered is not None
    chosen = await service.choose(alice.incoming(""), offered.suggestions[0].entry)
    assert chosen is not None
    service.sent(alice.incoming(""), "m-7", chosen)
    thanks = await service.feedback(alice.incoming(""), "m-7", positive=False)
    assert thanks == "Merci pour votre retour\u202f!"
    # One vote per answer, and a vote on a message we never sent counts for nothing.
    assert await service.feedback(alice.incoming(""), "m-7", positive=False) is None
    assert await service.feedback(alice.incoming(""), "m-999", positive=False) is None
    # « niveau » itself was unclear (suggestions count as unanswered), and the 👎 joins it.
    logged = {s.question for s in await store.most_unanswered()}
    chosen_question = next(q for q in logged if q.startswith("["))
    assert logged == {"niveau", chosen_question}
    assert chosen_question.startswith(f"[{offered.suggestions[0].entry}] ")
    votes = [e for e in await store.audit_entries() if e.action == "chat.feedback.down"]
    assert len(votes) == 1
    assert votes[0].actor == "chat:1001"


async def test_subscriptions(alice: Person, store: Store) -> None:
    heard: list[str] = []
    alice.service.add_platform(
        "chat", alice.service.capabilities("chat"), on_subscribed=heard.append
    )
    assert "C’est noté" in await alice.hears("/abonner")
    assert "déjà abonné" in await alice.hears("/abonner")
    assert heard == ["1001"]
    assert await store.subscribers("chat") == ["1001"]
    assert "C’est fait" in await alice.hears("/desabonner")
    assert "n’étiez pas abonné" in await alice.hears("/desabonner")
    actions = [e.action for e in reversed(await store.audit_entries())]
    assert actions == ["chat.subscribe", "chat.unsubscribe"]


async def test_only_group_admins_subscribe_a_group(
    service: ConversationService, store: Store
) -> None:
    member = Person(service, "chat", "5", "-100200", admin=False)
    assert "Seuls les administrateurs" in await member.hears("/abonner")
    admin = Person(service, "chat", "6", "-100200", admin=True)
    assert "C’est noté" in await admin.hears("/abonner")
    assert await store.subscribers("chat") == ["-100200"]


async def test_a_flooder_gets_one_notice_then_silence_others_are_answered(
    alice: Person, bob: Person, clock: ManualClock
) -> None:
    for _ in range(5):
        assert await alice.says("Qui peut candidater ?") is not None
    notice = await alice.says("Qui peut candidater ?")
    assert notice is not None
    assert "pause" in notice.text
    assert await alice.says("Qui peut candidater ?") is None
    assert await alice.service.choose(alice.incoming(""), "cout-candidature") is None
    assert "/faq" in await bob.hears("/aide")  # somebody else: answered as usual
    clock.advance(601)
    assert await alice.says("Qui peut candidater ?") is not None


async def test_role_commands_are_authorised_by_identity_and_refusals_audited(
    service: ConversationService, store: Store
) -> None:
    from bot.conversation.commands import Command
    from bot.conversation.messages import Reply

    async def state(incoming: Incoming, argument: str) -> Reply:
        return Reply("État : tout va bien.")

    service.add_command(Command("etat", "État du bot", state, role="organiser"))
    organiser = Person(service, "chat", ORGANISER.user_id, "42")
    assert await organiser.hears("/etat") == "État : tout va bien."
    assert "/etat" in await organiser.hears("/aide")
    # Same display name, username or conversation do not matter: only the identity does.
    impostor = Person(service, "chat", "43", "42")
    assert await impostor.hears("/etat") == await impostor.hears("/inconnue")
    assert "/etat" not in await impostor.hears("/aide")
    elsewhere = Person(service, "thread", ORGANISER.user_id, "x")  # same id, other platform
    assert "/aide" in await elsewhere.hears("/etat")
    refused = [e for e in reversed(await store.audit_entries()) if e.action == "refused.etat"]
    assert [e.actor for e in refused] == ["chat:43", "thread:42"]


@pytest.mark.parametrize(
    ("text", "identity"),
    [
        ("telegram:123", Identity("telegram", "123")),
        (" Matrix:@a:b.org ", Identity("matrix", "@a:b.org")),
    ],
)
def test_identity_parse(text: str, identity: Identity) -> None:
    assert Identity.parse(text) == identity


@pytest.mark.parametrize("text", ["telegram", "telegram:", ":12"])
def test_identity_parse_refuses_malformed(text: str) -> None:
    with pytest.raises(ValueError, match="platform:user-id"):
        Identity.parse(text)
