"""A python-telegram-bot request class on aiohttp, and the "may this send have arrived?" test.

Why not PTB's default `HTTPXRequest`: in the broadcast benchmark httpx spends about half of the
event loop's CPU per `sendMessage` (pool bookkeeping, cookie extraction, anyio wrappers).
aiohttp is already loaded for the web server and costs much less per request. `AiohttpRequest`
mirrors `telegram.request.HTTPXRequest` (PTB 22): same constructor timeouts and defaults,
per-call overrides, media write timeout for uploads, pool size and pool timeout, User-Agent,
HTTP/1.1, and the same exceptions (`TimedOut`, `NetworkError("aiohttp.<Class>: ...")`).

Deliveries must tell a send that surely did not leave (retry freely) from one that may have
reached Telegram (a retry may duplicate the message): see `may_have_arrived`. The request class
marks every "did not leave" failure explicitly by making a `NotSentError` the `__cause__` of
the `TelegramError` (the aiohttp error is in turn the cause of the marker, so tracebacks still
show it), instead of having callers guess from class names or messages.

Logging: the token is in every URL path (`/bot<token>/sendMessage`). aiohttp's client does not
log requests or URLs (checked in aiohttp 3.14's source: `aiohttp.client` logs only problems
reading .netrc and the proxy variables, neither holding the token, and connector close errors
as `%r` of the exception; `aiohttp.internal` logs cookie and stream internals; `aiohttp.access`
is the server's). Some aiohttp exception messages do quote the URL ("Connection timeout to
host http://…/bot<token>/…", "Can not write request body for …"): in tracebacks, the
runtime's log filter (`bot.runtime.logs`) masks the token like in any log record, and the
messages this module copies into `NetworkError` (which are also stored, e.g. in outbox attempt
details) have the URL's path masked here.
"""

from __future__ import annotations

import asyncio
import io
import ssl
from typing import Any, Final, cast
from urllib.parse import urlencode

import aiohttp
import httpx
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import BytesPayload, Payload
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest", "NotSentError", "WriteTimeoutError", "may_have_arrived"]

POOL_TIMEOUT_MESSAGE: Final = (
    "Pool timeout: All connections in the connection pool are occupied. "
    "Request was *not* sent to Telegram. Consider adjusting the connection "
    "pool size or the pool timeout."
)
FORM: Final = "application/x-www-form-urlencoded"
# aiohttp's stream writer only waits for the socket when more than 64 KiB are buffered; a body
# well below that is handed over without ever waiting, so it needs no write timer.
UNTIMED_BODY: Final = 16 * 1024
# Mirrors httpx's keepalive_expiry: an idle connection older than this is not reused, which
# keeps us clear of servers that drop idle connections (a POST on a connection the server has
# just closed fails "in doubt", and aiohttp rightly does not retry a POST).
KEEPALIVE: Final = 5.0

# httpx errors (PTB's HTTPXRequest) raised before a single byte of the request was written.
_HTTPX_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class NotSentError(Exception):
    """Cause of a `TimedOut`/`NetworkError` whose request surely never left this process:
    no connection could be had (refused, DNS, TLS, connect timeout, pool exhausted) or the URL
    was unusable. Its own `__cause__` is the original aiohttp error, when there is one."""


class WriteTimeoutError(Exception):
    """One write of the request body waited longer than the write timeout for the socket."""


def may_have_arrived(error: TelegramError) -> bool:
    """Whether the request that raised `error` may have reached Telegram and been processed.

    True only when the outcome is unknown: a `TimedOut` or `NetworkError` raised after the
    request may have been written (read or write timeout, connection reset or closed while
    waiting for the answer, truncated answer). A retry may then duplicate the message.

    False when the request surely did not leave: errors of `AiohttpRequest` marked with
    `NotSentError`, and httpx's ConnectError/ConnectTimeout/PoolTimeout from PTB's
    `HTTPXRequest` (both request classes may be in use). False too when the server answered:
    a `NetworkError` without a cause is PTB's translation of an HTTP 5xx answer (Telegram said
    it did not process the request), one caused by a `TelegramError` is a 5xx whose body was
    not JSON (a gateway's error page), and non-network errors (400, 403, 429…) are answers.
    """
    if not isinstance(error, NetworkError):
        return False
    cause = error.__cause__
    if cause is None or isinstance(cause, TelegramError):
        return False
    return not isinstance(cause, (NotSentError, *_HTTPX_NOT_SENT))


def _not_sent(err: BaseException, url: str) -> NotSentError:
    marker = NotSentError(f"request not sent: {_describe(err, url)}")
    marker.__cause__ = err
    return marker


