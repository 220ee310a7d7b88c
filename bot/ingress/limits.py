"""Connection limits of the ingress: how many may be open, and how long headers may take."""

# aiohttp bounds neither: a client trickling one header byte a second holds its connection
# forever. The body's own bound lives with the body read (`bot.ingress.app`).

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from bot.logs import get_logger

log = get_logger(component="ingress")

# Answer to a connection over the limit; written raw, before any request was read.
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 22\r\nConnection: close\r\n\r\ntoo many connections\r\n"
)
# At most one `ingress.connection_limit` line per this many seconds, with a count.
_LIMIT_LOG_INTERVAL = 10.0


class ConnectionGuard:
    """Closes connections whose headers are late, and refuses those over the limit."""

    def __init__(self, header_timeout: float, max_connections: int) -> None:
        self._header_timeout = header_timeout
        self._max_connections = max_connections
        self._transports: dict[RequestHandler, asyncio.Transport] = {}
        self._timers: dict[RequestHandler, asyncio.TimerHandle] = {}
        self._active: dict[RequestHandler, int] = {}
        self._refused_since_log = 0
        self._last_limit_log = float("-inf")

    @property
    def open_connections(self) -> int:
        """Connections being served now."""
        return len(self._transports)

    def attach(self, server: web.Server) -> None:
        """Watch every connection `server` makes (call before the site starts listening)."""
        made, lost = server.connection_made, server.connection_lost

        def connection_made(handler: RequestHandler, transport: asyncio.Transport) -> None:
            made(handler, transport)
            self._opened(handler, transport)

        def connection_lost(handler: RequestHandler, exc: BaseException | None = None) -> None:
            lost(handler, exc)
            self._closed(handler)

        # aiohttp offers no hook per connection; its Server's two callbacks are the seam.
        server.connection_made = connection_made  # type: ignore[method-assign]
        server.connection_lost = connection_lost  # type: ignore[method-assign]

    def middleware(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        """The middleware telling the guard when a request's headers are in and it is done."""

        @web.middleware
        async def headers_in_time(
            request: web.Request,
            handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        ) -> web.StreamResponse:
            protocol = request.protocol
            self._request_started(protocol)
            try:
                return await handler(request)
            finally:
                self._request_finished(protocol)

        return headers_in_time

    def _opened(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        if len(self._transports) >= self._max_connections:
            # Not right away: aiohttp starts the connection's task after this callback, and
            # that task must already run when the connection is lost.
            asyncio.get_running_loop().call_soon(self._refuse, transport)
            return
        self._transports[handler] = transport
        self._arm(handler)

    def _closed(self, handler: RequestHandler) -> None:
        self._disarm(handler)
        self._transports.pop(handler, None)
        self._active.pop(handler, None)

    def _request_started(self, handler: RequestHandler) -> None:
        self._active[handler] = self._active.get(handler, 0) + 1
        self._disarm(handler)

    def _request_finished(self, handler: RequestHandler) -> None:
        left = self._active.get(handler, 1) - 1
        self._active[handler] = left
        # A kept-alive connection gets the same time for its next request's headers.
        if left == 0 and handler in self._transports:
            self._arm(handler)

    def _arm(self, handler: RequestHandler) -> None:
        self._disarm(handler)
        loop = asyncio.get_running_loop()
        self._timers[handler] = loop.call_later(self._header_timeout, self._expire, handler)

    def _disarm(self, handler: RequestHandler) -> None:
        timer = self._timers.pop(handler, None)
        if timer is not None:
            timer.cancel()

    def _expire(self, handler: RequestHandler) -> None:
        self._timers.pop(handler, None)
        transport = self._transports.get(handler)
        if transport is None:
            return
        log.warning(
            "ingress.header_timeout",
            peer=_peer(transport),
            timeout_seconds=self._header_timeout,
        )
        transport.close()

    def _refuse(self, transport: asyncio.Transport) -> None:
        self._refused_since_log += 1
        now = asyncio.get_running_loop().time()
        if now - self._last_limit_log >= _LIMIT_LOG_INTERVAL:
            log.warning(
                "ingress.connection_limit",
                max_connections=self._max_connections,
                refused=self._refused_since_log,
            )
            self._last_limit_log = now
            self._refused_since_log = 0
        transport.write(_BUSY)
        transport.close()


def _peer(transport: asyncio.Transport) -> str:
    peer = transport.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else "-"
