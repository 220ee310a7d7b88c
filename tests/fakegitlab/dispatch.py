"""The request pipeline: match, authenticate, validate, inject failures, serve, record."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from tests.fakegitlab.params import nest, validate
from tests.fakegitlab.routing import (
    ApiRequest,
    GitLabError,
    Reply,
    Route,
    Violation,
    record_not_found,
)
from tests.fakegitlab.state import NotFound, User

if TYPE_CHECKING:
    from tests.fakegitlab.server import FakeGitLab

FAKE_KEY: web.AppKey[FakeGitLab] = web.AppKey("fake_gitlab")
API_ROOT = "/api/v4"
# GitLab.com's authenticated API limit per minute (doc/user/gitlab_com/_index.md).
RATE_LIMIT = 2000


@dataclass
class InjectedFailure:
    """An answer to give instead of serving, for the next `times` matching requests."""

    method: str
    path: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: Any
    times: int

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in (method, "*") and bool(self.path.search(path))


@dataclass(frozen=True)
class Call:
    """Everything about one request, for assertions beyond (method, path, status)."""

    method: str
    path: str  # URL-decoded, from /api/v4 on
    raw_path: str  # as sent, from /api/v4 on
    query: dict[str, Any]
    body: Any
    status: int
    route: str | None
    headers: dict[str, str] = field(repr=False)


class RequestRecord(NamedTuple):
    """(method, path, status) of one request; compares equal to a plain tuple."""

    method: str
    path: str
    status: int


async def handle(request: web.Request) -> web.StreamResponse:
    fake = request.app[FAKE_KEY]
    raw_path = request.raw_path.split("?", 1)[0]
    api_path = raw_path.removeprefix(fake.path_prefix)
    path = unquote(api_path)
    query = nest(parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True))
    body: Any = None
    route_key: str | None = None
    try:
        body = await _body(request)
        route, path_params = _route(fake, request.method, raw_path, api_path, path)
        route_key = route.key
        reply = _serve(fake, request, route, path_params, query, body, path)
    except GitLabError as error:
        if error.violation:
            fake.record_violation(Violation(request.method, path, (str(error),)))
        reply = Reply(error.status, error.body, error.headers)
    response = _respond(reply)
    fake.requests.append(RequestRecord(request.method, path, response.status))
    fake.calls.append(
        Call(
            request.method,
            path,
            api_path,
            query,
            body,
            response.status,
            route_key,
            dict(request.headers),
        )
    )
    return response


async def _body(request: web.Request) -> Any:
    """The body's parameters: JSON, or form fields with Rack's nested keys."""
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        return nest((k, v) for k, v in form.items() if isinstance(v, str))
    data = await request.read()
    if not data.strip():
        return None
    if request.content_type == "application/x-www-form-urlencoded":
        return nest(parse_qsl(data.decode(), keep_blank_values=True))
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        # Grape's invalid_message_body error (lib/grape/locale/en.yml).
        raise GitLabError(
            400, "message body does not match declared format", key="error", violation=True
        )
    return parsed


def _route(
    fake: FakeGitLab, method: str, raw_path: str, api_path: str, path: str
) -> tuple[Route, dict[str, str]]:
    # lib/api/api.rb ends in a catch-all `route :any, '*path'` answering
    # `error!('404 Not Found', 404)`, which Grape renders as {"error": ...}.
    if not raw_path.startswith(fake.path_prefix + API_ROOT + "/"):
        fake.record_violation(
            Violation(method, raw_path, (f"not under {fake.path_prefix}{API_ROOT}/",))
        )
        raise GitLabError(404, "404 Not Found", key="error")
    tail = api_path.removeprefix(API_ROOT)
    allowed: list[str] = []
    # Grape answers HEAD on every GET route.
    wanted = "GET" if method == "HEAD" else method
    for route in fake.routes:
        found = route.match(tail)
        if found is None:
            continue
        if route.method == wanted:
            return route, found
        allowed.append(route.method)
    if allowed:
        # Grape answers a known path with another method 405, naming the methods it has.
        fake.record_violation(Violation(method, path, (f"{method} is not an operation here",)))
        allow = ", ".join(sorted({*allowed, "OPTIONS"} | ({"HEAD"} if "GET" in allowed else set())))
        raise GitLabError(405, "405 Not Allowed", key="error", headers={"Allow": allow})
    reason = "no GitLab API operation matches this path (an unencoded '/' in :id or a file path?)"
    fake.record_violation(Violation(method, path, (reason,)))
    raise GitLabError(404, "404 Not Found", key="error")


def _serve(
    fake: FakeGitLab,
    request: web.Request,
    route: Route,
    path_params: dict[str, str],
    query: dict[str, Any],
    body: Any,
    path: str,
) -> Reply:
    user = None
    if route.auth == "token":
        user = _authenticate(fake, request)
    raw = {**query, **(body or {})}
    checked = validate(route.params, raw, at_least_one_of=route.at_least_one_of, ignore=path_params)
    # GitLab ignores parameters it does not declare; the client meant something it will not get.
    if checked.unknown or checked.problems:
        problems = [f"unknown parameter {name!r}" for name in checked.unknown] + checked.problems
        fake.record_violation(Violation(request.method, path, tuple(problems)))
    if checked.problems:
        raise GitLabError(400, ", ".join(checked.problems), key="error")
    for failure in fake.failures:
        if failure.matches(request.method, path):
            failure.times -= 1
            return _injected(failure)
    api_request = ApiRequest(
        fake=fake,
        route=route,
        path=path_params,
        params=checked.values,
        headers=request.headers,
        url=request.url,
        user=user,
    )
    try:
        return route.handler(api_request)
    except NotFound:
        raise record_not_found() from None


def _authenticate(fake: FakeGitLab, request: web.Request) -> User:
    token = request.headers.get("PRIVATE-TOKEN")
    authorization = request.headers.get("Authorization", "")
    if token is None and authorization[:7].lower() == "bearer ":
        token = authorization[7:].strip()
    username = fake.state.tokens.get(token or "")
    if username is None:
        raise GitLabError(401, "401 Unauthorized")
    return fake.state.user(username)


def _injected(failure: InjectedFailure) -> Reply:
    if isinstance(failure.body, bytes | str):
        raw = failure.body.encode() if isinstance(failure.body, str) else failure.body
        return Reply(
            failure.status, None, dict(failure.headers), raw=raw, content_type="text/plain"
        )
    return Reply(failure.status, failure.body, dict(failure.headers))


def _respond(reply: Reply) -> web.Response:
    # GitLab sends these on every API answer (doc/user/gitlab_com/_index.md, rate limits).
    headers = {
        "RateLimit-Limit": str(RATE_LIMIT),
        "RateLimit-Observed": "1",
        "RateLimit-Remaining": str(RATE_LIMIT - 1),
        "RateLimit-Reset": str(int(time.time()) + 60),
        "X-Request-Id": uuid.uuid4().hex[:26].upper(),
        **reply.headers,
    }
    if reply.raw is not None:
        return web.Response(
            status=reply.status, body=reply.raw, headers=headers, content_type=reply.content_type
        )
    if reply.status == 204:
        return web.Response(status=204, headers=headers)
    data = json.dumps(reply.body).encode()
    return web.Response(
        status=reply.status, body=data, headers=headers, content_type="application/json"
    )
