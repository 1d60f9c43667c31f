"""AiohttpRequest against real servers on 127.0.0.1 (never any other network), and
`may_have_arrived` on its errors and on those of PTB's own httpx request class."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import httpx
import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.connectors.telegram.api import seconds
from bot.connectors.telegram.request import (
    AiohttpRequest,
    NotSentError,
    WriteTimeoutError,
    may_have_arrived,
)
from tests.fakes.telegram_server import FakeTelegram

Json = dict[str, object]
BIG = 32 * 1024 * 1024  # more than loopback socket buffers hold: a peer that does not read stalls


def data(**params: object) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in params.items()])


@dataclass
class Server:
    url: str
    seen: list[str] = field(default_factory=list)  # paths of the requests that arrived
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    """/echo describes the request; /slow?delay=s answers after s seconds."""
    state = Server("")

    async def echo(request: web.Request) -> web.Response:
        state.seen.append(request.path)
        state.arrived.set()
        fields: Json = {}
        files: Json = {}
        if request.can_read_body:
            for name, value in (await request.post()).items():
                if isinstance(value, str):
                    fields[name] = value
                elif isinstance(value, web.FileField):
                    files[name] = {
                        "filename": value.filename,
                        "content_type": value.content_type,
                        "content": value.file.read().decode(),
                    }
        answer = {
            "method": request.method,
            "content_type": request.content_type,
            "user_agent": request.headers.get("User-Agent"),
            "fields": fields,
            "files": files,
        }
        return web.json_response(answer)

    async def slow(request: web.Request) -> web.Response:
        state.seen.append(request.path)
        state.arrived.set()
        await asyncio.sleep(float(request.query["delay"]))
        return web.json_response({"ok": True}, status=201)

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_route("*", "/slow", slow)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.url = f"http://{host}:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def raw() -> AsyncIterator[Callable[[RawHandler], Awaitable[str]]]:
    """Bare TCP servers that misbehave in ways an HTTP framework would not."""
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []

    async def start(handler: RawHandler) -> str:
        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            await handler(reader, writer)

        srv = await asyncio.start_server(tracked, "127.0.0.1", 0)
        servers.append(srv)
        host, port = srv.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    try:
        yield start
    finally:
        for writer in writers:
            writer.close()
        for srv in servers:
            srv.close()
            await srv.wait_closed()


@pytest.fixture
async def request_() -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest(read_timeout=2.0, write_timeout=2.0, connect_timeout=2.0)
    async with request:
        yield request


def free_port() -> int:
    """A port nobody listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# Success ---------------------------------------------------------------------------------------


async def test_an_answer_comes_back_as_status_and_body(
    server: Server, request_: AiohttpRequest
) -> None:
    status, body = await request_.do_request(f"{server.url}/slow?delay=0", "GET")
    assert (status, json.loads(body)) == (201, {"ok": True})


async def test_parameters_go_as_form_fields_with_ptbs_user_agent(
    server: Server, request_: AiohttpRequest
) -> None:
    params = data(chat_id=42, text="héllo & co", reply_markup={"inline_keyboard": []})
    status, body = await request_.do_request(f"{server.url}/echo", "POST", params)
    answer = json.loads(body)
    assert status == 200
    assert answer["content_type"] == "application/x-www-form-urlencoded"
    assert answer["user_agent"] == BaseRequest.USER_AGENT
    assert answer["fields"] == {
        "chat_id": "42",
        "text": "héllo & co",
        "reply_markup": '{"inline_keyboard": []}',
    }


async def test_a_large_form_body_goes_through_the_timed_writer_whole(
    server: Server, request_: AiohttpRequest
) -> None:
    text = "é" * 40_000  # past the size below which writes cannot block and are not timed
    _, body = await request_.do_request(f"{server.url}/echo", "POST", data(text=text))
    assert json.loads(body)["fields"] == {"text": text}


async def test_a_request_without_parameters_has_no_body(
    server: Server, request_: AiohttpRequest
) -> None:
    _, body = await request_.do_request(f"{server.url}/echo", "POST", data())
    assert json.loads(body)["fields"] == {}


