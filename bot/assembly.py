"""Assembling the running bot: one conversation service, the connectors, the outbox worker and
the scheduler.

Every piece is built elsewhere and tested alone; this module only decides which ones the
configuration asks for and in which order they start and stop. A failure to reach a platform is
a connector's business (it logs and retries); a broken corpus, calendar or templates file stops
the bot before it starts, and on reload keeps the previous version running.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from bot.clock import Clock
from bot.config import Settings
from bot.datafile import DataFileError
from bot.faq.engine import FaqEngine
from bot.outbox import Target

if TYPE_CHECKING:
    from bot.connectors.mastodon.client import MastodonClient
    from bot.connectors.telegram.delivery import TelegramDelivery
    from bot.conversation import ConversationService
    from bot.outbox.queue import Outbox
    from bot.outbox.worker import DeliveryWorker
    from bot.store.store import Store
    from scheduler.runner import AnnouncementScheduler

log = logging.getLogger(__name__)

PID_FILE = "tnl-bot.pid"  # bot.service.PID_FILE names the same file for `tnl-bot reload`
LOCAL_TARGETS = ("console", "jsonl")


@dataclass
class Platforms:
    """The outbox targets of every configured platform and how to stop their connectors."""

    targets: list[Target] = field(default_factory=list)
    # What announcements are enqueued to: one name per platform account or channel.
    announce: list[str] = field(default_factory=list)
    telegram: TelegramDelivery | None = None
    mastodon: dict[str, MastodonClient] = field(default_factory=dict)  # one client per account
    stoppers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def stop(self) -> None:
        for stop in reversed(self.stoppers):
            with contextlib.suppress(Exception):
                await stop()


def local_targets(names: list[str], settings: Settings, out: TextIO) -> list[Target]:
    """The console and jsonl targets among `names`."""
    from bot.targets import ConsoleTarget, JsonlTarget

    targets: list[Target] = []
    for name in names:
        if name == "console":
            targets.append(ConsoleTarget(out))
        elif name == "jsonl":
            path = settings.jsonl_path or settings.data_dir / "publications.jsonl"
            targets.append(JsonlTarget(path, idempotent=settings.jsonl_idempotent))
    return targets


async def platform_targets(settings: Settings, store: Store, clock: Clock) -> Platforms:
    """Outbox targets of Telegram (when a token is set) and of each Mastodon account."""
    from bot.connectors.mastodon.runtime import connect, make_targets

    platforms = Platforms()
    if settings.telegram_token is not None:
        from bot.connectors.telegram.delivery import BROADCAST, delivery

        platforms.telegram = delivery(settings, store, clock)
        platforms.stoppers.append(platforms.telegram.aclose)
        platforms.targets += await platforms.telegram.targets()
        platforms.announce.append(BROADCAST)
    platforms.mastodon = connect(settings, clock)
    mastodon = make_targets(platforms.mastodon, store, clock)
    platforms.targets += mastodon
    platforms.announce += [target.name for target in mastodon]
    return platforms


def announcement_targets(settings: Settings, platforms: Platforms) -> list[str]:
    """TNL_TARGETS names the targets explicitly; unset, every configured platform (or the
    console when none is) receives the announcements."""
    wanted = settings.target_names() or platforms.announce or ["console"]
    known = [*LOCAL_TARGETS, *platforms.announce]
    unknown = [name for name in wanted if name not in known]
    if unknown:
        names = ", ".join(unknown)
        raise ValueError(f"unknown target(s) {names} in TNL_TARGETS (known: {', '.join(known)})")
    return wanted


def _log_problems(error: DataFileError, consequence: str) -> None:
    for problem in error.problems:
        log.error("%s", problem)
    log.error("%s", consequence)


async def reload_answers(settings: Settings, service: ConversationService) -> bool:
    """Swap in a new FAQ engine; a broken corpus or calendar keeps the previous one answering.

    Built in a thread: parsing the corpus takes ~100 ms the connectors should not wait for."""
    try:
        service.engine = await asyncio.to_thread(
            FaqEngine.from_files, settings.corpus_dir, settings.campaign
        )
    except DataFileError as error:
        _log_problems(error, "corpus or calendar invalid: the previous version keeps answering")
        return False
    log.info("corpus reloaded: %d entries", len(service.engine.corpus.entries))
    return True


async def start_connectors(
    settings: Settings,
    store: Store,
    clock: Clock,
    platforms: Platforms,
    *,
    service: ConversationService,
) -> None:
    from bot.connectors.mastodon.runtime import start as start_mastodon

    if platforms.telegram is not None:
        from bot.connectors.telegram import TelegramConnector

        telegram = await TelegramConnector(
            settings,
            service,
            store,
            clock,
            on_subscribed=platforms.telegram.subscribed,
            on_deferred=platforms.telegram.defer,
            pacer=platforms.telegram.pacer,
        ).start()
        platforms.stoppers.append(telegram.stop)
    mastodon = await start_mastodon(service, store, clock, platforms.mastodon)
    if mastodon is not None:
        platforms.stoppers.append(mastodon.stop)


def _on_signal(number: signal.Signals, handler: Callable[[], None]) -> None:
    with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
        asyncio.get_running_loop().add_signal_handler(number, handler)


def delivery_worker(
    outbox: Outbox, targets: list[Target], clock: Clock, platforms: Platforms
) -> DeliveryWorker:
    """The worker for every target; Telegram registers with it the chats that appear later
    (new subscribers, the chats of a fan-out)."""
    from bot.outbox.worker import DeliveryWorker

    worker = DeliveryWorker(outbox, targets, clock)
    if platforms.telegram is not None:
        platforms.telegram.attach(worker)
    return worker


async def serve(settings: Settings, clock: Clock, out: TextIO, stop: asyncio.Event) -> int:
    """Run until `stop` is set; 1 when the data files are invalid at start."""
    from bot.connectors.mastodon.config import AccountError
    from bot.conversation import ConversationService
    from bot.conversation.flood import FloodGuard
    from bot.outbox.queue import Outbox
    from bot.store.store import Store
    from scheduler.runner import AnnouncementScheduler, Planner

    _on_signal(signal.SIGTERM, stop.set)
    _on_signal(signal.SIGINT, stop.set)
    _on_signal(signal.SIGHUP, lambda: log.warning("still starting: reload ignored"))
    try:
        engine = FaqEngine.from_files(settings.corpus_dir, settings.campaign)
    except DataFileError as error:
        _log_problems(error, "corpus or calendar invalid: not starting")
        return 1
    store = await Store.open(settings.store_url())
    flood = FloodGuard(clock, settings.flood_messages, settings.flood_pause)
    service = ConversationService(engine, store, clock, flood=flood)
    pid_file = settings.data_dir / PID_FILE
    platforms = Platforms()
    runner: AnnouncementScheduler | None = None
    try:
        try:
            platforms = await platform_targets(settings, store, clock)
        except DataFileError as error:
            _log_problems(error, "platform accounts file invalid: not starting")
            return 1
        except AccountError as error:
            log.error("%s: not starting", error)
            return 1
        announce = announcement_targets(settings, platforms)
        outbox = Outbox(store, dt.timedelta(hours=settings.outbox_deadline_hours))
        worker = delivery_worker(
            outbox, [*local_targets(announce, settings, out), *platforms.targets], clock, platforms
        )
        planner = Planner(
            store,
            outbox,
            clock,
            campaign_path=settings.campaign,
            templates_path=settings.templates,
            targets=announce,
            grace=dt.timedelta(hours=settings.announcement_grace_hours),
            on_enqueued=worker.wake,
        )
        runner = AnnouncementScheduler(planner)
        if not await runner.start():
            return 1
        await start_connectors(settings, store, clock, platforms, service=service)
        _on_signal(signal.SIGHUP, _reloader(runner, settings, service))
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        pid_file.write_text(str(os.getpid()))
        log.info("running; announcements go to %s", ", ".join(announce))
        await worker.run(stop)
        return 0
    finally:
        await platforms.stop()
        if runner is not None:
            runner.shutdown()
        pid_file.unlink(missing_ok=True)
        await store.close()


def _reloader(
    runner: AnnouncementScheduler, settings: Settings, service: ConversationService
) -> Callable[[], None]:
    """SIGHUP: calendar, templates and corpus are re-read; each keeps its last valid version."""
    tasks: set[asyncio.Task[bool]] = set()

    def reload() -> None:
        for work in (reload_answers(settings, service), runner.reload()):
            task = asyncio.ensure_future(work)
            tasks.add(task)  # keep a reference until done: the loop only holds weak ones
            task.add_done_callback(tasks.discard)

    return reload
