"""The request pipeline: match, validate, inject failures, authenticate, serve, record."""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote

from aiohttp import web

from tests.fakegithub import auth
from tests.fakegithub.limits import length_problems
from tests.fakegithub.routing import ApiRequest, GitHubError, Reply, Violation
from tests.fakegithub.state import NotFound, now

if TYPE_CHECKING:
    from tests.fakegithub.server import FakeGitHub

FAKE_KEY: web.AppKey[FakeGitHub] = web.AppKey("fake_github")
# Probot and Octokit in GitHub Enterprise mode prefix every path with /api/v3.
ENTERPRISE_PREFIX = "/api/v3"
RATE_LIMIT = 5000


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
    path: str
    query: dict[str, str]
    body: Any
    status: int
    operation: str | None
    headers: dict[str, str] = field(repr=False)


async def handle(request: web.Request) -> web.StreamResponse:
    fake = request.app[FAKE_KEY]
    raw_path = request.raw_path.split("?", 1)[0]
    if raw_path.startswith(ENTERPRISE_PREFIX + "/"):
        raw_path = raw_path[len(ENTERPRISE_PREFIX) :]
    body_bytes = await request.read()
    query = dict(request.query)
    body: Any = None
    operation_key: str | None = None
    try:
        if body_bytes.strip():
            body = _parse_json(fake, request.method, raw_path, body_bytes)
        api_request, operation_key = _validated(
            fake, request, raw_path, query, body, bool(body_bytes.strip())
        )
        reply = _serve(fake, api_request, raw_path)
    except GitHubError as error:
        if error.violation:
            fake.record_violation(Violation(request.method, unquote(raw_path), (str(error),)))
        reply = Reply(error.status, error.body)
    response = _respond(request, reply)
    path = unquote(raw_path)
    fake.requests.append(RequestRecord(request.method, path, response.status))
    fake.calls.append(
        Call(
            request.method, path, query, body, response.status, operation_key, dict(request.headers)
        )
    )
    return response


def _parse_json(fake: FakeGitHub, method: str, path: str, data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        fake.record_violation(Violation(method, path, ("request body is not JSON",)))
        raise GitHubError(400, "Problems parsing JSON") from None


def _validated(
    fake: FakeGitHub,
    request: web.Request,
    raw_path: str,
    query: dict[str, str],
    body: Any,
    has_body: bool,
) -> tuple[ApiRequest, str]:
    method = request.method
    found = fake.description.match(method, raw_path)
    if found is None:
        reason = (
            f"{method} is not an operation on this path"
            if fake.description.path_exists(raw_path)
            else "no operation in GitHub's description matches this path"
        )
        fake.record_violation(Violation(method, unquote(raw_path), (reason,)))
        raise GitHubError(404, "Not Found")
    operation, raw_params = found
    params = {name: unquote(value) for name, value in raw_params.items()}
    path_problems = operation.path_problems(params)
    if path_problems:
        fake.record_violation(Violation(method, unquote(raw_path), tuple(path_problems)))
        raise GitHubError(404, "Not Found")
    # Unknown query parameters are recorded, but GitHub serves the request anyway.
    unknown = operation.unknown_query(query)
    refused = operation.query_problems(query) + operation.body_problems(body, has_body)
    refused += length_problems(operation.key, body)
    if unknown or refused:
        fake.record_violation(Violation(method, unquote(raw_path), (*unknown, *refused)))
    if refused:
        errors = [{"resource": "Request", "code": "invalid", "message": p} for p in refused]
        raise GitHubError(422, "Validation Failed", errors=errors)
    api_request = ApiRequest(
        fake=fake,
        operation=operation,
        path=operation.typed_path(params),
        query=operation.typed_query(query),
        body=body,
        headers=request.headers,
        url=str(request.url),
    )
    return api_request, operation.key


def _serve(fake: FakeGitHub, api_request: ApiRequest, raw_path: str) -> Reply:
    operation = api_request.operation
    for failure in fake.failures:
        if failure.matches(operation.method, unquote(raw_path)):
            failure.times -= 1
            return Reply(failure.status, failure.body, dict(failure.headers))
    route = fake.routes.get(operation.key)
    if route is None:
        raise GitHubError(501, f"the fake does not serve {operation.key} yet")
    credential = auth.bearer(api_request.headers.get("Authorization"))
    if credential is None:
        raise GitHubError(401, "Requires authentication")
    moment = now()
    if route.auth == "jwt":
        api_request.app = auth.verify_app_jwt(fake.state, credential, moment)
    else:
        if credential.count(".") == 2 and credential not in fake.state.tokens:
            raise GitHubError(
                401, "A JSON web token is not accepted here: exchange it for an installation token"
            )
        api_request.token = auth.known_token(fake.state, credential, moment)
        auth.check_permission(api_request.token, operation.method, operation.template)
    try:
        reply = route.handler(api_request)
    except NotFound:
        raise GitHubError(404, "Not Found") from None
    if reply.status in (200, 201) and operation.success_schema is not None and reply.raw is None:
        reply.body = fake.conform(operation, reply.body)
    return reply


def _respond(request: web.Request, reply: Reply) -> web.Response:
    headers = {
        "x-ratelimit-limit": str(RATE_LIMIT),
        "x-ratelimit-remaining": str(RATE_LIMIT - 1),
        "x-ratelimit-reset": str(int(time.time()) + 3600),
        "x-ratelimit-used": "1",
        "x-ratelimit-resource": "core",
        "x-github-media-type": "github.v3; format=json",
        "x-github-request-id": hashlib.sha1(str(id(request)).encode()).hexdigest()[:16].upper(),
        **reply.headers,
    }
    if reply.raw is not None:
        data = reply.raw
        content_type = "application/vnd.github.raw"
    elif reply.body is None and reply.status == 204:
        return web.Response(status=204, headers=headers)
    else:
        data = json.dumps(reply.body if reply.body is not None else {}).encode()
        content_type = "application/json"
    if request.method == "GET" and reply.status == 200:
        etag = headers.setdefault("ETag", f'"{hashlib.sha1(data).hexdigest()}"')
        if etag in _etags(request.headers.get("If-None-Match", "")):
            return web.Response(status=304, headers=headers)
    return web.Response(status=reply.status, body=data, headers=headers, content_type=content_type)


def _etags(header: str) -> set[str]:
    # Clients may send weak validators (W/"...") back; GitHub compares them weakly.
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


class RequestRecord(NamedTuple):
    """(method, path, status) of one request; compares equal to a plain tuple."""

    method: str
    path: str
    status: int
