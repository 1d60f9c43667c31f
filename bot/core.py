"""The one place that decides what to reply: connectors only translate to and from platforms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot import texts
from bot.clock import Clock
from bot.faq.dates import campaign_dates, results_dates
from bot.faq.engine import Answer, FaqEngine, Suggestion
from bot.french import typography


@dataclass(frozen=True)
class Incoming:
    """A message as every platform can express it."""

    platform: str
    chat_id: str
    user_id: str
    text: str


@dataclass(frozen=True)
class Reply:
    text: str
    suggestions: tuple[Suggestion, ...] = field(default=())
    answer: Answer | None = None


@dataclass(frozen=True)
class Command:
    name: str
    description: str


COMMANDS = (
    Command("aide", "Ce que je sais faire"),
    Command("faq", "Poser une question : /faq votre question"),
    Command("dates", "Les dates de la campagne de candidature"),
    Command("contact", "Écrire à l'équipe du label"),
)
CONTACT = (
    f"Vous pouvez écrire à l'équipe du label à l'adresse {texts.CONTACT_EMAIL}. "
    f"Les questions fréquentes sont sur {texts.SITE_FAQ}"
)


def parse_command(text: str) -> tuple[str, str] | None:
    """`/faq@tnl_bot la question` → ("faq", "la question"); None when it is not a command."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, rest = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].casefold()
    return (name, rest.strip()) if name.isalnum() else None


class Core:
    """Turns an `Incoming` into a `Reply`; pure apart from reading the clock."""

    def __init__(
        self, engine: FaqEngine, clock: Clock, *, subscribe_platforms: frozenset[str] = frozenset()
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.subscribe_platforms = subscribe_platforms
        self._commands: dict[str, Callable[[Incoming, str], Reply]] = {
            "start": lambda m, _: self._text(texts.GREETING),
            "aide": lambda m, _: self._help(),
            "help": lambda m, _: self._help(),
            "faq": self._faq,
            "dates": self._dates,
            "contact": lambda m, _: self._text(CONTACT),
        }

    def handle(self, incoming: Incoming) -> Reply:
        command = parse_command(incoming.text)
        if command is None:
            return self.ask(incoming, incoming.text)
        handler = self._commands.get(command[0])
        if handler is None:
            return self._text(f"Je ne connais pas cette commande. {self._help_line()}")
        return handler(incoming, command[1])

    def ask(self, incoming: Incoming, question: str) -> Reply:
        answer = self.engine.answer(
            question, self.clock.now(), can_subscribe=incoming.platform in self.subscribe_platforms
        )
        return self._from_answer(answer)

    def choose(self, incoming: Incoming, entry_id: str) -> Reply:
        """The user picked one of the suggestions offered earlier."""
        can_subscribe = incoming.platform in self.subscribe_platforms
        return self._from_answer(
            self.engine.answer_entry(entry_id, self.clock.now(), can_subscribe=can_subscribe)
        )

    @staticmethod
    def _from_answer(answer: Answer) -> Reply:
        return Reply(answer.text, answer.suggestions, answer)

    def _faq(self, incoming: Incoming, question: str) -> Reply:
        if not question:
            return self._text(
                "Ajoutez votre question après la commande, par exemple : /faq Qui peut candidater ?"
            )
        return self.ask(incoming, question)

    def _dates(self, incoming: Incoming, _: str) -> Reply:
        now = self.clock.now()
        can_subscribe = incoming.platform in self.subscribe_platforms
        campaign = self.engine.campaign
        text = (
            f"{campaign_dates(campaign, now, can_subscribe=can_subscribe)}\n"
            f"{results_dates(campaign, now)}"
        )
        return self._text(text)

    def _help(self) -> Reply:
        lines = "\n".join(f"/{c.name} — {c.description}" for c in COMMANDS)
        return self._text(f"{texts.HELP}\n\n{lines}")

    def _help_line(self) -> str:
        return "Tapez /aide pour la liste des commandes."

    @staticmethod
    def _text(text: str) -> Reply:
        return Reply(typography(text))