async def test_files_are_uploaded_as_multipart_next_to_the_fields(
    server: Server, request_: AiohttpRequest
) -> None:
    params = data(
        chat_id=7,
        caption="légende",
        document=InputFile(b"file content", filename="notes.txt"),
    )
    assert params.multipart_data  # PTB's (filename, content, mimetype) tuples
    _, body = await request_.do_request(f"{server.url}/echo", "POST", params)
    answer = json.loads(body)
    assert answer["content_type"] == "multipart/form-data"
    assert answer["fields"] == {"chat_id": "7", "caption": "légende"}
    assert answer["files"] == {
        "document": {
            "filename": "notes.txt",
            "content_type": "text/plain",
            "content": "file content",
        }
    }


# Timeouts ----------------------------------------------------------------------------------------


async def test_a_late_answer_times_out_and_may_have_arrived(server: Server) -> None:
    async with AiohttpRequest(read_timeout=0.05) as request:
        with pytest.raises(TimedOut) as caught:
            await request.do_request(f"{server.url}/slow?delay=0.5", "POST", data(a=1))
    assert isinstance(caught.value.__cause__, aiohttp.SocketTimeoutError)
    assert may_have_arrived(caught.value)
    assert server.seen == ["/slow"]


async def test_a_per_call_read_timeout_overrides_the_default(server: Server) -> None:
    async with AiohttpRequest(read_timeout=0.05) as request:
        status, _ = await request.do_request(
            f"{server.url}/slow?delay=0.1", "POST", read_timeout=2.0
        )
        assert status == 201
        with pytest.raises(TimedOut):  # the default still holds for the next call
            await request.do_request(f"{server.url}/slow?delay=0.1", "POST")
    async with AiohttpRequest(read_timeout=2.0) as request:
        with pytest.raises(TimedOut):
            await request.do_request(f"{server.url}/slow?delay=0.5", "POST", read_timeout=0.05)


async def test_an_exhausted_pool_times_out_without_sending(server: Server) -> None:
    async with AiohttpRequest(connection_pool_size=1, read_timeout=2.0, pool_timeout=0.02) as r:
        busy = asyncio.create_task(r.do_request(f"{server.url}/slow?delay=0.2", "POST"))
        await server.arrived.wait()
        with pytest.raises(TimedOut, match=r"Pool timeout.*\*not\* sent") as caught:
            await r.do_request(f"{server.url}/echo", "POST")
        assert not may_have_arrived(caught.value)
        assert isinstance(caught.value.__cause__, NotSentError)
        with pytest.raises(TimedOut):  # a per-call pool timeout too
            await r.do_request(f"{server.url}/echo", "POST", pool_timeout=0.01)
        assert (await busy)[0] == 201
        assert (await r.do_request(f"{server.url}/echo", "POST"))[0] == 200  # slot is back
    assert server.seen == ["/slow", "/echo"]


async def stalled_upload(
    raw: Callable[[RawHandler], Awaitable[str]], request: AiohttpRequest, **timeouts: float
) -> TimedOut:
    """Upload a big file to a server that never reads: the writes block, then time out."""
    done = asyncio.Event()

    async def deaf(_: asyncio.StreamReader, __: asyncio.StreamWriter) -> None:
        await done.wait()

    url = await raw(deaf)
    try:
        with pytest.raises(TimedOut) as caught:
            await request.do_request(
                f"{url}/upload", "POST", data(document=InputFile(b"x" * BIG)), **timeouts
            )
    finally:
        done.set()
    # aiohttp reports the failed body write as a ClientConnectionError caused by ours.
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectionError)
    assert isinstance(caught.value.__cause__.__cause__, WriteTimeoutError)
    return caught.value


async def test_uploads_use_the_media_write_timeout(
    raw: Callable[[RawHandler], Awaitable[str]],
) -> None:
    async with AiohttpRequest(write_timeout=30.0, media_write_timeout=0.05) as request:
        error = await stalled_upload(raw, request)
    assert may_have_arrived(error)  # part of the body may sit in the peer's buffers


