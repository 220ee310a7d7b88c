"""gidgethub on the shared session: requests metered, expired tokens refreshed, writes paced."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import gidgethub.aiohttp

from bot.github.pacer import WRITE_METHODS, WritePacer
from bot.github.routes import route_template
from bot.metrics.definitions import (
    GITHUB_RATE_LIMIT_LIMIT,
    GITHUB_RATE_LIMIT_REMAINING,
    GITHUB_REQUEST_DURATION,
    GITHUB_REQUESTS,
)

TokenSource = Callable[[bool], Awaitable[str]]


class MeteredGitHubAPI(gidgethub.aiohttp.GitHubAPI):
    """A gidgethub client that counts requests by route template and keeps the rate-limit budget.

    `installation` labels the budget: an installation id, `token` or `app` (JWT calls).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        requester: str,
        *,
        installation: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(session, requester, **kwargs)
        self._installation = installation
        self._base_path = urlsplit(self.base_url).path.rstrip("/")

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        path = urlsplit(url).path.removeprefix(self._base_path)
        route = route_template(path)
        started = time.perf_counter()
        try:
            status, response_headers, response_body = await super()._request(
                method, url, headers, body
            )
        except (aiohttp.ClientError, TimeoutError):
            GITHUB_REQUESTS.labels(method=method, route=route, status="error").inc()
            raise
        GITHUB_REQUEST_DURATION.labels(method=method, route=route).observe(
            time.perf_counter() - started
        )
        GITHUB_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
        self._keep_budget(response_headers)
        return status, response_headers, response_body

    def _keep_budget(self, headers: Mapping[str, str]) -> None:
        remaining, limit = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-limit")
        if remaining is None or not remaining.isdigit():
            return
        # GitHub names a handful of buckets (core, search, graphql, ...); anything odd is one.
        resource = headers.get("x-ratelimit-resource", "core")
        if not resource.isidentifier() or len(resource) > 40:
            resource = "other"
        labels = {"installation": self._installation, "resource": resource}
        GITHUB_RATE_LIMIT_REMAINING.labels(**labels).set(int(remaining))
        if limit is not None and limit.isdigit():
            GITHUB_RATE_LIMIT_LIMIT.labels(**labels).set(int(limit))


class RefreshingGitHubAPI(MeteredGitHubAPI):
    """A GitHub client whose token comes from a source that can mint a new one."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        requester: str,
        *,
        token: str,
        installation: str,
        token_source: TokenSource | None = None,
        pacer: WritePacer | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(session, requester, installation=installation, oauth_token=token, **kwargs)
        self._token_source = token_source
        self._pacer = pacer

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        if self._pacer is None or method.upper() not in WRITE_METHODS:
            return await self._refreshing_request(method, url, headers, body)
        async with self._pacer.write():
            answer = await self._refreshing_request(method, url, headers, body)
        asked = _retry_after(answer[1]) if answer[0] in (403, 429) else None
        if asked is not None:
            self._pacer.back_off(asked)
        return answer

    async def _refreshing_request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        status, response_headers, response_body = await super()._request(method, url, headers, body)
        authorization = headers.get("authorization", "")
        # A 401 on an installation token means it expired or was revoked early: mint a new
        # one and try once more. A JWT request (App endpoints) is never retried here.
        if status == 401 and self._token_source and authorization.startswith("token "):
            token = await self._token_source(True)
            self.oauth_token = token
            retry_headers = {**headers, "authorization": f"token {token}"}
            return await super()._request(method, url, retry_headers, body)
        return status, response_headers, response_body


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")  # aiohttp's headers ignore case
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
