"""A fake Mastodon server (aiohttp, 127.0.0.1, random port) for the real Mastodon.py client.

It keeps real state (accounts, statuses, notifications, media), enforces what the bot must
respect (character limit, Idempotency-Key kept one hour, 300 requests per 5-minute window and
300 statuses per 3 hours per account, with X-RateLimit-* headers and genuine 429s) on an
injectable clock, records every call, and injects faults on demand: 5xx, 429s announcing a
reset, a hung response (client timeout) or a dropped connection, before or *after* the request
took effect; deleting statuses has its own limit (30 per 30 minutes per account). It streams notifications as server-sent events (`/api/v1/streaming/user/…`) unless
told to refuse them (`refuse_streaming`, a 404 like an instance without streaming). A hung
request is announced on `hanging` as it starts to hang, so a test can act at that very moment
(e.g. SIGKILL the client process between the server's write and the client's bookkeeping).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from tests.fakes import mastodon_entities as entities
from tests.fakes.mastodon_entities import Json

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
IDEMPOTENCY_TTL = dt.timedelta(hours=1)
DELETION = re.compile(r"/api/v1/statuses/\d+")  # what rack-attack's `throttle_api_delete` counts
ME = web.RequestKey("me", dict)  # the authenticated account (a Json dict)
DEFAULT_POLICY = {
    "for_not_following": "accept",
    "for_not_followers": "accept",
    "for_new_accounts": "accept",
    "for_private_mentions": "filter",  # Mastodon ≥ 4.3's default
    "for_limited_accounts": "filter",
    "for_bots": "accept",
}


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class _RealClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, Any]
    idempotency_key: str | None
    status: int = 0


CALL = web.RequestKey("call", Call)


@dataclass
class Fault:
    kind: str  # "429", "500", "502", "503", "504", "timeout", "drop"
    method: str
    path: str  # a regular expression matched against the whole path
    after: bool  # fail the response only after the request took effect
    times: int
    key: str | None = None  # only requests carrying this Idempotency-Key (None: any)
    reset: float = 0.0  # a 429's X-RateLimit-Reset, seconds after the refusal


@dataclass
class Window:
    limit: int
    seconds: int
    counts: dict[tuple[str, int], int] = field(default_factory=dict)

    def hit(self, who: str, now: dt.datetime) -> tuple[bool, int, dt.datetime]:
        """Fixed windows aligned on the epoch, like Mastodon's rack-attack throttles."""
        slot = int(now.timestamp()) // self.seconds
        used = self.counts.get((who, slot), 0) + 1
        self.counts[(who, slot)] = used
        reset = dt.datetime.fromtimestamp((slot + 1) * self.seconds, dt.UTC)
        return used <= self.limit, max(self.limit - used, 0), reset


