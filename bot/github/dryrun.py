"""Dry run: GitHub writes are logged and recorded to a file, never sent."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import gidgethub.abc

from bot.logs import get_logger

log = get_logger(component="github.dry_run")

_JSON = {"content-type": "application/json; charset=utf-8"}


class DryRunRecorder:
    """Appends every GitHub write the bot would have made to a JSON-lines file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.calls: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def record(self, method: str, url: str, body: bytes) -> dict[str, Any]:
        """Remember one call and return a response body echoing it with an id."""
        data: Any = json.loads(body) if body else None
        call = {"method": method, "url": url, "body": data}
        self.calls.append(call)
        log.info("github.dry_run", method=method, url=url, body=data)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as record_file:
                record_file.write(json.dumps(call) + "\n")
        identifier = next(self._ids)
        echo = dict(data) if isinstance(data, dict) else {}
        return {**echo, "id": identifier, "number": identifier, "dry_run": True}


class DryRunGitHubAPI(gidgethub.abc.GitHubAPI):
    """Reads go to GitHub when a token is configured (else 404); writes go to the recorder."""

    def __init__(
        self,
        recorder: DryRunRecorder,
        requester: str,
        *,
        session: aiohttp.ClientSession,
        read_token: str | None = None,
        base_url: str,
    ) -> None:
        super().__init__(requester, oauth_token=read_token, base_url=base_url)
        self._recorder = recorder
        self._session = session

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        if method in ("GET", "HEAD"):
            if self.oauth_token is None:
                message = {
                    "message": "Not Found (dry run without GitHub credentials reads nothing)"
                }
                return 404, _JSON, json.dumps(message).encode()
            async with self._session.request(method, url, headers=headers) as response:
                return response.status, response.headers, await response.read()
        echo = self._recorder.record(method, url, body)
        if method == "DELETE":
            return 204, {}, b""
        return (201 if method == "POST" else 200), _JSON, json.dumps(echo).encode()

    async def sleep(self, seconds: float) -> None:
        """Never called: dry-run responses are never rate limited."""
