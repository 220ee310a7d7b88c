"""FakeGitHub: the aiohttp app, its lifecycle, and the knobs tests turn."""

from __future__ import annotations

import contextlib
import re
import socket
import sys
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from tests.fakegithub import (
    routes_actions,
    routes_apps,
    routes_checks,
    routes_git,
    routes_issues,
    routes_pulls,
    routes_repos,
)
from tests.fakegithub.conform import ResponseFiller
from tests.fakegithub.dispatch import (
    FAKE_KEY,
    Call,
    InjectedFailure,
    RequestRecord,
    handle,
)
from tests.fakegithub.queries import Queries
from tests.fakegithub.routing import Route, Violation
from tests.fakegithub.seeding import Seeding
from tests.fakegithub.spec import ApiDescription, Operation, load_description
from tests.fakegithub.state import GitHubState
from tests.fakegithub.webhooks import Webhooks

ROUTE_TABLES = (
    routes_apps,
    routes_repos,
    routes_checks,
    routes_issues,
    routes_pulls,
    routes_git,
    routes_actions,
)
DEFAULT_FAILURE_BODIES = {
    403: "API rate limit exceeded for installation.",
    429: "API rate limit exceeded for installation.",
}


class FakeGitHub(Seeding, Queries):
    """A GitHub REST server on 127.0.0.1 that serves from memory and refuses what GitHub would."""

    def __init__(
        self,
        *,
        token_ttl: float = 3600.0,
        description: ApiDescription | None = None,
        echo_violations: bool = False,
    ) -> None:
        self.state = GitHubState()
        self.description = description or load_description()
        self.routes: dict[str, Route] = {}
        for module in ROUTE_TABLES:
            self.routes.update(module.routes.routes)
        self.token_ttl = token_ttl
        self.echo_violations = echo_violations
        self.violations: list[Violation] = []
        self.requests: list[RequestRecord] = []
        self.calls: list[Call] = []
        self.failures: list[InjectedFailure] = []
        self.webhooks = Webhooks()
        self._filler = ResponseFiller(self.description.document)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """Base URL of the API, e.g. http://127.0.0.1:40123 (no trailing slash)."""
        if self._url is None:
            raise RuntimeError("FakeGitHub is not started: await fake.start() first")
        return self._url

    async def start(self, port: int = 0) -> str:
        """Listen on 127.0.0.1 (a free port unless given) and return the base URL."""
        app = web.Application(client_max_size=64 * 1024**2)
        app[FAKE_KEY] = self
        app.router.add_route("*", "/{tail:.*}", handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        site = web.SockSite(self._runner, sock)
        await site.start()
        self._url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self._url

    async def close(self) -> None:
        await self.webhooks.settle()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeGitHub:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        headers: dict[str, str] | None = None,
        times: int = 1,
        body: Any = None,
    ) -> None:
        """Answer the next `times` valid requests matching method ("*" for any) and path
        (re.search on the path without query) with status instead of serving them."""
        if body is None:
            message = DEFAULT_FAILURE_BODIES.get(
                status, "Server Error" if status >= 500 else "Error"
            )
            body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
        self.failures.append(
            InjectedFailure(
                method.upper(), re.compile(path_regex), status, dict(headers or {}), body, times
            )
        )

    def record_violation(self, violation: Violation) -> None:
        self.violations.append(violation)
        if self.echo_violations:
            print(f"VIOLATION {violation}", file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def expect_violations(self) -> Iterator[list[Violation]]:
        """Collect (and forgive) the violations of the block; fail if there were none."""
        before = len(self.violations)
        caught: list[Violation] = []
        yield caught
        caught.extend(self.violations[before:])
        del self.violations[before:]
        if not caught:
            raise AssertionError("expected the fake GitHub to record a violation, but none was")

    def take_violations(self) -> list[Violation]:
        """Return and forget the violations so far."""
        taken, self.violations = self.violations, []
        return taken

    def conform(self, operation: Operation, body: Any) -> Any:
        assert operation.success_schema is not None
        return self._filler.fill(operation.success_schema, body)