class FakeMastodon:
    def __init__(
        self,
        clock: Clock | None = None,
        *,
        max_characters: int = 500,
        requests_limit: int = 300,
        requests_window: int = 300,
        statuses_limit: int = 300,
        statuses_window: int = 3 * 3600,
        deletes_limit: int = 30,
        deletes_window: int = 30 * 60,
    ) -> None:
        self.clock: Clock = clock or _RealClock()
        self.max_characters = max_characters
        self.requests = Window(requests_limit, requests_window)
        self.status_posts = Window(statuses_limit, statuses_window)
        self.status_deletes = Window(deletes_limit, deletes_window)
        self.base = ""
        self.accounts: dict[str, Json] = {}  # token → account
        self.statuses: dict[str, Json] = {}
        self.deleted: set[str] = set()
        self.notifications: dict[str, list[Json]] = {}  # account id → newest last
        self.filtered: set[str] = set()  # ids of notifications the policy filtered
        self.policies: dict[str, dict[str, str]] = {}
        self.follows: set[tuple[str, str]] = set()
        self.media: dict[str, Json] = {}
        self.idempotency: dict[tuple[str, str], tuple[str, dt.datetime]] = {}
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.throttled = 0  # how many 429s were answered
        self._ids = itertools.count(110_000_000_000_000_001)
        self._notification_ids = itertools.count(1)
        self._release = asyncio.Event()
        # Calls held by a "timeout" fault, put here when they start hanging (never answered).
        self.hanging: asyncio.Queue[Call] = asyncio.Queue()
        self._runner: web.AppRunner | None = None
        self.on_status_created: Callable[[Json], None] | None = None
        # Open notification streams by account id: each gets notifications, None to end it.
        self.streams: dict[str, list[asyncio.Queue[Json | None]]] = {}
        self.refuse_streaming = False
        self.stream_opened = asyncio.Event()  # set whenever a stream is connected

    # Life cycle ------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(middlewares=[self._middleware], client_max_size=20 * 2**20)
        self._routes(app.router)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def close(self) -> None:
        self._release.set()  # hung responses end now
        self.end_streams()
        if self._runner is not None:
            await self._runner.cleanup()

    # Test helpers ----------------------------------------------------------------------------

    def add_account(self, username: str, token: str, *, bot: bool = False) -> Json:
        entity = entities.account(
            self.base, str(next(self._ids)), username, bot=bot, now=self.clock.now()
        )
        self.accounts[token] = entity
        self.notifications[entity["id"]] = []
        self.policies[entity["id"]] = dict(DEFAULT_POLICY)
        return entity

    def follow(self, follower: Json, followed: Json) -> None:
        self.follows.add((follower["id"], followed["id"]))

    def fault(
        self,
        kind: str,
        method: str = "POST",
        path: str = "/api/v1/statuses",
        *,
        after: bool = False,
        times: int = 1,
        key: str | None = None,
        reset: float = 0.0,
    ) -> None:
        """The next `times` matching requests fail with `kind` (429, 5xx code, timeout, drop);
        with `key`, only requests carrying that Idempotency-Key match (one status of a thread).
        A 429 announces its window's reset `reset` seconds later (X-RateLimit-Reset).

        A 503 is always a refusal, never `after` the request took effect: Mastodon answers it
        for failures that rolled back, proxies for a backend they did not reach, and the bot
        relies on that (`may_have_taken_effect`). 500, 502 and 504 may come after the fact."""
        if kind == "503" and after:
            raise ValueError("a 503 refuses the request; use 500, 502 or 504 after the fact")
        if kind == "429" and after:
            raise ValueError("a 429 refuses the request before it reaches the application")
        self.faults.append(Fault(kind, method, path, after, times, key, reset))

    def delete(self, status: Json) -> None:
        """Its author deletes a status (a question, before the bot answers it)."""
        del self.statuses[status["id"]]
        self.deleted.add(status["id"])

    def end_streams(self) -> None:
        """The streaming server closes every open stream (a restart, a proxy timeout)."""
        for queues in self.streams.values():
            for queue in queues:
                queue.put_nowait(None)

    def post_as(self, token: str, text: str, **form: str) -> Json:
        """Another user posts (a question mentioning the bot…), as if through the API."""
        return self._create_status(self.accounts[token], {"status": text, **form})

    def posts_of(self, entity: Json) -> list[Json]:
        return sorted(
            (s for s in self.statuses.values() if s["account"]["id"] == entity["id"]),
            key=lambda s: int(s["id"]),
        )

    def calls_to(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.fullmatch(path, c.path)]

    # Middleware: auth, rate limits, faults, recording ----------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        form: dict[str, Any] = {}
        if request.method in ("POST", "PATCH", "PUT"):
            posted = await request.post()
            for key in posted:
                values = posted.getall(key)
                form[key] = values if key.endswith("[]") else values[-1]
        call = Call(
            request.method,
            request.path.rstrip("/") or "/",
            {key: request.query.getall(key) for key in request.query},
            form,
            request.headers.get("Idempotency-Key"),
        )
        self.calls.append(call)
        request[CALL] = call
        try:
            response = await self._respond(request, handler, call)
        except web.HTTPException as refused:  # a route's 404 for an unknown record
            call.status = refused.status
            raise
        call.status = response.status
        return response

    async def _respond(
        self, request: web.Request, handler: Handler, call: Call
    ) -> web.StreamResponse:
        now = self.clock.now()
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        me = self.accounts.get(token)
        public = call.path in ("/api/v1/instance", "/api/v2/instance")
        if me is None and not public:
            denied = web.json_response({"error": "The access token is invalid"}, status=401)
            denied.headers["WWW-Authenticate"] = 'Bearer realm="Doorkeeper", error="invalid_token"'
            return self._date(denied, now)
        allowed, remaining, reset = self.requests.hit(token or request.remote or "?", now)
        if allowed and me is not None and call.method == "POST" and call.path == "/api/v1/statuses":
            allowed, remaining, reset = self.status_posts.hit(me["id"], now)
        if allowed and me is not None and call.method == "DELETE" and DELETION.fullmatch(call.path):
            allowed, remaining, reset = self.status_deletes.hit(me["id"], now)
        if not allowed:
            self.throttled += 1
            throttled = web.json_response({"error": "Too many requests"}, status=429)
            return self._limits(self._date(throttled, now), remaining, reset)
        if me is not None:
            request[ME] = me
        if call.path.startswith("/api/v1/streaming"):  # its own server: no REST rate limit
            return await handler(request)
        fault = self._take_fault(call)
        if fault is not None and not fault.after:
            return await self._fail(request, fault)
        response = await handler(request)
        if fault is not None:
            return await self._fail(request, fault)
        return self._limits(self._date(response, now), remaining, reset)

    def _take_fault(self, call: Call) -> Fault | None:
        for fault in self.faults:
            if (
                fault.times > 0
                and fault.method == call.method
                and re.fullmatch(fault.path, call.path)
                and (fault.key is None or fault.key == call.idempotency_key)
            ):
                fault.times -= 1
                return fault
        return None

    async def _fail(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.kind == "429":
            self.throttled += 1
            now = self.clock.now()
            throttled = web.json_response({"error": "Too many requests"}, status=429)
            reset = now + dt.timedelta(seconds=fault.reset)
            return self._limits(self._date(throttled, now), 0, reset)
        if fault.kind == "timeout":
            self.hanging.put_nowait(request[CALL])
            await self._release.wait()  # the client gives up first; released at close()
            return web.json_response({"error": "late"}, status=504)
        if fault.kind == "drop":
            assert request.transport is not None
            request.transport.abort()  # connection reset, no HTTP response at all
            return web.Response(status=500)
        return web.json_response({"error": f"injected {fault.kind}"}, status=int(fault.kind))

    def _date(self, response: web.StreamResponse, now: dt.datetime) -> web.StreamResponse:
        response.headers["Date"] = email.utils.format_datetime(now.astimezone(dt.UTC), usegmt=True)
        return response

    def _limits(
        self, response: web.StreamResponse, remaining: int, reset: dt.datetime
    ) -> web.StreamResponse:
        response.headers["X-RateLimit-Limit"] = str(self.requests.limit)
        response.headers["X-RateLimit-Remaining"] = str(remaining)
        response.headers["X-RateLimit-Reset"] = reset.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        return response

    # Routes ----------------------------------------------------------------------------------

    def _routes(self, router: web.UrlDispatcher) -> None:
        from tests.fakes.mastodon_routes import add_routes

        add_routes(router, self)

    # State changes shared by the routes and the helpers --------------------------------------

    def next_id(self) -> str:
        return str(next(self._ids))

    def _create_status(self, author: Json, form: dict[str, Any]) -> Json:
        text = str(form.get("status") or "")
        reply_to = self.statuses.get(str(form.get("in_reply_to_id") or ""))
        names = set(re.findall(r"(?<![\w/])@([\w.]+)", text))
        mentioned = {a["username"]: a for a in self.accounts.values() if a["username"] in names}
        content, tags = entities.render(text, self.base, mentioned)
        media_ids = form.get("media_ids[]") or []
        attachments = [self.media[m] for m in media_ids if m in self.media]
        created = entities.status(
            self.base,
            self.next_id(),
            author,
            form,
            content=content,
            tags=tags,
            mentions=list(mentioned.values()),
            media=attachments,
            reply_to=reply_to,
            now=self.clock.now(),
        )
        self.statuses[created["id"]] = created
        author["statuses_count"] += 1
        if reply_to is not None:
            reply_to["replies_count"] += 1
        for target in mentioned.values():
            if target["id"] != author["id"]:
                self._notify(target, author, created)
        if self.on_status_created is not None:
            self.on_status_created(created)
        return created

    def _notify(self, target: Json, source: Json, item: Json) -> None:
        policy = self.policies[target["id"]]
        follows = (target["id"], source["id"]) in self.follows
        rule = "accept"
        if item["visibility"] == "direct" and not follows:
            rule = policy["for_private_mentions"]
        elif not follows:
            rule = policy["for_not_following"]
        if rule == "drop":
            return
        created = entities.notification(
            str(next(self._notification_ids)), "mention", source, item, self.clock.now()
        )
        self.notifications[target["id"]].append(created)
        if rule == "filter":
            self.filtered.add(created["id"])
        else:
            for queue in self.streams.get(target["id"], []):
                queue.put_nowait(created)

    def create_status(self, author: Json, form: dict[str, Any], key: str | None) -> Json:
        """POST /api/v1/statuses with Idempotency-Key semantics: within an hour the same key
        returns the status first created, whatever the new request says."""
        now = self.clock.now()
        if key:
            known = self.idempotency.get((author["id"], key))
            if known is not None and now - known[1] < IDEMPOTENCY_TTL and known[0] in self.statuses:
                return self.statuses[known[0]]
        created = self._create_status(author, form)
        if key:
            self.idempotency[(author["id"], key)] = (created["id"], now)
        return created