async def test_a_per_call_write_timeout_overrides_the_media_one(
    raw: Callable[[RawHandler], Awaitable[str]],
) -> None:
    async with AiohttpRequest(media_write_timeout=30.0) as request:
        await stalled_upload(raw, request, write_timeout=0.05)


# Connection failures ---------------------------------------------------------------------------


async def test_a_refused_connection_surely_did_not_send(request_: AiohttpRequest) -> None:
    with pytest.raises(NetworkError, match=r"^aiohttp\.ClientConnectorError: ") as caught:
        await request_.do_request(f"http://127.0.0.1:{free_port()}/bot/sendMessage", "POST")
    error = caught.value
    assert not isinstance(error, TimedOut)
    assert isinstance(error.__cause__, NotSentError)
    assert isinstance(error.__cause__.__cause__, aiohttp.ClientConnectorError)
    assert not may_have_arrived(error)


async def test_an_unusable_url_is_not_sent_and_its_token_not_quoted(
    request_: AiohttpRequest,
) -> None:
    """aiohttp quotes the URL in some messages; error messages end up stored, not only logged."""
    with pytest.raises(NetworkError, match=r"NonHttpUrlClientError") as caught:
        await request_.do_request("ftp://127.0.0.1/bot123:SECRET-token/sendMessage", "POST")
    assert "SECRET" not in caught.value.message
    assert "SECRET" not in str(caught.value.__cause__)
    assert caught.value.message.endswith("ftp://127.0.0.1/…/sendMessage")
    assert not may_have_arrived(caught.value)


async def test_a_connection_closed_while_waiting_for_the_answer_may_have_arrived(
    raw: Callable[[RawHandler], Awaitable[str]], request_: AiohttpRequest
) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")  # the whole request (no body) arrived
        writer.close()

    url = await raw(hang_up)
    with pytest.raises(NetworkError, match=r"^aiohttp\.ServerDisconnectedError") as caught:
        await request_.do_request(f"{url}/sendMessage", "POST")
    assert not isinstance(caught.value, TimedOut)
    assert isinstance(caught.value.__cause__, aiohttp.ServerDisconnectedError)
    assert may_have_arrived(caught.value)


async def test_a_connection_reset_while_waiting_for_the_answer_may_have_arrived(
    raw: Callable[[RawHandler], Awaitable[str]], request_: AiohttpRequest
) -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # RST instead of FIN

    url = await raw(reset)
    with pytest.raises(NetworkError, match=r"^aiohttp\.") as caught:
        await request_.do_request(f"{url}/sendMessage", "POST")
    assert may_have_arrived(caught.value)


# Lifecycle -------------------------------------------------------------------------------------


async def test_lifecycle_mirrors_httpxrequest(server: Server) -> None:
    request = AiohttpRequest()
    assert request.read_timeout == 5.0
    # Like HTTPXRequest, usable before initialize (PTB does not require it)…
    assert (await request.do_request(f"{server.url}/echo", "GET"))[0] == 200
    await request.initialize()
    await request.initialize()
    await request.shutdown()
    await request.shutdown()
    # …but not after shutdown, until initialised again.
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{server.url}/echo", "GET")
    async with request:
        assert (await request.do_request(f"{server.url}/echo", "GET"))[0] == 200


def test_a_pool_needs_a_connection() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AiohttpRequest(connection_pool_size=0)


# may_have_arrived --------------------------------------------------------------------------------


def caused(error: TelegramError, cause: BaseException | None) -> TelegramError:
    error.__cause__ = cause
    return error


HTTPX_REQUEST = httpx.Request("POST", "http://127.0.0.1/bot/sendMessage")