def _describe(err: BaseException, url: str) -> str:
    """`aiohttp.<Class>: <message>`, the class helping when the message is empty (as with
    ServerDisconnectedError). Some aiohttp messages quote the request URL, whose path holds the
    token; unlike a log line, an error message is also stored (outbox attempt details), where
    the log redaction cannot reach: the path before the method is masked here."""
    text = f"aiohttp.{type(err).__name__}: {err}"
    rest = url.partition("?")[0].partition("://")[2]  # by hand: the URL may not even parse
    directory = rest[rest.find("/") :].rpartition("/")[0] if "/" in rest else ""
    return text.replace(directory, "/…") if len(directory) > 1 else text


class AiohttpRequest(BaseRequest):
    """`telegram.request.BaseRequest` on aiohttp; the arguments mean what `HTTPXRequest`'s do.

    Args:
        connection_pool_size: most connections open at once; more requests wait for a free one.
        read_timeout: seconds to wait for each piece of the answer once the request was written.
        write_timeout: seconds each write of the request may wait for the socket.
        connect_timeout: seconds to resolve the name and open the connection (TLS included).
        pool_timeout: seconds to wait for a free connection; then `TimedOut`, nothing sent.
        media_write_timeout: `write_timeout` of requests that upload files.

    `None` means no limit. The aiohttp session is created inside the running event loop, by
    `initialize` or by the first request (an `HTTPXRequest` also works before `initialize`,
    and PTB does not require it); after `shutdown`, requests raise `RuntimeError` until
    `initialize` is called again.
    """

    __slots__ = (
        "_closed",
        "_connect_timeout",
        "_default_timeout",
        "_media_write_timeout",
        "_pool",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._default_timeout = _client_timeout(connect_timeout, read_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._pool: asyncio.Semaphore | None = None
        self._closed = False

    @property
    def read_timeout(self) -> float | None:
        """See `BaseRequest.read_timeout`: the default read timeout given at construction."""
        return self._read_timeout

    async def initialize(self) -> None:
        """See `BaseRequest.initialize`. Idempotent."""
        self._open()

    async def shutdown(self) -> None:
        """See `BaseRequest.shutdown`. Idempotent; closes the pooled connections."""
        self._closed = True
        session, self._session, self._pool = self._session, None, None
        if session is not None and not session.closed:
            await session.close()

    def _open(self) -> aiohttp.ClientSession:
        # Synchronous on purpose: concurrent first requests cannot build two sessions.
        if self._session is None or self._session.closed:
            # Built here, not in __init__: the session, its connector and the semaphore belong
            # to the running loop, and a request may be re-initialised on another loop.
            connector = aiohttp.TCPConnector(
                limit=self._pool_size,
                keepalive_timeout=KEEPALIVE,
                ssl=_ssl_context(),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                # Telegram sets no cookies; a dummy jar skips parsing Set-Cookie on every answer.
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=self._default_timeout,
                # HTTPS_PROXY/NO_PROXY from the environment, as with PTB's httpx client: a
                # collectivity's network may only reach Telegram through its proxy.
                trust_env=True,
            )
            self._pool = asyncio.Semaphore(self._pool_size)
        self._closed = False
        return self._session

    async def do_request(  # noqa: PLR0917  (the signature is BaseRequest's)
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See `BaseRequest.do_request`."""
        if self._closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        session = self._open()
        pool = self._pool
        assert pool is not None

        files = request_data.multipart_data if request_data is not None else None
        if isinstance(write_timeout, DefaultValue):
            write_timeout = self._media_write_timeout if files else self._write_timeout
        if isinstance(pool_timeout, DefaultValue):
            pool_timeout = self._pool_timeout
        body = _body(request_data, files, write_timeout)
        timeout = self._timeout(read_timeout, connect_timeout)

        # The pool is our semaphore rather than the connector's queue: waiting for a slot is
        # then timed on its own, as httpx's pool timeout is, and cannot be mistaken for a slow
        # connect. The connector's limit is the same number, so it never makes anyone wait.
        if pool.locked():
            try:
                async with asyncio.timeout(pool_timeout):
                    await pool.acquire()
            except TimeoutError as err:
                raise TimedOut(POOL_TIMEOUT_MESSAGE) from _not_sent(err, url)
        else:
            await pool.acquire()
        try:
            async with session.request(
                method, url, data=body, timeout=timeout, allow_redirects=False
            ) as response:
                return response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as err:
            raise _translate(err, url) from (_not_sent(err, url) if _never_sent(err) else err)
        finally:
            pool.release()

    def _timeout(self, read: ODVInput[float], connect: ODVInput[float]) -> aiohttp.ClientTimeout:
        if isinstance(read, DefaultValue) and isinstance(connect, DefaultValue):
            return self._default_timeout  # the common case, without a new object
        return _client_timeout(
            self._connect_timeout if isinstance(connect, DefaultValue) else connect,
            self._read_timeout if isinstance(read, DefaultValue) else read,
        )


def _never_sent(err: BaseException) -> bool:
    """Raised before the request was written: while getting a connection (name resolution,
    TCP, TLS, connect timeout) or because the URL is unusable."""
    return isinstance(
        err,
        (
            aiohttp.ConnectionTimeoutError,
            aiohttp.ClientConnectorError,
            aiohttp.InvalidURL,
            aiohttp.NonHttpUrlClientError,
        ),
    )


def _translate(err: BaseException, url: str) -> TelegramError:
    """PTB's exceptions for aiohttp's, as HTTPXRequest does for httpx's: any timeout (connect,
    read, or a body write that found the socket blocked) is `TimedOut`, the rest
    `NetworkError` naming aiohttp's class."""
    if isinstance(err, TimeoutError) or isinstance(err.__cause__, WriteTimeoutError):
        return TimedOut()
    return NetworkError(_describe(err, url))


def _client_timeout(connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
    """`connect` bounds name resolution and opening the connection (sock_connect: each TCP
    attempt), as httpx's connect timeout does; `sock_read` bounds each wait for the answer and
    starts once the request is written, like httpx's read timeout. No `total`: httpx has none
    (aiohttp's default session timeout would cut off long polls after 5 minutes)."""
    return aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect, sock_read=read)


def _ssl_context() -> ssl.SSLContext:
    """The CA bundle httpx uses (certifi, a dependency of httpx), so that switching request
    classes does not change which servers are trusted; the system store otherwise."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - httpx depends on certifi
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _body(
    request_data: RequestData | None, files: dict[str, Any] | None, write_timeout: float | None
) -> Payload | None:
    """Parameters as form fields, like HTTPXRequest's `data=`: urlencoded, or multipart next to
    the files, each an `InputFile.field_tuple` (filename, bytes or binary file, mimetype)."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    if not files:
        if not fields:
            return None
        encoded = urlencode(fields).encode()
        payload: Payload = BytesPayload(encoded, content_type=FORM)
        if len(encoded) < UNTIMED_BODY or write_timeout is None:
            return payload
        return _TimedPayload(payload, write_timeout)
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        # A file object rather than bytes: aiohttp then writes it in chunks (each one timed),
        # and does not warn that a big bytes body may block the loop.
        part = io.BytesIO(content) if isinstance(content, bytes) else content
        form.add_field(name, part, filename=filename, content_type=mimetype)
    multipart = form()
    return multipart if write_timeout is None else _TimedPayload(multipart, write_timeout)


class _TimedWriter:
    """Stands in for aiohttp's stream writer while a body is written: each write that has to
    wait for the socket (the peer stopped reading) may wait `timeout` seconds, like httpx's
    write timeout. Everything else goes to the real writer."""

    def __init__(self, writer: AbstractStreamWriter, timeout: float) -> None:
        self._writer = writer
        self._timeout = timeout

    async def write(self, chunk: Any, *args: Any, **kwargs: Any) -> None:
        deadline = asyncio.timeout(self._timeout)
        try:
            async with deadline:
                await self._writer.write(chunk, *args, **kwargs)
        except TimeoutError as err:
            if not deadline.expired():
                raise
            # Not a TimeoutError/OSError: aiohttp then reports it as the cause of a
            # ClientConnectionError, where do_request finds it.
            raise WriteTimeoutError(f"write timed out after {self._timeout} s") from err

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


class _TimedPayload(Payload):
    """The real body (urlencoded or multipart), written through a `_TimedWriter`."""

    def __init__(self, inner: Payload, timeout: float) -> None:
        super().__init__(inner, headers=inner.headers)
        self._inner = inner
        self._timeout = timeout

    @property
    def size(self) -> int | None:
        return self._inner.size

    @property
    def consumed(self) -> bool:
        return self._inner.consumed

    @property
    def autoclose(self) -> bool:
        return self._inner.autoclose

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self._inner.decode(encoding, errors)

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self._inner.write(self._timed(writer))

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        await self._inner.write_with_length(self._timed(writer), content_length)

    def _timed(self, writer: AbstractStreamWriter) -> AbstractStreamWriter:
        # Duck-typed: payloads call write() and otherwise only pass through plain attributes.
        return cast(AbstractStreamWriter, _TimedWriter(writer, self._timeout))

    def _close(self) -> None:
        self._inner._close()

    async def close(self) -> None:
        await self._inner.close()
