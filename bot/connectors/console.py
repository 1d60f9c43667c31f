"""The console connector: try the bot in a terminal, with no account and no server."""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Callable

from rich.console import Console
from rich.text import Text

from bot.core import Core, Incoming, Reply

QUIT_COMMANDS = frozenset({"/quitter", "/quit", "/exit", "/q"})
WELCOME = (
    "Bienvenue ! Je suis l'assistant du label Territoire Numérique Libre.\n"
    "Posez votre question, ou tapez /aide, /dates, /quitter."
)
PROMPT = "Vous › "
SPEAKER = "TNL › "


class ConsoleChat:
    """A conversation in the terminal; remembers the last suggestions so "2" picks the second."""

    def __init__(self, core: Core, console: Console, read: Callable[[str], str] = input) -> None:
        self.core = core
        self.console = console
        self.read = read
        self._suggestions: tuple[str, ...] = ()

    def _wrap(self, text: str) -> str:
        """Wrap on ordinary spaces only: textwrap, unlike rich, keeps « 31 mars » and the no-break
        space before « : » together."""
        width = max(20, self.console.width - len(SPEAKER))
        lines = [row for line in text.splitlines() for row in textwrap.wrap(line, width) or [""]]
        return ("\n" + " " * len(SPEAKER)).join(lines)

    def _show(self, reply: Reply) -> None:
        body = Text(SPEAKER, style="bold green")
        body.append(self._wrap(reply.text))  # Text, not markup: no text is ever interpreted.
        self.console.print(body, soft_wrap=True)
        self.console.print()
        self._suggestions = tuple(s.entry for s in reply.suggestions)
        if self._suggestions:
            self.console.print(
                Text("Tapez le numéro d'une suggestion pour l'afficher.", style="dim")
            )

    def respond(self, line: str) -> Reply:
        incoming = Incoming(platform="console", chat_id="console", user_id="console", text=line)
        choice = line.strip()
        if choice.isdigit() and 1 <= int(choice) <= len(self._suggestions):
            return self.core.choose(incoming, self._suggestions[int(choice) - 1])
        return self.core.handle(incoming)

    def run(self) -> int:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
        self.console.print(Text(WELCOME, style="bold"))
        while True:
            try:
                line = self.read(PROMPT)
            except (EOFError, KeyboardInterrupt):
                self.console.print()
                break
            if line.strip().casefold() in QUIT_COMMANDS:
                break
            if not line.strip():
                continue
            self._show(self.respond(line))
        self.console.print(Text("À bientôt !", style="bold"))
        return 0
