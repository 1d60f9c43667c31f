"""The organisers' commands, on every platform through the conversation service.

`/diffuser` and `/programmer` answer with a preview and a number, and nothing else happens until
the same organiser sends `/confirmer` (or presses « Confirmer ») within `TNL_CONFIRM_MINUTES`;
the preview is computed again then, and the send goes ahead only if it is byte for byte the
one shown (its hash is stored with the draft). Every step is in the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.broadcasts.plan import Plan, from_json, same_post, to_json
from bot.broadcasts.preview import body, fingerprint, framed, preview_hash
from bot.broadcasts.status import UPCOMING, state_report
from bot.broadcasts.withdraw import Withdrawals
from bot.clock import Clock, parse_moment
from bot.conversation import ConversationService, Incoming, Reply
from bot.conversation.commands import Command
from bot.conversation.connector import Connector
from bot.conversation.identity import ORGANISER
from bot.french import long_datetime, typography
from bot.outbox.post import Post
from bot.outbox.queue import Outbox
from bot.paris import PARIS
from bot.store.broadcasts import Broadcast, BroadcastRecords, BroadcastState
from bot.waiting import Sleep

log = logging.getLogger(__name__)

Reload = Callable[[], Awaitable[list[str]]]  # problems found (none: reloaded)
# First words that choose targets: a platform (or `mastodon:<compte>`), or a narrower audience.
PLATFORM_WORDS = ("telegram", "mastodon")
AUDIENCE_WORDS = ("abonnes",)
Upcoming = Callable[[int], Sequence[tuple[dt.datetime, str]]]  # the next n: (due, what)
NO_PLATFORM = (
    "Aucune plateforme n’est configurée (TNL_TELEGRAM_TOKEN, TNL_MASTODON_URL…) : "
    "il n’y a nulle part où diffuser."
)


class OrganiserCommands:
    def __init__(
        self,
        service: ConversationService,
        outbox: Outbox,
        clock: Clock,
        connectors: Sequence[Connector],
        *,
        confirm_minutes: float = 10.0,
        wake: Callable[[], None] = lambda: None,
        reload: Reload | None = None,
        upcoming: Upcoming | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """`connectors`: where a broadcast can go (each by its announcement target, named like
        it). `wake`: tells the outbox worker there is something new. `reload`: re-reads the
        data files (`/recharger`). `upcoming`: the scheduler's next announcements, (due,
        what), for `/etat` (none: no calendar is loaded)."""
        self.service = service
        self.outbox = outbox
        self.records = BroadcastRecords(outbox.store)
        self.clock = clock
        self.connectors = {connector.name: connector for connector in connectors}
        self.confirm = dt.timedelta(minutes=confirm_minutes)
        self.wake = wake
        self.reload = reload
        self.upcoming = upcoming
        self.sleep = sleep
        self._timers: set[asyncio.Task[None]] = set()
        # Told of each confirmed palmarès (edition, laureates YAML, broadcast number).
        self.on_palmares: Callable[[int, str, int], Awaitable[None]] = _nothing
        self.withdrawals = Withdrawals(outbox, self.records, self.connectors)
        for name, description, run in (
            ("diffuser", "Diffuser un message : /diffuser [cible] texte", self._broadcast),
            ("programmer", "Programmer : /programmer AAAA-MM-JJ HH:MM texte", self._schedule),
            ("apercu", "Revoir l’aperçu en attente", self._show),
            ("confirmer", "Confirmer la diffusion en attente", self._confirm),
            ("annuler", "Annuler la diffusion en attente", self._cancel),
            ("retirer", "Retirer une diffusion : /retirer n°", self._withdraw),
            ("etat", "État des envois et des dernières diffusions", self._state),
            ("non_repondues", "Questions restées sans réponse", self._unanswered),
            ("recharger", "Relire corpus, calendrier et modèles", self._reload),
        ):
            service.add_command(Command(name, description, run, role=ORGANISER, private_only=True))

    # Drafts --------------------------------------------------------------------------------

    async def _broadcast(self, incoming: Incoming, argument: str) -> Reply:
        if not self.connectors:
            return _say(NO_PLATFORM)
        targets, text = self._targets(argument)
        if not text:
            return _say("Ajoutez le texte à diffuser : /diffuser [cible] texte")
        if not targets:
            return _say(f"Cible inconnue. Cibles possibles : {', '.join(self.audiences())}.")
        return await self.draft(incoming, "broadcast", same_post(Post(text), targets), None)

    async def _schedule(self, incoming: Incoming, argument: str) -> Reply:
        day, _, rest = argument.partition(" ")
        time, _, rest = rest.strip().partition(" ")
        try:
            due = parse_moment(f"{day}T{time}")
        except ValueError:
            return _say("Indiquez la date et l’heure ainsi : /programmer 2027-03-01 09:00 texte")
        if due <= self.clock.now():
            return _say("Cette date est passée : choisissez un moment à venir.")
        targets, text = self._targets(rest.strip())
        if not text or not targets:
            return _say("Ajoutez le texte à diffuser après la date et l’heure.")
        return await self.draft(incoming, "broadcast", same_post(Post(text), targets), due)

    def _targets(self, argument: str) -> tuple[tuple[str, ...], str]:
        """A first word naming a platform, an account or an audience (`abonnes`) restricts
        the targets; without one, a broadcast goes to every connector's main audience."""
        first, _, rest = argument.strip().partition(" ")
        word = first.casefold().replace("abonnés", "abonnes")
        if word.partition(":")[0] not in PLATFORM_WORDS and word not in AUDIENCE_WORDS:
            return tuple(self.connectors), argument.strip()
        return tuple(name for name in self.audiences() if self._chosen(word, name)), rest.strip()

    def _chosen(self, word: str, audience: str) -> bool:
        """`telegram`, `mastodon` or the full name choose a connector's main audience (named
        like it); the last word or the full name, a narrower one (`abonnes`)."""
        if audience in self.connectors:
            return word in (audience, audience.partition(":")[0])
        return word in (audience, audience.rpartition(":")[2])

    def audiences(self) -> dict[str, Connector]:
        """Every announcement target organisers may choose, with its connector: each
        connector's main audience first, then its narrower ones."""
        return {
            audience: connector
            for connector in self.connectors.values()
            for audience in connector.audiences()
        }

    async def draft(
        self,
        incoming: Incoming,
        kind: str,
        plan: Plan,
        due: dt.datetime | None,
    ) -> Reply:
        """Store a draft with the hash of its preview, and answer with the preview."""
        content, fingerprint = await self._review(plan)
        now = self.clock.now()
        targets = tuple(dict.fromkeys(d.target for d in plan.deliveries))
        draft = await self.records.draft(
            kind=kind,
            organiser=str(incoming.sender),
            conversation=f"{incoming.platform}|{incoming.conversation}",
            post=to_json(plan),
            targets=targets,
            due_at=due,
            preview_hash=fingerprint,
            now=now,
            expires_at=now + self.confirm,
        )
        await self.audit(
            incoming,
            f"{kind}.preview",
            f"n° {draft.number} to {','.join(targets)}; hash {draft.preview_hash[:16]}",
        )
        self._expire_later(draft)
        return self._preview_reply(draft, plan, content)

    async def _review(self, plan: Plan) -> tuple[str, str]:
        """What the organiser is shown, and its fingerprint: what a confirmation must find
        unchanged. A send shows each target's texts as they will appear; a withdrawal, what
        will be cancelled and deleted."""
        if plan.withdraws is not None:
            summary = await self.withdrawals.summary(plan.withdraws)
            return summary, fingerprint(summary)
        audiences = self.audiences()
        previews = [await audiences[d.target].preview(d.post, d.target) for d in plan.deliveries]
        return body(previews), preview_hash(previews)

    def _preview_reply(self, draft: Broadcast, plan: Plan, content: str) -> Reply:
        minutes = self.confirm.total_seconds() / 60
        if plan.withdraws is not None:
            title = f"Retrait de la diffusion n° {plan.withdraws} (n° {draft.number}) :"
        elif draft.due_at is not None:
            when = long_datetime(draft.due_at.astimezone(PARIS))
            title = f"Aperçu de la diffusion n° {draft.number}, envoi le {when} (heure de Paris) :"
        else:
            title = f"Aperçu de la diffusion n° {draft.number}, envoi dès confirmation :"
        return Reply(
            framed(title, content, minutes),
            actions=(("Confirmer", f"/confirmer {draft.number}"), ("Annuler", "/annuler")),
        )

    async def _show(self, incoming: Incoming, _: str) -> Reply:
        draft = await self._pending(incoming)
        if draft is None:
            return _say("Aucune diffusion en attente de confirmation.")
        plan = from_json(draft.post)
        content, _ = await self._review(plan)
        return self._preview_reply(draft, plan, content)

    async def _pending(self, incoming: Incoming) -> Broadcast | None:
        """The sender's own draft, still in time (a lapsed one is marked expired here)."""
        draft = await self.records.pending(str(incoming.sender))
        if draft is not None and self.clock.now() >= draft.expires_at:
            await self._expire(draft)
            return None
        return draft

    # Decisions -----------------------------------------------------------------------------

    async def _confirm(self, incoming: Incoming, argument: str) -> Reply:
        found = await self._confirmable(incoming, argument)
        if isinstance(found, Reply):
            return found
        draft, plan = found
        now = self.clock.now()
        if not await self.records.decide(
            draft.number, BroadcastState.CONFIRMED, now, was=BroadcastState.DRAFT
        ):
            return _say(f"La diffusion n° {draft.number} a déjà été traitée.")
        if plan.withdraws is not None:
            report = await self.withdrawals.carry_out(plan.withdraws, now)
            await self.audit(incoming, "withdraw.confirm", f"n° {plan.withdraws}: {report}")
            title = typography(f"Retrait de la diffusion n° {plan.withdraws} :")
            return Reply(f"{title}\n{report}")
        for delivery in plan.deliveries:
            key = delivery.keyed(draft.number)
            await self.outbox.enqueue(
                delivery.post, [delivery.target], key, now, due_at=draft.due_at
            )
        self.wake()
        if plan.palmares is not None:
            await self.on_palmares(*plan.palmares, draft.number)
        await self.audit(
            incoming, f"{draft.kind}.confirm", f"n° {draft.number}; hash {draft.preview_hash[:16]}"
        )
        when = "programmée" if draft.due_at is not None else "en cours d’envoi"
        return _say(f"Diffusion n° {draft.number} confirmée, {when}. Suivi : /etat")

    async def _confirmable(
        self, incoming: Incoming, argument: str
    ) -> tuple[Broadcast, Plan] | Reply:
        """The sender's own draft, in time, whose preview is still what it was shown; or
        the reply saying why not."""
        organiser = str(incoming.sender)
        draft = await self.records.pending(organiser)
        if argument.strip().isdecimal():  # a button names its draft: never confirm another
            named = await self.records.get(int(argument))
            if named is None or named.organiser != organiser:
                await self.audit(incoming, "broadcast.confirm.refused", f"n° {argument}")
                return _say("Cette diffusion n’est pas la vôtre, ou n’existe pas.")
            draft = named if named.state is BroadcastState.DRAFT else None
        if draft is None:
            return _say("Aucune diffusion en attente de confirmation.")
        if self.clock.now() >= draft.expires_at:
            await self._expire(draft)
            return _say(f"L’aperçu n° {draft.number} a expiré : rien n’a été envoyé.")
        plan = from_json(draft.post)
        if (await self._review(plan))[1] != draft.preview_hash:
            await self.audit(incoming, "broadcast.confirm.changed", f"n° {draft.number}")
            return _say("Le rendu a changé depuis l’aperçu : demandez /apercu et confirmez.")
        return draft, plan

    async def _withdraw(self, incoming: Incoming, argument: str) -> Reply:
        number = argument.strip().lstrip("n°").strip()
        if not number.isdecimal():
            return _say("Indiquez le numéro de la diffusion à retirer : /retirer 12")
        refusal = await self.withdrawals.refusal(int(number))
        if refusal is not None:
            return _say(refusal)
        return await self.draft(incoming, "withdraw", Plan((), withdraws=int(number)), None)

    async def _cancel(self, incoming: Incoming, _: str) -> Reply:
        draft = await self._pending(incoming)
        if draft is None or not await self.records.decide(
            draft.number, BroadcastState.CANCELLED, self.clock.now(), was=BroadcastState.DRAFT
        ):
            return _say("Aucune diffusion en attente de confirmation.")
        await self.audit(incoming, "broadcast.cancel", f"n° {draft.number}")
        return _say(f"Diffusion n° {draft.number} annulée : rien n’a été envoyé.")

    def _expire_later(self, draft: Broadcast) -> None:
        """Tell the organiser when the draft lapses (if it is still a draft then)."""

        async def later() -> None:
            await self.sleep(self.confirm.total_seconds())
            current = await self.records.get(draft.number)
            if current is not None and current.state is BroadcastState.DRAFT:
                await self._expire(current)

        task = asyncio.ensure_future(later())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    async def _expire(self, draft: Broadcast) -> None:
        if not await self.records.decide(
            draft.number, BroadcastState.EXPIRED, self.clock.now(), was=BroadcastState.DRAFT
        ):
            return
        await self.outbox.store.audit(
            draft.organiser, "broadcast.expired", self.clock.now(), f"n° {draft.number}"
        )
        platform, _, conversation = draft.conversation.partition("|")
        notice = _say(
            f"L’aperçu n° {draft.number} a expiré sans confirmation : rien n’a été envoyé."
        )
        for connector in self.connectors.values():
            if connector.name.partition(":")[0] == platform:
                with contextlib.suppress(Exception):  # a notice; the audit log has the fact
                    await connector.send(conversation, notice)
                return

    async def expired(self) -> None:
        """Until the expiry timers running now have done their work."""
        await asyncio.gather(*self._timers, return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._timers):
            task.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)

    # Information ---------------------------------------------------------------------------

    async def _state(self, incoming: Incoming, _: str) -> Reply:
        platforms = (name.partition(":")[0] for name in self.connectors)
        upcoming = self.upcoming(UPCOMING) if self.upcoming is not None else ()
        audiences = list(self.audiences())
        report = await state_report(self.outbox, self.records, platforms, audiences, upcoming)
        return _say(report)

    async def _unanswered(self, incoming: Incoming, _: str) -> Reply:
        found = await self.outbox.store.most_unanswered(10)
        if not found:
            return _say("Aucune question sans réponse enregistrée.")
        rows = [f"{s.count} × {s.question}" for s in found]
        return Reply(typography("Questions sans réponse :") + "\n" + "\n".join(rows))

    async def _reload(self, incoming: Incoming, _: str) -> Reply:
        if self.reload is None:
            return _say("Le rechargement n’est possible que dans le bot en service.")
        problems = await self.reload()
        await self.audit(incoming, "reload", f"{len(problems)} problem(s)")
        if problems:
            shown = "\n".join(problems[:10])
            return Reply(typography("Rien n’a été rechargé :") + "\n" + shown)
        return _say("Corpus, calendrier et modèles relus.")

    async def audit(self, incoming: Incoming, action: str, detail: str) -> None:
        await self.outbox.store.audit(str(incoming.sender), action, self.clock.now(), detail)


async def _nothing(edition: int, laureates: str, number: int) -> None:
    return None


def _say(text: str) -> Reply:
    return Reply(typography(text))
