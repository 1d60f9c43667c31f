"""Real time with a safety net: mentions from the stream, the persisted-cursor poll to catch up.

The stream is opened first and the catch-up poll runs once it is connected, so nothing posted
between the two is lost (what both bring is admitted once by the cursor). The poll runs at
start, after every reconnection, and every `poll_seconds` while the stream is unavailable
(404, connection refused, dropped); reconnections are spaced by the one backoff policy, whose
first delay is about the poll interval, so a mention waits at most `poll_seconds` either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable

import aiohttp

from bot.backoff import Backoff, Retries
from bot.connectors.mastodon.answer import MentionAnswerer
from bot.connectors.mastodon.client import Throttled, delivery_error
from bot.connectors.mastodon.stream import NotificationStream, StreamUnavailable, streaming_base
from bot.outbox.target import RetryableError
from bot.waiting import Sleep, pause

log = logging.getLogger(__name__)

PREPARE = Backoff(base=5.0, ceiling=600.0)


class MentionListener:
    """Runs one account's answerer until stopped: `streaming` says how mentions come now."""

    def __init__(self, answerer: MentionAnswerer, *, sleep: Sleep = asyncio.sleep) -> None:
        self.answerer = answerer
        self.sleep = sleep
        self.poll_seconds = answerer.account.poll_seconds
        self.reconnect = Backoff(base=self.poll_seconds, ceiling=max(600.0, self.poll_seconds))
        self.streaming = False
        self.connections = 0

    @property
    def name(self) -> str:
        return self.answerer.cursor_name

    async def run(self, stop: asyncio.Event) -> None:
        try:
            if not await _until(self._prepare(stop), stop):
                return
            account = self.answerer.account
            stream = NotificationStream(
                streaming_base(account.url, self.answerer.streaming_url),
                account.token.get_secret_value(),
            )
            retries = Retries(self.reconnect)
            while not stop.is_set():
                try:
                    await _until(self._listen(stream, retries), stop)
                    reason = "closed by the server"
                except StreamUnavailable as error:
                    reason = f"unavailable ({error})"
                except (aiohttp.ClientError, TimeoutError) as error:
                    reason = f"lost ({type(error).__name__}: {error})"
                self.streaming = False
                if stop.is_set():
                    break
                delay = retries.failed()
                log.info("%s: stream %s; polling, next try in %.0f s", self.name, reason, delay)
                await self._poll_for(delay, stop)
        finally:
            await self.answerer.lanes.close()

    async def _prepare(self, stop: asyncio.Event) -> None:
        retries = Retries(PREPARE)
        while not stop.is_set():
            try:
                await self.answerer.prepare()
                return
            except Throttled as throttled:
                wait = throttled.wait
            except Exception as error:  # the instance is down or slow: try again later
                failure = delivery_error(error, self.answerer.client)
                retry_after = failure.retry_after if isinstance(failure, RetryableError) else None
                wait = retries.failed(retry_after)
                log.warning("%s: cannot start answering: %s", self.name, failure)
            await pause(self.sleep, wait, stop)

    async def _listen(self, stream: NotificationStream, retries: Retries) -> None:
        async with stream.open() as notifications:
            self.streaming = True
            self.connections += 1
            retries.succeeded()
            log.info("%s: streaming mentions", self.name)
            await self._catch_up()
            async for notification in notifications:
                self.answerer.received(notification)

    async def _poll_for(self, seconds: float, stop: asyncio.Event) -> None:
        """Poll now and every `poll_seconds` for `seconds` (at least once)."""
        clock = self.answerer.clock
        deadline = clock.now() + dt.timedelta(seconds=seconds)  # datetimes: no float residue
        while True:
            await self._catch_up()
            left = (deadline - clock.now()).total_seconds()
            if left <= 0 or stop.is_set():
                return
            await pause(self.sleep, min(self.poll_seconds, left), stop)

    async def _catch_up(self) -> None:
        """Errors only delay: the cursor has not moved past anything unanswered."""
        try:
            await self.answerer.catch_up()
        except Throttled as throttled:
            log.info("%s: catch-up paced: %s", self.name, throttled)
        except Exception as error:
            failure = delivery_error(error, self.answerer.client)
            log.warning("%s: catching up on mentions failed: %s", self.name, failure)


async def _until(work: Awaitable[None], stop: asyncio.Event) -> bool:
    """Run `work` until it ends (True; its exception raised) or `stop` is set (False)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        return False
    task.result()
    return True
