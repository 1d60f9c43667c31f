"""The console connector: try the bot in a terminal, with no account and no server.

It goes through the same `ConversationService` as every platform: what it answers, and the
commands it offers, are those of Telegram or Mastodon, less what a terminal cannot do.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
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


# A URL or an e-mail address: copied from the terminal, a line break at a hyphen would change it.
_ADDRESS = re.compile(r"://|^www\.|\w@\w")


class _Wrapper(textwrap.TextWrapper):
    """textwrap's wrapper, breaking at hyphens in words but never inside an address."""

    def _split(self, text: str) -> list[str]:
        chunks: list[str] = []
        for chunk in self.wordsep_simple_re.split(text):
            if chunk and not _ADDRESS.search(chunk):
                chunks += [c for c in super()._split(chunk) if c]
            elif chunk:
                chunks.append(chunk)
        return chunks


def wrap(text: str, width: int) -> list[str]:
    """The lines of a reply. On ordinary spaces only: textwrap, unlike rich, keeps « 31 mars »
    and the no-break space before « : » together; an address longer than a line is left whole
    (the terminal folds it) rather than cut, and never broken at a hyphen."""
    wrapper = _Wrapper(width, break_long_words=False)
    return [row for line in text.splitlines() for row in wrapper.wrap(line) or [""]]


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
        width = max(20, self.console.width - len(SPEAKER))
        return ("\n" + " " * len(SPEAKER)).join(wrap(text, width))

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
