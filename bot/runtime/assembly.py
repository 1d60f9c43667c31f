"""Assembling the running bot: one conversation service, the connectors of every configured
platform (from the registry), the outbox worker, the scheduler and the web application.

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
import signal
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from bot.broadcasts.install import organiser_commands
from bot.broadcasts.organisers import OrganiserCommands
from bot.clock import Clock
from bot.config import Settings
from bot.conversation import ConversationService, Identity, Roles
from bot.conversation.connector import Connector, Parts
from bot.conversation.flood import FloodGuard
from bot.conversation.identity import ORGANISER
from bot.datafile import DataFileError
from bot.faq.engine import FaqEngine
from bot.outbox import Target
from bot.runtime.fleet import LOST_LEAD, Fleet, instance_name
from bot.runtime.lock import AlreadyRunning, InstanceLock
from bot.runtime.metrics import MeasuredWorker, Metrics
from bot.runtime.registry import PLATFORMS
from bot.runtime.web import WebApp

if TYPE_CHECKING:
    from bot.outbox.queue import Outbox
    from bot.outbox.worker import DeliveryWorker
    from bot.store.store import Store
    from scheduler.runner import AnnouncementScheduler

log = logging.getLogger(__name__)

LOCAL_TARGETS = ("console", "jsonl")
STOP_GRACE = 8.0  # seconds the connectors get to finish what they hold (SIGTERM: exit in 10)


def local_targets(names: Sequence[str], settings: Settings, out: TextIO) -> list[Target]:
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


def announcement_targets(settings: Settings, connectors: Sequence[Connector]) -> list[str]:
    """TNL_TARGETS names the targets explicitly, any of the connectors' audiences among them
    (`telegram:abonnes`: the subscribers without the channel), as organisers may choose them;
    unset, every connector (its target named like it: `telegram`, `mastodon:main`) receives
    the announcements, or the console when none is configured."""
    platforms = [connector.name for connector in connectors]
    wanted = settings.target_names() or platforms or ["console"]
    known = [*LOCAL_TARGETS, *(name for c in connectors for name in c.audiences())]
    unknown = [name for name in wanted if name not in known]
    if unknown:
        names = ", ".join(unknown)
        raise ValueError(f"unknown target(s) {names} in TNL_TARGETS (known: {', '.join(known)})")
    return wanted


def _log_problems(error: DataFileError, consequence: str) -> None:
    for problem in error.problems:
        log.error("%s", problem)
    log.error("%s", consequence)


def load_data(settings: Settings) -> FaqEngine:
    """Corpus, calendar and templates, all checked: DataFileError lists every problem."""
    from scheduler.templates import check_plan

    problems = check_plan(settings.campaign, settings.templates)
    try:
        engine = FaqEngine.from_files(settings.corpus_dir, settings.campaign)
    except DataFileError as error:
        problems = [*error.problems, *problems]
    if problems:
        raise DataFileError(problems)
    return engine


async def reload_data(
    settings: Settings, service: ConversationService, runner: AnnouncementScheduler
) -> list[str]:
    """SIGHUP and `/recharger`: everything re-read, or nothing (each problem logged and
    returned) and the previous version stays in force. Parsed in a thread: ~100 ms the
    connectors should not wait for."""
    try:
        engine = await asyncio.to_thread(load_data, settings)
    except DataFileError as error:
        _log_problems(error, "data files invalid: the previous version stays in force")
        return [str(problem) for problem in error.problems]
    service.engine = engine
    await runner.reload()
    log.info("reloaded: %d corpus entries", len(engine.corpus.entries))
    return []


async def organiser_roles(handles: Sequence[str], connectors: Sequence[Connector]) -> Roles:
    """TNL_ORGANISERS as identities: Mastodon handles become account ids (asked of the
    accounts' servers); one that cannot be resolved is logged and left out until next start."""
    organisers: list[Identity] = []
    for handle in handles:
        platform, _, who = handle.partition(":")
        if platform != "mastodon":
            organisers.append(Identity(platform, who))
            continue
        found: str | None = None
        for connector in (c for c in connectors if c.name.startswith("mastodon:")):
            try:
                found = await connector.resolve(who)
            except Exception as error:  # the server is down: say so, the others still count
                log.warning("TNL_ORGANISERS: cannot look up %s: %s", handle, error)
            if found is not None:
                organisers.append(Identity(platform, found))
                break
        else:
            log.warning("TNL_ORGANISERS: %s is unknown to the Mastodon accounts", handle)
    return Roles({ORGANISER: organisers})


def _on_signal(number: signal.Signals, handler: Callable[[], None]) -> None:
    with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
        asyncio.get_running_loop().add_signal_handler(number, handler)


async def build_connectors(parts: Parts) -> list[Connector]:
    """Every configured platform's connectors, in registry order."""
    connectors: list[Connector] = []
    for factory in PLATFORMS.values():
        connectors += await factory(parts)
    return connectors


class CannotStart(Exception):
    """Why the bot does not start, already logged or said in one line."""


class RunningBot:
    """The pieces of one running bot, opened in order and closed in reverse."""

    def __init__(
        self, settings: Settings, clock: Clock, out: TextIO, environ: Mapping[str, str]
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.out = out
        self.environ = environ
        self.web = WebApp(settings.web_host, settings.web_port)
        self.metrics = Metrics()
        self.connectors: list[Connector] = []
        self.lock: InstanceLock | None = None
        self.store: Store | None = None
        self.outbox: Outbox | None = None
        self.runner: AnnouncementScheduler | None = None
        self.organisers: OrganiserCommands | None = None
        self.worker: DeliveryWorker | None = None
        self.fleet: Fleet | None = None

    async def open(self, engine: FaqEngine) -> tuple[ConversationService, DeliveryWorker]:
        """Everything up to receiving and delivering; CannotStart on what must stop it."""
        from bot.outbox.queue import Outbox
        from bot.runtime.health import routes
        from bot.store.store import Store

        settings, clock = self.settings, self.clock
        try:
            self.lock = InstanceLock.acquire(settings.data_dir)
        except AlreadyRunning as error:
            raise CannotStart(str(error)) from error
        self.store = store = await Store.open(settings.store_url())
        flood = FloodGuard(clock, settings.flood_messages, settings.flood_pause)
        service = ConversationService(
            engine, store, clock, flood=flood, observer=self.metrics.answered
        )
        name = instance_name()
        deadline = dt.timedelta(hours=settings.outbox_deadline_hours)
        self.outbox = outbox = Outbox(store, deadline, owner=name)
        self.fleet = fleet = Fleet(
            store,
            outbox,
            clock,
            name=name,
            retention=dt.timedelta(days=settings.retention_days),
            on_lead=self._lead,
        )
        shared = not fleet.lock.exclusive  # PostgreSQL: other instances may deliver too
        self.worker = worker = MeasuredWorker(outbox, clock, self.metrics, shared=shared)
        self.web.add_routes(routes(self))
        parts = Parts(
            settings,
            service,
            store,
            clock,
            outbox,
            worker,
            self.web.add_routes,
            self.environ,
            fleet.count,
        )
        announce = await self._connect(parts)
        for target in local_targets(announce, settings, self.out):
            worker.add_target(target)
        for connector in self.connectors:
            for target in connector.targets():
                worker.add_target(target)
        runner = await self._schedule(store, outbox, announce, worker)
        service.roles = await organiser_roles(settings.organiser_handles(), self.connectors)
        self.organisers = await organiser_commands(
            service,
            outbox,
            clock,
            self.connectors,
            confirm_minutes=settings.confirm_minutes,
            wake=worker.wake,
            reload=lambda: self.reload(service),
            upcoming=runner.planner.upcoming,
        )
        try:
            await self.web.start()
        except OSError as error:
            raise CannotStart(
                f"TNL_WEB_HOST/TNL_WEB_PORT: cannot listen on {self.web.url}: {error}"
            ) from error
        await fleet.join()  # leading: the scheduler starts and the connectors receive
        log.info(
            "running; announcements go to %s; web on %s (%s)",
            ", ".join(announce),
            self.web.url,
            ", ".join(self.web.routes) or "no routes",
        )
        return service, worker

    async def _lead(self) -> None:
        """The leader's duties: the scheduler, and receiving on every platform."""
        assert self.runner is not None  # the fleet joins once everything is built
        await self.runner.start()
        for connector in self.connectors:
            await connector.start()

    async def _connect(self, parts: Parts) -> list[str]:
        """The connectors of every configured platform; the targets announcements go to."""
        from bot.connectors.mastodon.config import AccountError

        try:
            self.connectors = await build_connectors(parts)
            return announcement_targets(self.settings, self.connectors)
        except DataFileError as error:
            _log_problems(error, "platform accounts file invalid: not starting")
            raise CannotStart("platform accounts file invalid") from error
        except (AccountError, ValueError) as error:
            raise CannotStart(f"{error}: not starting") from error

    async def _schedule(
        self, store: Store, outbox: Outbox, announce: list[str], worker: DeliveryWorker
    ) -> AnnouncementScheduler:
        from scheduler.runner import AnnouncementScheduler, Planner

        def enqueued() -> None:
            self.metrics.enqueued()
            worker.wake()

        planner = Planner(
            store,
            outbox,
            self.clock,
            campaign_path=self.settings.campaign,
            templates_path=self.settings.templates,
            targets=announce,
            grace=dt.timedelta(hours=self.settings.announcement_grace_hours),
            on_enqueued=enqueued,
        )
        self.runner = AnnouncementScheduler(planner)
        if not planner.reload():  # read here on every instance; run by the leader
            raise CannotStart("calendar or templates invalid")
        return self.runner

    async def reload(self, service: ConversationService) -> list[str]:
        assert self.runner is not None  # organisers exist once the scheduler does
        return await reload_data(self.settings, service, self.runner)

    async def close(self) -> None:
        if self.organisers is not None:
            await self.organisers.close()
        for connector in reversed(self.connectors):
            with contextlib.suppress(Exception):
                await connector.stop(STOP_GRACE)
        if self.runner is not None:
            self.runner.shutdown()
        await self.web.stop()
        if self.fleet is not None:
            await self.fleet.leave()
        if self.store is not None:
            await self.store.close()
        if self.lock is not None:
            self.lock.release()


async def serve(
    settings: Settings,
    clock: Clock,
    out: TextIO,
    stop: asyncio.Event,
    *,
    environ: Mapping[str, str],
) -> int:
    """Run until `stop` is set (SIGTERM, SIGINT); 1 when it cannot start (invalid data files,
    another bot on the data directory, the web port taken), `LOST_LEAD` when this instance
    led and its lock went away (the supervisor starts it again)."""
    _on_signal(signal.SIGTERM, stop.set)
    _on_signal(signal.SIGINT, stop.set)
    _on_signal(signal.SIGHUP, lambda: log.warning("still starting: reload ignored"))
    try:
        engine = load_data(settings)
    except DataFileError as error:
        _log_problems(error, "data files invalid: not starting")
        return 1
    bot = RunningBot(settings, clock, out, environ)
    try:
        service, worker = await bot.open(engine)
        _on_signal(signal.SIGHUP, _reloader(bot, service))
        assert bot.fleet is not None  # opened
        heartbeat = asyncio.create_task(bot.fleet.run(stop), name="heartbeat")
        try:
            await bot.fleet.settle(stop)
            await worker.run(stop)
        finally:
            stop.set()
            await heartbeat
        return LOST_LEAD if bot.fleet.lost else 0
    except CannotStart as error:
        log.error("%s", error)
        return 1
    finally:
        await bot.close()


def _reloader(bot: RunningBot, service: ConversationService) -> Callable[[], None]:
    """SIGHUP: corpus, calendar and templates re-read together; the last valid version stays."""
    tasks: set[asyncio.Task[list[str]]] = set()

    def reload() -> None:
        task = asyncio.ensure_future(bot.reload(service))
        tasks.add(task)  # keep a reference until done: the loop only holds weak ones
        task.add_done_callback(tasks.discard)

    return reload
