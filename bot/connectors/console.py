"""The console connector: try the bot in a terminal, with no account and no server.

It goes through the same `ConversationService` as every platform: what it answers, and the
commands it offers, are those of Telegram or Mastodon, less what a terminal cannot do.
"""

from __future__ import annotations

import asyncio
import contextlib
import textwrap
from collections.abc import Callable

from rich.console import Console
from rich.text import Text

from bot.conversation import Capabilities, ConversationService, Identity, Incoming, Reply

PLATFORM = "console"
CAPABILITIES = Capabilities(pick_hint="Tapez le numéro d'une suggestion pour l'afficher.")
QUIT_COMMANDS = frozenset({"/quitter", "/quit", "/exit", "/q"})
WELCOME = (
    "Bienvenue ! Je suis l'assistant du label Territoire Numérique Libre.\n"
    "Posez votre question, ou tapez /aide, /dates, /quitter."
)
PROMPT = "Vous › "
SPEAKER = "TNL › "


class ConsoleChat:
    """A conversation in the terminal, as the local user `console:<name>`."""

    def __init__(
        self,
        service: ConversationService,
        console: Console,
        read: Callable[[str], str] = input,
        *,
        user: str = "console",
    ) -> None:
        self.service = service
        self.console = console
        self.read = read
        self.sender = Identity(PLATFORM, user)
        service.add_platform(PLATFORM, CAPABILITIES)

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

    async def respond(self, line: str) -> Reply | None:
        return await self.service.handle(Incoming(PLATFORM, PLATFORM, self.sender, line))

    async def run(self) -> int:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
        self.console.print(Text(WELCOME, style="bold"))
        while True:
            try:
                line = await asyncio.to_thread(self.read, PROMPT)
            except (EOFError, KeyboardInterrupt):
                self.console.print()
                break
            if line.strip().casefold() in QUIT_COMMANDS:
                break
            if not line.strip():
                continue
            reply = await self.respond(line)
            if reply is not None:
                self._show(reply)
        self.console.print(Text("À bientôt !", style="bold"))
        return 0
