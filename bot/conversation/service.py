"""`ConversationService`: from an `Incoming` message to the `Reply` to send, for every platform.

It owns, once: the flood guard, greeting, help and commands, FAQ answers, suggestions and
picking one (by number or button), the unanswered-question log, feedback, subscriptions where
the platform delivers announcements, and the authorisation of commands by identity and role
(refusals audited). Connectors only translate; the console chat goes through it too.

The store is written to on the side: when it cannot be written, questions are still answered
(the log line is lost, the answer is not); a subscription says it could not be recorded.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from bot import texts
from bot.clock import Clock
from bot.conversation.commands import Command, parse_command
from bot.conversation.flood import FloodGuard, Verdict
from bot.conversation.identity import Identity, Roles
from bot.conversation.messages import Capabilities, Incoming, Reply
from bot.faq.dates import campaign_dates, results_dates
from bot.faq.engine import MAX_SUGGESTIONS, Answer, FaqEngine, Suggestion
from bot.french import typography
from bot.laureates.answers import answer as laureate_answer
from bot.laureates.model import Laureate
from bot.store.store import Store

log = logging.getLogger(__name__)

MEMORY = 10_000  # conversations whose last suggestions, and replies awaiting feedback, are kept
Subscribed = Callable[[str], None]  # told the conversation id of each new subscription
AttachmentHandler = Callable[[Incoming], Awaitable[Reply | None]]
# Told of each question answered: (platform, answer kind — `Kind.value` —, seconds it took).
# The runtime counts them for /metrics; the service knows nothing of how they are exported.
AnswerObserver = Callable[[str, str, float], None]


def _subscribable(capabilities: Capabilities) -> bool:
    return capabilities.subscriptions


class ConversationService:
    def __init__(
        self,
        engine: FaqEngine,
        store: Store,
        clock: Clock,
        *,
        flood: FloodGuard,
        roles: Roles | None = None,
        observer: AnswerObserver | None = None,
    ) -> None:
        self.engine = engine  # swapped whole on reload
        # The published palmarès by edition: « X a-t-elle été labellisée ? » is answered here.
        self.palmares: dict[int, tuple[Laureate, ...]] = {}
        self.observer = observer
        self.store = store
        self.clock = clock
        self.flood = flood
        self.roles = roles or Roles()
        self._platforms: dict[str, Capabilities] = {}
        self._subscribed: dict[str, Subscribed] = {}
        self._offered: collections.OrderedDict[tuple[str, str], tuple[Suggestion, ...]] = (
            collections.OrderedDict()
        )
        self._awaiting_feedback: collections.OrderedDict[
            tuple[str, str, str], tuple[Identity, Reply]
        ] = collections.OrderedDict()
        self._commands: dict[str, Command] = {}
        self._attachment_handlers: list[AttachmentHandler] = []
        for command in (
            Command("start", "Présentation du bot", self._greet, listed=False),
            Command("aide", "Ce que je sais faire", self._help),
            Command("help", "Ce que je sais faire", self._help, listed=False),
            Command("faq", "Poser une question : /faq votre question", self._faq),
            Command("dates", "Les dates de la campagne de candidature", self._dates),
            Command("contact", "Écrire à l'équipe du label", self._contact),
            Command(
                "abonner",
                "Recevoir ici les annonces du label (ouverture, rappels, résultats)",
                self._subscribe,
                available=_subscribable,
            ),
            Command(
                "desabonner",
                "Ne plus recevoir les annonces",
                self._unsubscribe,
                available=_subscribable,
            ),
        ):
            self.add_command(command)

    # Set-up --------------------------------------------------------------------------------

    def add_platform(
        self, name: str, capabilities: Capabilities, *, on_subscribed: Subscribed | None = None
    ) -> None:
        """A platform's connector says what it offers (and who wants to hear of subscribers)."""
        self._platforms[name] = capabilities
        if on_subscribed is not None:
            self._subscribed[name] = on_subscribed

    def add_attachment_handler(self, handler: AttachmentHandler) -> None:
        """Who takes a file sent without a command (None: not theirs, ask the next)."""
        self._attachment_handlers.append(handler)

    def add_command(self, command: Command) -> None:
        self._commands[command.name] = command

    def capabilities(self, platform: str) -> Capabilities:
        return self._platforms.get(platform, Capabilities())

    def commands(self, platform: str, sender: Identity | None = None) -> list[Command]:
        """The listed commands `sender` may run on `platform` (everyone's when sender is None)."""
        capabilities = self.capabilities(platform)
        return [
            command
            for command in self._commands.values()
            if command.listed
            and command.available(capabilities)
            and (
                command.role is None
                or (sender is not None and self.roles.has(sender, command.role))
            )
        ]

    # Messages ------------------------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> Reply | None:
        """The reply to one message; None when the sender is being ignored (flooding)."""
        verdict = self._admitted(incoming.sender)
        if verdict is not Verdict.ANSWER:
            return self._turned_away(verdict)
        command = parse_command(incoming.text)
        if command is not None:
            return await self._command(incoming, *command)
        if incoming.attachment is not None:
            return await self._file(incoming)
        return await self._picked(incoming) or await self.ask(incoming, incoming.text)

    async def _command(self, incoming: Incoming, name: str, argument: str) -> Reply:
        """A command runs only where the platform has it, for whom its role admits, and (for
        organisers) in private; every refusal reads like an unknown command."""
        found = self._commands.get(name)
        capabilities = self.capabilities(incoming.platform)
        if found is None or not found.available(capabilities):
            return self._text(texts.UNKNOWN_COMMAND)
        if found.role is not None and not await self.authorise(incoming, found.role, name):
            return self._text(texts.UNKNOWN_COMMAND)  # neutral: nothing to learn by probing
        if found.private_only and not incoming.private:  # organisers act in private only
            return self._text(texts.UNKNOWN_COMMAND)
        return await found.run(incoming, argument)

    async def choose(self, incoming: Incoming, entry_id: str) -> Reply | None:
        """A suggestion picked with a button; None when the sender is being ignored."""
        verdict = self._admitted(incoming.sender)
        if verdict is not Verdict.ANSWER:
            return self._turned_away(verdict)
        return self._answered_entry(incoming, entry_id)

    async def _file(self, incoming: Incoming) -> Reply:
        """A file with no command: the first handler that expects it takes it."""
        for handler in self._attachment_handlers:
            reply = await handler(incoming)
            if reply is not None:
                return reply
        return self._text(texts.UNEXPECTED_FILE)

    async def ask(self, incoming: Incoming, question: str) -> Reply:
        about_laureates = laureate_answer(question, self.palmares)
        if about_laureates is not None:
            return Reply(about_laureates, question=question)
        started = time.perf_counter()  # a duration of work, not a moment: not the clock's
        answer = self.engine.answer(
            question, self.clock.now(), can_subscribe=self._can_subscribe(incoming)
        )
        reply = self._from_answer(incoming, answer, question)
        if answer.unanswered:  # the corpus has a gap here
            await self._record_unanswered(question, answer.score, incoming.platform)
        if self.observer is not None:
            self.observer(incoming.platform, answer.kind.value, time.perf_counter() - started)
        return reply

    # Feedback ------------------------------------------------------------------------------

    def sent(self, incoming: Incoming, message_id: str, reply: Reply) -> None:
        """The connector posted `reply` as `message_id`: feedback on it will name its question,
        and only the person it answered may give it (in a group, everyone sees the buttons)."""
        if not reply.wants_feedback:
            return
        key = (incoming.platform, incoming.conversation, message_id)
        self._awaiting_feedback[key] = (incoming.sender, reply)
        while len(self._awaiting_feedback) > MEMORY:
            self._awaiting_feedback.popitem(last=False)

    async def feedback(self, incoming: Incoming, message_id: str, positive: bool) -> str | None:
        """👍/👎 on a reply of ours, from the person it answered. One vote per reply; a vote on
        a message we do not know as an answer (forged, or from before a restart), or from
        someone else in the group, is ignored: None (the asker may still vote)."""
        if self._admitted(incoming.sender) is not Verdict.ANSWER:
            return None
        key = (incoming.platform, incoming.conversation, message_id)
        awaiting = self._awaiting_feedback.get(key)
        if awaiting is None or awaiting[0] != incoming.sender:
            return None
        del self._awaiting_feedback[key]
        reply = awaiting[1]
        entry = reply.answer.entry if reply.answer is not None else None
        question = reply.question or ""
        now = self.clock.now()
        detail = (
            f"entry={entry or '-'} conversation={incoming.conversation} question={question[:200]}"
        )
        action = f"{incoming.platform}.feedback.{'up' if positive else 'down'}"
        await self._quietly(self.store.audit(str(incoming.sender), action, now, detail), action)
        if not positive:  # a 👎 joins the unanswered questions: the corpus failed this one
            score = reply.answer.score if reply.answer is not None else 0.0
            await self._record_unanswered(question, score, incoming.platform)
        return typography(texts.FEEDBACK_THANKS)

    # Authorisation -------------------------------------------------------------------------

    async def authorise(self, incoming: Incoming, role: str, action: str) -> bool:
        """Whether the sender holds `role`; a refusal is written to the audit log."""
        if self.roles.has(incoming.sender, role):
            return True
        log.warning("refused %s to %s (not %s)", action, incoming.sender, role)
        detail = f"role {role} required; conversation {incoming.conversation}"
        await self._quietly(
            self.store.audit(str(incoming.sender), f"refused.{action}", self.clock.now(), detail),
            "audit",
        )
        return False

    # Commands ------------------------------------------------------------------------------

    async def _greet(self, incoming: Incoming, _: str) -> Reply:
        return self._text(texts.GREETING)

    async def _help(self, incoming: Incoming, _: str) -> Reply:
        public = [c for c in self.commands(incoming.platform) if c.role is None]
        mine = [c for c in self.commands(incoming.platform, incoming.sender) if c.role is not None]
        text = f"{texts.HELP}\n\n{texts.COMMANDS_TITLE}\n{_lines(public)}"
        if mine:
            text += f"\n\n{texts.ORGANISER_COMMANDS_TITLE}\n{_lines(mine)}"
        return self._text(text)

    async def _faq(self, incoming: Incoming, question: str) -> Reply:
        if not question:
            return self._text(texts.FAQ_USAGE)
        return await self.ask(incoming, question)

    async def _dates(self, incoming: Incoming, _: str) -> Reply:
        now = self.clock.now()
        campaign = self.engine.campaign
        dates = campaign_dates(campaign, now, can_subscribe=self._can_subscribe(incoming))
        return self._text(f"{dates}\n{results_dates(campaign, now)}")

    async def _contact(self, incoming: Incoming, _: str) -> Reply:
        return self._text(texts.CONTACT)

    async def _subscribe(self, incoming: Incoming, _: str) -> Reply:
        refused = await self._may_manage(incoming)
        if refused is not None:
            return refused
        now = self.clock.now()
        try:
            added = await self.store.subscribe(incoming.platform, incoming.conversation, now)
            if added:
                await self.store.audit(
                    str(incoming.sender),
                    f"{incoming.platform}.subscribe",
                    now,
                    f"chat {incoming.conversation}",
                )
        except Exception as error:  # the store is sick: say so, keep answering others
            log.error("subscription of %s not recorded: %s", incoming.conversation, error)
            return self._text(texts.STORE_UNAVAILABLE)
        if not added:
            return self._text(texts.ALREADY_SUBSCRIBED)
        listener = self._subscribed.get(incoming.platform)
        if listener is not None:
            listener(incoming.conversation)
        return self._text(texts.SUBSCRIBED)

    async def _unsubscribe(self, incoming: Incoming, _: str) -> Reply:
        refused = await self._may_manage(incoming)
        if refused is not None:
            return refused
        try:
            removed = await self.store.unsubscribe(incoming.platform, incoming.conversation)
            if removed:
                await self.store.audit(
                    str(incoming.sender),
                    f"{incoming.platform}.unsubscribe",
                    self.clock.now(),
                    f"chat {incoming.conversation}: by command",
                )
        except Exception as error:
            log.error("unsubscription of %s not recorded: %s", incoming.conversation, error)
            return self._text(texts.STORE_UNAVAILABLE)
        return self._text(texts.UNSUBSCRIBED if removed else texts.NOT_SUBSCRIBED)

    async def _may_manage(self, incoming: Incoming) -> Reply | None:
        """In a group, only its administrators subscribe or unsubscribe it."""
        if incoming.is_admin is not None and not await incoming.is_admin():
            return self._text(texts.ADMINS_ONLY)
        return None

    # Answers -------------------------------------------------------------------------------

    async def _picked(self, incoming: Incoming) -> Reply | None:
        """« 2 » after suggestions: the second one's answer. The suggestions are those offered
        last in this conversation, or those the question replied to still gets."""
        number = incoming.text.strip().rstrip(".")
        if not (number.isdecimal() and len(number) <= 2):
            return None
        if incoming.asked_before is not None:
            earlier = self.engine.answer(incoming.asked_before, self.clock.now())
            offered = earlier.suggestions
        else:
            offered = self._offered.get((incoming.platform, incoming.conversation), ())
        if not 1 <= int(number) <= len(offered):
            # A bare number is no question: say what it can mean rather than search the corpus.
            return self._text(texts.PICK_A_NUMBER.format(count=len(offered) or MAX_SUGGESTIONS))
        return self._answered_entry(incoming, offered[int(number) - 1].entry)

    def _answered_entry(self, incoming: Incoming, entry_id: str) -> Reply:
        try:
            answer = self.engine.answer_entry(
                entry_id, self.clock.now(), can_subscribe=self._can_subscribe(incoming)
            )
        except LookupError:  # a forged button, or an entry removed by a reload since
            return self._text(texts.SUGGESTION_GONE)
        chosen = self.engine.corpus.entry(entry_id).question
        return self._from_answer(incoming, answer, f"[{entry_id}] {chosen}")

    def _from_answer(self, incoming: Incoming, answer: Answer, question: str) -> Reply:
        text = answer.text
        key = (incoming.platform, incoming.conversation)
        if answer.suggestions:
            self._offered[key] = answer.suggestions
            self._offered.move_to_end(key)
            while len(self._offered) > MEMORY:
                self._offered.popitem(last=False)
            hint = self.capabilities(incoming.platform).pick_hint
            if hint is not None:
                text = f"{text}\n\n{typography(hint)}"
        else:
            self._offered.pop(key, None)
        return Reply(text, answer.suggestions, answer, question)

    def _can_subscribe(self, incoming: Incoming) -> bool:
        return self.capabilities(incoming.platform).subscriptions

    def _admitted(self, sender: Identity) -> Verdict:
        """The flood guard's verdict on one more message from `sender`."""
        verdict = self.flood.check(str(sender))
        if verdict is Verdict.NOTICE:
            log.info("%s flooding; ignored for %.0f s", sender, self.flood.pause.total_seconds())
        return verdict

    def _turned_away(self, verdict: Verdict) -> Reply | None:
        """The one notice when a flood starts; nothing while it lasts."""
        return Reply(self.flood.notice) if verdict is Verdict.NOTICE else None

    async def _record_unanswered(self, question: str, score: float, platform: str) -> None:
        await self._quietly(
            self.store.log_unanswered(question, score, self.clock.now(), platform), "unanswered"
        )

    @staticmethod
    async def _quietly(write: Awaitable[object], what: str) -> None:
        """A side record the conversation does not depend on: a failure is logged, not raised."""
        try:
            await write
        except Exception as error:
            log.warning("%s not recorded: %s: %s", what, type(error).__name__, error)

    @staticmethod
    def _text(text: str) -> Reply:
        return Reply(typography(text))


def _lines(commands: Iterable[Command]) -> str:
    return "\n".join(f"/{c.name} — {c.description}" for c in commands)
