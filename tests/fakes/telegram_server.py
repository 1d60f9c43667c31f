"""A fake Telegram Bot API server (aiohttp, 127.0.0.1, random port) for python-telegram-bot.

It answers `{root}/bot{token}/{method}` with the Bot API's JSON shapes (`ok`, `result`,
`error_code`, `description`, `parameters`), keeps chats and messages, records every call,
enforces the flood limits with genuine 429s (tests/fakes/telegram_limits.py), and injects faults
on demand: 403 from chats that blocked the bot, group → supergroup migration, 5xx, a hung
response after the message was delivered (the client times out: "in doubt"), malformed updates.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes import telegram_limits as tg
from tests.fakes.telegram_limits import BOT_USER, Clock, Json, Limits, RealClock

TOKEN = "123456789:AAH-fake-token-for-tests_0123456789"
DELETE_WINDOW = dt.timedelta(hours=48)  # a bot deletes its messages within 48 hours only
MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses bigger files ("file is too big")
JSON_FIELDS = {"reply_markup", "allowed_updates", "commands", "reply_parameters", "scope"}
INT_FIELDS = {"offset", "timeout", "limit", "message_id", "user_id", "max_connections"}


@dataclass
class Call:
    method: str
    params: Json
    at: dt.datetime  # when the fake received it, on its clock
    status: int = 0


@dataclass
class FakeTelegram:
    token: str = TOKEN
    limits: Limits = field(default_factory=Limits)
    clock: Clock = field(default_factory=RealClock)
    hang: float = 0.2  # how long a "timeout" fault holds the answer (beyond the client's patience)

    def __post_init__(self) -> None:
        self.calls: list[Call] = []
        self.flood = tg.FloodControl(self.limits, self.clock)
        self.sent: dict[int | str, list[Json]] = collections.defaultdict(list)  # chat → messages
        self.deleted: dict[int | str, list[Json]] = collections.defaultdict(list)  # same, gone
        self.blocked: dict[int | str, str] = {}  # chat → 403 description
        self.migrated: dict[int, int] = {}  # group → supergroup id
        self.owners: dict[int, set[int]] = collections.defaultdict(set)  # group → admin users
        self.faults: dict[str, collections.deque[str]] = collections.defaultdict(collections.deque)
        self.rate_limited = 0
        self.conflicts = 0  # getUpdates refused because another was running (two pollers)
        self._polling: list[asyncio.Transport | None] = []  # connections in a long poll
        self.commands: list[Json] = []
        self.webhook: Json | None = None
        self._updates: list[Json] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id → (file_path, content)
        self.downloads: list[str] = []  # file paths fetched from /file/bot<token>/…
        self._new_update = asyncio.Event()
        self._held: dict[str, tuple[asyncio.Event, str | None]] = {}  # method → (released, chat)
        self.holding: collections.Counter[str] = collections.Counter()  # requests waiting now
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.url = ""

    # Lifecycle -----------------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        self._closing = True
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # What tests drive ----------------------------------------------------------------------

    def fail_next(self, method: str, kind: str, times: int = 1) -> None:
        """kind: "500", "502" (error before any effect), "timeout" (effect, then no answer) or
        "429:N" (flood control, retry after N seconds, whatever the limits). `method` "file":
        the download of a file getFile gave the path of ("500" or "502" only)."""
        self.faults[method].extend([kind] * times)

    def confirmed(self, update_id: int) -> bool:
        """The bot told us it has the update: a later getUpdates asked for an offset past it."""
        offsets = [c.params.get("offset") for c in self.method_calls("getUpdates")]
        return any(isinstance(o, int) and o > update_id for o in offsets)

    def hold(self, method: str, chat: int | None = None) -> None:
        """Calls of `method` (to `chat` only, when given) wait, before any effect, until
        `release`; one whose client has gone by then (a stopped or killed bot) has no effect."""
        self._held[method] = (asyncio.Event(), None if chat is None else str(chat))

    def release(self, method: str) -> None:
        self._held.pop(method)[0].set()

    def push(self, update: Json) -> Json:
        """Queue a raw update (any shape: malformed ones too); an update_id is added if absent."""
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._new_update.set()
        return update

    def say(
        self, chat_id: int, text: str, user_id: int | None = None, reply_to: Json | None = None
    ) -> Json:
        """A user writes `text` in a chat (private when chat_id > 0)."""
        sender = user_id if user_id is not None else chat_id
        message: Json = {
            "message_id": next(self._message_ids),
            "date": int(self.clock.now().timestamp()),
            "chat": tg.chat(chat_id),
            "from": tg.user(sender),
            "text": text,
        }
        entities = tg.command_entity(text) + tg.mentions(text, BOT_USER["username"])
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return self.push({"message": message})

    def send_document(
        self, user_id: int, name: str, content: bytes, caption: str | None = None
    ) -> Json:
        """A user sends a file in their private chat with the bot, with an optional caption
        (a command in it is marked as Telegram marks it)."""
        number = len(self.files) + 1
        file_id = f"BQACAgQAAx-document-{number}"
        self.files[file_id] = (f"documents/file_{number}{_extension(name)}", content)
        message: Json = {
            "message_id": next(self._message_ids),
            "date": int(self.clock.now().timestamp()),
            "chat": tg.chat(user_id),
            "from": tg.user(user_id),
            "document": {
                "file_id": file_id,
                "file_unique_id": _unique(file_id),
                "file_name": name,
                "mime_type": "text/csv" if name.endswith(".csv") else "application/x-yaml",
                "file_size": len(content),
            },
        }
        if caption is not None:
            message["caption"] = caption
            entities = tg.command_entity(caption)
            if entities:
                message["caption_entities"] = entities
        return self.push({"message": message})

    def press(self, user_id: int, message: Json, data: str) -> Json:
        """A user presses an inline button under one of the bot's messages."""
        query = {
            "id": str(next(self._update_ids)),
            "from": tg.user(user_id),
            "message": message,
            "chat_instance": "ci",
            "data": data,
        }
        return self.push({"callback_query": query})

    def busiest_second(self) -> int:
        """The most messages accepted within any one second, all chats (and senders) together."""
        moments = sorted(c.at for c in self.calls if c.method == "sendMessage" and c.status == 200)
        most, first = 0, 0
        for last, moment in enumerate(moments):
            while moment - moments[first] >= dt.timedelta(seconds=1):
                first += 1
            most = max(most, last - first + 1)
        return most

    def texts(self, chat_id: int | str) -> list[str]:
        return [m["text"] for m in self.sent[chat_id]]

    def method_calls(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def arrivals(self, chat_id: int | str) -> list[dt.datetime]:
        """When each message the chat received arrived, on the fake's clock."""
        return [
            c.at
            for c in self.method_calls("sendMessage")
            if c.status == 200 and c.params.get("chat_id") == chat_id
        ]

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        """Until `predicate()` holds: the fake is event-driven, this only yields to the loop."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.001)

    # HTTP ----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params, self.clock.now())
        self.calls.append(call)
        if request.match_info["token"] != self.token:
            return self._answer(call, tg.error(401, "Unauthorized"), 401)
        fault = self.faults[method].popleft() if self.faults[method] else None
        if fault is not None and fault.startswith("429:"):
            self.rate_limited += 1
            wait = int(fault.removeprefix("429:"))
            body = tg.error(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
            return self._answer(call, body, 429)
        if fault in ("500", "502"):
            return self._answer(call, _server_error(fault), int(fault))
        released, chat = self._held.get(method, (None, None))
        if released is not None and chat in (None, str(params.get("chat_id"))):
            self.holding[method] += 1
            try:
                await released.wait()
            finally:
                self.holding[method] -= 1
            if request.transport is None or request.transport.is_closing():
                return self._answer(call, tg.error(499, "client gone"), 499)
        handler = getattr(self, f"_m_{method}", None)
        if method == "getUpdates":  # the one method that looks at its connection
            body, status = await self._get_updates(params, request)
        elif handler is None:
            return self._answer(call, tg.error(404, "Not Found: method not found"), 404)
        else:
            body, status = await handler(params)
        if fault == "timeout":
            await asyncio.sleep(self.hang)  # done, but the client gives up before hearing it
        return self._answer(call, body, status)

    def _answer(self, call: Call, body: Json, status: int) -> web.Response:
        call.status = status
        return web.json_response(body, status=status)

    # Methods -------------------------------------------------------------------------------

    async def _m_getMe(self, _: Json) -> tuple[Json, int]:
        return _ok(BOT_USER)

    async def _get_updates(self, params: Json, request: web.Request) -> tuple[Json, int]:
        if self.webhook is not None:
            return tg.error(
                409, "Conflict: can't use getUpdates method while webhook is active"
            ), 409
        # As Telegram: two bot instances polling conflict. A long poll whose client is gone (a
        # killed process; the fake only notices when it answers) is no other instance.
        self._polling = [t for t in self._polling if t is not None and not t.is_closing()]
        if self._polling:
            self.conflicts += 1
            return tg.error(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one "
                "bot instance is running",
            ), 409
        transport = request.transport
        self._polling.append(transport)
        try:
            return await self._updates_after(params)
        finally:
            if transport in self._polling:
                self._polling.remove(transport)

    async def _updates_after(self, params: Json) -> tuple[Json, int]:
        offset = params.get("offset")
        if isinstance(offset, int):  # confirms what is below it
            self._updates = [u for u in self._updates if _id(u) >= offset]
        if not self._updates and params.get("timeout") and not self._closing:
            self._new_update.clear()
            try:
                async with asyncio.timeout(float(params["timeout"])):
                    await self._new_update.wait()
            except TimeoutError:
                pass
        batch = self._updates[: int(params.get("limit") or 100)]
        # An injected update without an integer id cannot be confirmed: it is sent once.
        self._updates = [u for u in self._updates if isinstance(u.get("update_id"), int)]
        return _ok(batch)

    async def _m_sendMessage(self, params: Json) -> tuple[Json, int]:
        chat_id = params.get("chat_id")
        text = params.get("text")
        if chat_id is None or not isinstance(text, str):
            return tg.error(400, "Bad Request: chat_id and text are required"), 400
        refused = self._refusal(chat_id)
        if refused is not None:
            return refused
        visible = tg.parse_html(text) if params.get("parse_mode") == "HTML" else text
        problem = tg.text_problem(visible)
        if problem is not None:
            return tg.error(400, f"Bad Request: {problem}"), 400
        assert visible is not None
        retry_after = self.flood.admit(chat_id)
        if retry_after is not None:
            self.rate_limited += 1
            wait = int(retry_after) if retry_after.is_integer() else retry_after
            description = f"Too Many Requests: retry after {wait}"
            return tg.error(429, description, retry_after=wait), 429
        message: Json = {
            "message_id": next(self._message_ids),
            "date": int(self.clock.now().timestamp()),
            "chat": tg.chat(chat_id),
            "from": BOT_USER,
            "text": visible,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.sent[chat_id].append(message)
        return _ok(message)

    def _refusal(self, chat_id: int | str) -> tuple[Json, int] | None:
        if chat_id in self.blocked:
            return tg.error(403, self.blocked[chat_id]), 403
        if isinstance(chat_id, int) and chat_id in self.migrated:
            description = "Bad Request: group chat was upgraded to a supergroup chat"
            return tg.error(400, description, migrate_to_chat_id=self.migrated[chat_id]), 400
        return None

    async def _m_editMessageText(self, params: Json) -> tuple[Json, int]:
        message = self._find(params)
        if message is None:
            return tg.error(400, "Bad Request: message to edit not found"), 400
        visible = (
            tg.parse_html(params.get("text", "")) if params.get("parse_mode") == "HTML" else None
        )
        message["text"] = visible if visible is not None else params.get("text", "")
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return _ok(message)

    async def _m_editMessageReplyMarkup(self, params: Json) -> tuple[Json, int]:
        message = self._find(params)
        if message is None:
            return tg.error(400, "Bad Request: message to edit not found"), 400
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return _ok(message)

    async def _m_deleteMessage(self, params: Json) -> tuple[Json, int]:
        message = self._find(params)
        if message is None:
            return tg.error(400, "Bad Request: message to delete not found"), 400
        sent_at = dt.datetime.fromtimestamp(message["date"], dt.UTC)
        if self.clock.now() - sent_at >= DELETE_WINDOW:
            return tg.error(400, "Bad Request: message can't be deleted"), 400
        self.sent[params["chat_id"]].remove(message)
        self.deleted[params["chat_id"]].append(message)
        return _ok(True)

    async def _m_getFile(self, params: Json) -> tuple[Json, int]:
        known = self.files.get(str(params.get("file_id")))
        if known is None:
            return tg.error(400, "Bad Request: invalid file_id"), 400
        path, content = known
        if len(content) > MAX_DOWNLOAD:
            return tg.error(400, "Bad Request: file is too big"), 400
        file_id = str(params["file_id"])
        file: Json = {"file_id": file_id, "file_unique_id": _unique(file_id)}
        return _ok({**file, "file_size": len(content), "file_path": path})

    async def _download(self, request: web.Request) -> web.Response:
        """The file URL getFile's `file_path` leads to (valid one hour on Telegram)."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        self.downloads.append(path)
        fault = self.faults["file"].popleft() if self.faults["file"] else None
        if fault in ("500", "502"):
            return web.json_response(_server_error(fault), status=int(fault))
        for known, content in self.files.values():
            if known == path:
                return web.Response(body=content, content_type="application/octet-stream")
        return web.json_response(tg.error(404, "Not Found"), status=404)

    async def _m_answerCallbackQuery(self, _: Json) -> tuple[Json, int]:
        return _ok(True)

    async def _m_getChatMember(self, params: Json) -> tuple[Json, int]:
        admin = params.get("user_id") in self.owners[params.get("chat_id", 0)]
        member: Json = {"status": "creator" if admin else "member", "user": tg.user(0)}
        member["user"]["id"] = params.get("user_id")
        if admin:
            member["is_anonymous"] = False
        return _ok(member)

    async def _m_setMyCommands(self, params: Json) -> tuple[Json, int]:
        self.commands = list(params.get("commands") or [])
        return _ok(True)

    async def _m_setWebhook(self, params: Json) -> tuple[Json, int]:
        self.webhook = params
        return _ok(True)

    async def _m_deleteWebhook(self, _: Json) -> tuple[Json, int]:
        self.webhook = None
        return _ok(True)

    async def _m_getWebhookInfo(self, _: Json) -> tuple[Json, int]:
        url = self.webhook.get("url", "") if self.webhook else ""
        return _ok({"url": url, "has_custom_certificate": False, "pending_update_count": 0})

    def _find(self, params: Json) -> Json | None:
        for message in self.sent.get(params.get("chat_id", 0), []):
            if message["message_id"] == params.get("message_id"):
                return message
        return None


def _server_error(fault: str) -> Json:
    return tg.error(int(fault), "Internal Server Error" if fault == "500" else "Bad Gateway")


def _unique(file_id: str) -> str:
    return f"AgAD-{file_id.rsplit('-', 1)[1]}"


def _extension(name: str) -> str:
    return name[name.rfind(".") :] if "." in name else ""


def _id(update: Json) -> int:
    value = update.get("update_id")
    return value if isinstance(value, int) else 1 << 62


def _ok(result: Any) -> tuple[Json, int]:
    return {"ok": True, "result": result}, 200


async def _params(request: web.Request) -> Json:
    """Bot API parameters come as query string, form, multipart or JSON; normalise them."""
    params: Json = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.can_read_body:
        params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    for key, value in list(params.items()):
        if key in JSON_FIELDS and isinstance(value, str):
            params[key] = json.loads(value)
        elif (key in INT_FIELDS or key == "chat_id") and isinstance(value, str):
            params[key] = int(value) if value.lstrip("-").isdigit() else value
    return params
