"""gidgethub over the shared aiohttp session, refreshing an expired token once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import gidgethub.aiohttp

TokenSource = Callable[[bool], Awaitable[str]]


class RefreshingGitHubAPI(gidgethub.aiohttp.GitHubAPI):
    """A GitHub client whose token comes from a source that can mint a new one."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        requester: str,
        *,
        token: str,
        token_source: TokenSource | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(session, requester, oauth_token=token, **kwargs)
        self._token_source = token_source

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
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
