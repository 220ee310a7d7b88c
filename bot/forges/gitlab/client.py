"""gidgetlab on the shared session: requests metered, rate limits turned into retries, dry run."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

import aiohttp
import gidgetlab.aiohttp

from bot.github.dryrun import DryRunRecorder
from bot.metrics.definitions import GITLAB_RATE_LIMIT_REMAINING, GITLAB_REQUESTS
from bot.pipeline.retry import TransientError
from bot.settings import Settings

USER_AGENT = "ferrybot"
_JSON = {"content-type": "application/json"}

# The path segment after one of these names is an identifier, named as in GitLab's docs.
_IDENTIFIER_AFTER = {
    "projects": ":id",
    "merge_requests": ":iid",
    "notes": ":note_id",
    "discussions": ":discussion_id",
    "statuses": ":sha",
    "commits": ":sha",
    "files": ":file_path",
    "branches": ":branch",
    "all": ":user_id",
    "pipelines": ":pipeline_id",
    "users": ":id",
}
_LITERAL = re.compile(r"[a-z_]{1,40}")


def route_template(path: str) -> str:
    """`/projects/a%2Fb/merge_requests/7/notes` → `/projects/:id/merge_requests/:iid/notes`.

    Identifiers never become metric labels: the label set stays as small as GitLab's API.
    """
    parts = [part for part in path.split("/") if part]
    shown = []
    for index, part in enumerate(parts):
        previous = parts[index - 1] if index else ""
        if previous in _IDENTIFIER_AFTER:
            shown.append(_IDENTIFIER_AFTER[previous])
        elif _LITERAL.fullmatch(part):
            shown.append(part)
        else:
            shown.append(":value")
    return "/" + "/".join(shown)


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """What GitLab asked us to wait: Retry-After, else until RateLimit-Reset; None if neither.

    GitLab does not send Retry-After on every 429, so the reset time is the fallback, and with
    neither the retry policy backs off exponentially.
    """
    for name, relative in (("retry-after", True), ("ratelimit-reset", False)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue
        wait = seconds if relative else seconds - (now if now is not None else time.time())
        return max(0.0, wait)
    return None


class GitLabClient(gidgetlab.aiohttp.GitLabAPI):
    """A gidgetlab client that counts requests by route and raises 429s as transient errors."""

    def __init__(self, session: aiohttp.ClientSession, *, url: str, token: str | None) -> None:
        super().__init__(session, USER_AGENT, access_token=token, url=url)
        self._api_path = urlsplit(self.api_url).path.rstrip("/")

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        route = route_template(urlsplit(url).path.removeprefix(self._api_path))
        try:
            status, response_headers, response_body = await self._send(method, url, headers, body)
        except (aiohttp.ClientError, TimeoutError):
            GITLAB_REQUESTS.labels(method=method, route=route, status="error").inc()
            raise
        GITLAB_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
        remaining = response_headers.get("ratelimit-remaining")
        if remaining is not None and remaining.isdigit():
            GITLAB_RATE_LIMIT_REMAINING.set(int(remaining))
        # gidgetlab's exceptions drop the headers, and with them the wait GitLab asked for.
        if status == 429 or (status == 403 and remaining == "0"):
            raise TransientError(
                f"GitLab rate limit on {method} {route} ({status})",
                retry_after(response_headers),
            )
        return status, response_headers, response_body

    async def _send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        return await super()._request(method, url, headers, body)


class DryRunGitLabClient(GitLabClient):
    """Reads go to GitLab when a token is configured (else 404); writes go to the recorder."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        recorder: DryRunRecorder,
        *,
        url: str,
        token: str | None,
    ) -> None:
        super().__init__(session, url=url, token=token)
        self._recorder = recorder

    async def _send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], bytes]:
        if method in ("GET", "HEAD"):
            if self.access_token is None:
                message = {
                    "message": "404 Not Found (dry run without a GitLab token reads nothing)"
                }
                return 404, _JSON, json.dumps(message).encode()
            return await super()._send(method, url, headers, body)
        echo = self._recorder.record(method, url, body)
        if method == "DELETE":
            return 204, {}, b""
        return (201 if method == "POST" else 200), _JSON, json.dumps(echo).encode()


def gitlab_client(
    settings: Settings, session: aiohttp.ClientSession, recorder: DryRunRecorder
) -> GitLabClient:
    """The one GitLab client ferrybot's token gives: real, or recording writes in dry run."""
    token = settings.gitlab_token.get_secret_value() if settings.gitlab_token else None
    if settings.gitlab_dry_run:
        return DryRunGitLabClient(session, recorder, url=settings.gitlab_url, token=token)
    return GitLabClient(session, url=settings.gitlab_url, token=token)
