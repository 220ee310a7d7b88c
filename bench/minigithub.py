"""A minimal GitHub for benchmarks: just the calls a policy check makes, an optional delay,
and every request timed. The same server stands behind ferrybot and Probot.

Paths are served with and without the `/api/v3` prefix (GitHub Enterprise's, which Probot
uses when GHE_HOST is set). A label write can echo back as the `labeled` webhook GitHub
would send, signed, to the bot's ingress.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

SAMPLE = (
    Path(__file__).resolve().parent.parent / "tests/data/github/webhooks/pull_request.opened.0.json"
)
INSTALLATION_ID = 1


@dataclass
class Request:
    """One request the bot made: when it arrived, what it was, and the head SHA it named."""

    at: float
    method: str
    path: str
    head_sha: str | None = None


@dataclass
class MiniGitHub:
    """Serve on 127.0.0.1:port; `delay` seconds before every answer (real GitHub is slow)."""

    delay: float = 0.0
    app_slug: str = "ferrybot"
    echo_url: str | None = None
    echo_secret: str = ""
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    _runs: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None
    _echoes: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        """The API base URL (no prefix)."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on a free port."""
        app = web.Application()
        for prefix in ("", "/api/v3"):
            app.router.add_post(prefix + "/app/installations/{id}/access_tokens", self._token)
            app.router.add_get(prefix + "/app", self._app)
            app.router.add_post(prefix + "/repos/{owner}/{repo}/check-runs", self._create_run)
            app.router.add_patch(prefix + "/repos/{owner}/{repo}/check-runs/{id}", self._patch_run)
            app.router.add_get(
                prefix + "/repos/{owner}/{repo}/commits/{ref}/check-runs", self._list_runs
            )
            app.router.add_post(
                prefix + "/repos/{owner}/{repo}/issues/{number}/labels", self._add_labels
            )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        """Stop serving."""
        for task in list(self._echoes):
            task.cancel()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def reset(self) -> None:
        """Forget the requests so far (after a warm-up)."""
        self.requests.clear()

    async def _answer(
        self, request: web.Request, body: Any, status: int = 200, head_sha: str | None = None
    ) -> web.Response:
        self.requests.append(Request(time.perf_counter(), request.method, request.path, head_sha))
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response(body, status=status)

    async def _token(self, request: web.Request) -> web.Response:
        expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
        body = {"token": "ghs_" + uuid.uuid4().hex, "expires_at": expires, "permissions": {}}
        return await self._answer(request, body, 201)

    async def _app(self, request: web.Request) -> web.Response:
        return await self._answer(request, {"id": 1, "slug": self.app_slug, "name": self.app_slug})

    async def _create_run(self, request: web.Request) -> web.Response:
        data = await request.json()
        run = {"id": next(self._runs), **data}
        return await self._answer(request, run, 201, head_sha=data.get("head_sha"))

    async def _patch_run(self, request: web.Request) -> web.Response:
        data = await request.json()
        return await self._answer(request, {"id": int(request.match_info["id"]), **data})

    async def _list_runs(self, request: web.Request) -> web.Response:
        return await self._answer(request, {"total_count": 0, "check_runs": []})

    async def _add_labels(self, request: web.Request) -> web.Response:
        data = await request.json()
        names = list(data.get("labels", []))
        answer = await self._answer(request, [{"name": name} for name in names])
        if self.echo_url is not None:
            number = int(request.match_info["number"])
            repo = f"{request.match_info['owner']}/{request.match_info['repo']}"
            for name in names:
                task = asyncio.create_task(self._echo(repo, number, name))
                self._echoes.add(task)
                task.add_done_callback(self._echoes.discard)
        return answer

    async def _echo(self, repo: str, number: int, label: str) -> None:
        # What GitHub sends after the bot's own label write: `labeled`, sent by the App.
        owner, name = repo.split("/")
        payload = json.loads(SAMPLE.read_text())
        payload["action"] = "labeled"
        payload["number"] = payload["pull_request"]["number"] = number
        payload["label"] = {"name": label}
        payload["pull_request"]["labels"] = [{"name": label}]
        payload["repository"].update(name=name, full_name=repo)
        payload["repository"]["owner"]["login"] = owner
        payload["sender"] = {"login": f"{self.app_slug}[bot]", "type": "Bot", "id": 1}
        payload["installation"] = {"id": INSTALLATION_ID}
        body = json.dumps(payload).encode()
        signature = hmac.new(self.echo_secret.encode(), body, hashlib.sha256).hexdigest()
        assert self._session is not None and self.echo_url is not None
        async with self._session.post(
            self.echo_url,
            data=body,
            headers={
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": f"sha256={signature}",
                "Content-Type": "application/json",
            },
        ) as response:
            await response.read()
