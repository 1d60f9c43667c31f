"""`/laureats <édition>`: an organiser's laureates file becomes a previewed, confirmable
publication — on Mastodon a summary and one status per laureate (a thread by default), on
Telegram a digest grouped by distinction for the channel and the subscribers.

The file comes with the command (a document whose caption is the command) or right after it.
Keys derive from the edition and the list's content: the same list confirmed twice, even
re-exported in another encoding, publishes nothing new.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bot.broadcasts.organisers import OrganiserCommands
from bot.broadcasts.plan import Delivery, Plan
from bot.conversation import Attachment, ConversationService, Incoming, Reply
from bot.conversation.commands import Command
from bot.conversation.identity import ORGANISER
from bot.datafile import DataFileError
from bot.french import typography
from bot.laureates import record
from bot.laureates.check import chat_lines
from bot.laureates.render import Budget, Publication, load_laureate_templates, publications
from bot.laureates.validate import load_laureates
from bot.outbox.post import Post
from bot.store.broadcasts import PalmaresRecords
from bot.textsplit import mastodon_length, utf16_length

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".yaml", ".yml")
# Counted as the targets count them (a URL as 23 characters on Mastodon, a mention by its local
# part); the instance's own limit is checked again when the preview is computed by the target.
MASTODON = Budget(500, mastodon_length)
TELEGRAM = Budget(4096, utf16_length)


class LaureateCommands:
    def __init__(
        self,
        service: ConversationService,
        organisers: OrganiserCommands,
        *,
        templates: Path | None = None,
    ) -> None:
        self.service = service
        self.organisers = organisers
        self.templates = templates
        self.records = PalmaresRecords(organisers.outbox.store)
        organisers.on_palmares = self._published
        self._awaiting: dict[str, int] = {}  # organiser → edition whose file is expected
        service.add_command(
            Command(
                "laureats",
                "Publier le palmarès : /laureats 2025, avec le fichier CSV ou YAML",
                self._command,
                role=ORGANISER,
                private_only=True,
            )
        )
        service.add_attachment_handler(self._file)

    async def _command(self, incoming: Incoming, argument: str) -> Reply:
        edition = argument.strip()
        if not (edition.isdecimal() and len(edition) == 4):
            return _say("Indiquez l’édition : /laureats 2025 (avec le fichier, ou juste après).")
        if incoming.attachment is None:
            self._awaiting[str(incoming.sender)] = int(edition)
            return _say(f"Envoyez maintenant le fichier des lauréats {edition} (CSV ou YAML).")
        return await self.publish(incoming, int(edition), incoming.attachment)

    async def _file(self, incoming: Incoming) -> Reply | None:
        """A file with no command: the one expected after `/laureats`, else not ours."""
        edition = self._awaiting.pop(str(incoming.sender), None)
        if edition is None or incoming.attachment is None:
            return None
        return await self.publish(incoming, edition, incoming.attachment)

    async def publish(self, incoming: Incoming, edition: int, file: Attachment) -> Reply:
        suffix = Path(file.name).suffix.casefold()
        if suffix not in SUFFIXES:
            return _say("Envoyez un fichier .csv ou .yaml (exporté du tableur).")
        with tempfile.TemporaryDirectory(prefix="tnl-laureates-") as folder:
            path = Path(folder) / f"laureats{suffix}"
            path.write_bytes(file.content)
            try:
                palmares = load_laureates(path, edition)
                posts = publications(
                    palmares,
                    load_laureate_templates(self.templates),
                    mastodon=MASTODON,
                    telegram=TELEGRAM,
                )
            except DataFileError as error:
                await self.organisers.audit(
                    incoming, "laureates.refused", f"{file.name}: {len(error.problems)} problem(s)"
                )
                lines = "\n".join(chat_lines(list(error.problems)[:20]))
                return Reply(
                    typography("Le fichier n’a pas été accepté, rien n’est publié :") + "\n" + lines
                )
        deliveries = self.deliveries(posts)
        if not deliveries:
            return _say("Aucune cible Telegram ou Mastodon n’est configurée.")
        plan = Plan(tuple(deliveries), (edition, record.dumps(palmares)))
        return await self.organisers.draft(incoming, "laureates", plan, None)

    async def load(self) -> None:
        """The palmarès published before this start, for the answers; one that no longer
        reads (edited by hand) is logged and left out."""
        for edition, text in (await self.records.all()).items():
            try:
                self.service.palmares[edition] = record.loads(text, edition).laureates
            except DataFileError as error:
                log.error("palmarès %d in the store is unreadable: %s", edition, error)

    async def _published(self, edition: int, laureates: str, number: int) -> None:
        await self.records.publish(edition, laureates, number, self.organisers.clock.now())
        self.service.palmares[edition] = record.loads(laureates, edition).laureates

    def deliveries(self, posts: Sequence[Publication]) -> list[Delivery]:
        """Each configured target gets its platform's publication."""
        found: list[Delivery] = []
        for target in self.organisers.connectors:
            kind = target.partition(":")[0]
            for publication in (p for p in posts if p.target_kind == kind):
                if publication.threaded or kind == "telegram":  # one item: a thread, a digest
                    found.append(
                        Delivery(target, publication.keys[0], Post.thread(publication.texts))
                    )
                else:  # `separate` or `summary-only`: independent statuses
                    found += [
                        Delivery(target, key, Post(text))
                        for key, text in zip(publication.keys, publication.texts, strict=True)
                    ]
        return found


def _say(text: str) -> Reply:
    return Reply(typography(text))