@pytest.mark.parametrize(
    ("error", "arrived"),
    [
        # PTB's HTTPXRequest: these never wrote a byte…
        (caused(NetworkError("x"), httpx.ConnectError("refused", request=HTTPX_REQUEST)), False),
        (caused(TimedOut(), httpx.ConnectTimeout("slow", request=HTTPX_REQUEST)), False),
        (caused(TimedOut("Pool timeout"), httpx.PoolTimeout("full", request=HTTPX_REQUEST)), False),
        # …these may have been processed.
        (caused(TimedOut(), httpx.ReadTimeout("late", request=HTTPX_REQUEST)), True),
        (caused(TimedOut(), httpx.WriteTimeout("stuck", request=HTTPX_REQUEST)), True),
        (caused(NetworkError("x"), httpx.ReadError("reset", request=HTTPX_REQUEST)), True),
        (
            caused(NetworkError("x"), httpx.RemoteProtocolError("closed", request=HTTPX_REQUEST)),
            True,
        ),
        # Answers from the server: an HTTP 5xx (no cause, or an unreadable error page)…
        (caused(NetworkError("Bad Gateway"), None), False),
        (
            caused(NetworkError("Bad Gateway (502)"), TelegramError("Invalid server response")),
            False,
        ),
        # …and errors that are not about the network at all.
        (Forbidden("Forbidden: bot was blocked by the user"), False),
        (RetryAfter(3), False),
        # Our own marker, and anything unknown is in doubt.
        (caused(NetworkError("x"), NotSentError("refused")), False),
        (caused(NetworkError("x"), aiohttp.ServerDisconnectedError()), True),
        (caused(NetworkError("Unknown error in HTTP implementation"), ValueError()), True),
    ],
)
def test_may_have_arrived(error: TelegramError, arrived: bool) -> None:
    assert may_have_arrived(error) is arrived


# A whole PTB Bot against the fake Bot API ------------------------------------------------------


def bot_for(fake: FakeTelegram, read_timeout: float = 5.0) -> Bot:
    return Bot(
        fake.token,
        base_url=f"{fake.url}/bot",
        request=AiohttpRequest(read_timeout=read_timeout),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )


async def test_a_ptb_bot_works_through_aiohttp(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:  # initialize() calls getMe
        assert bot.username == "tnl_bot"
        message = await bot.send_message(501, "Bonjour <b>tous</b>", parse_mode="HTML")
        assert message.chat.id == 501
        assert fake.texts(501) == ["Bonjour tous"]
        assert await bot.get_updates(timeout=0) == ()

        with pytest.raises(RetryAfter) as flood:  # a second message at once to the same chat
            await bot.send_message(501, "encore")
        assert seconds(flood.value.retry_after) > 0

        fake.blocked[502] = "Forbidden: bot was blocked by the user"
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(502, "coucou")
        with pytest.raises(BadRequest):
            await bot.send_message(503, "")

        fake.fail_next("sendMessage", "502")
        with pytest.raises(NetworkError) as failed:
            await bot.send_message(504, "plus tard")
        assert not may_have_arrived(failed.value)  # the server said it did not process it
        assert fake.texts(504) == []
    assert [c.method for c in fake.calls][:2] == ["getMe", "sendMessage"]


async def test_a_ptb_send_that_timed_out_may_have_arrived(fake: FakeTelegram) -> None:
    fake.hang = 0.3
    fake.fail_next("sendMessage", "timeout")
    async with bot_for(fake, read_timeout=0.05) as bot:
        with pytest.raises(TimedOut) as caught:
            await bot.send_message(601, "peut-être")
    assert may_have_arrived(caught.value)
    assert fake.texts(601) == ["peut-être"]  # it had arrived indeed


async def test_a_wrong_token_is_invalid(fake: FakeTelegram) -> None:
    requests = AiohttpRequest(), AiohttpRequest()
    bot = Bot(
        "123:wrong-token-for-tests",
        f"{fake.url}/bot",
        request=requests[0],
        get_updates_request=requests[1],
    )
    try:
        with pytest.raises(InvalidToken):
            await bot.initialize()
    finally:
        for request in requests:  # initialize failed: Bot.shutdown() would skip them
            await request.shutdown()
