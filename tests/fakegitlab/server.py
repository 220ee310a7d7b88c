"""FakeGitLab: the aiohttp app, its lifecycle, and the knobs tests turn."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import socket
import sys
import uuid
from collections.abc import Iterator, Mapping
from http import HTTPStatus
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakegitlab import (
    routes_ci,
    routes_merge_requests,
    routes_projects,
    routes_status_checks,
)
from tests.fakegitlab.delivery import HookDelivery, delivery_headers, post
from tests.fakegitlab.dispatch import FAKE_KEY, Call, InjectedFailure, RequestRecord, handle
from tests.fakegitlab.routing import Route, Violation
from tests.fakegitlab.seeding import Seeding
from tests.fakegitlab.state import ExternalStatusCheck, GitLabState, ProjectHook
from tests.fakegitlab.webhooks import WebhookPayloads

ROUTE_TABLES = (routes_projects, routes_merge_requests, routes_ci, routes_status_checks)
# Rack::Attack's throttled answer on GitLab is plain text (doc/security/rate_limits.md).
THROTTLED_BODY = "Retry later\n"


class FakeGitLab(Seeding, WebhookPayloads):
    """A GitLab REST server on 127.0.0.1 that serves from memory and refuses what GitLab would."""

    def __init__(self, path_prefix: str = "", *, echo_violations: bool = False) -> None:
        if path_prefix and (not path_prefix.startswith("/") or path_prefix.endswith("/")):
            raise ValueError("path_prefix is '' or like '/gitlab' (leading '/', no trailing '/')")
        self.path_prefix = path_prefix
        self.echo_violations = echo_violations
        self.state = GitLabState()
        self.routes: list[Route] = [r for table in ROUTE_TABLES for r in table.routes.routes]
        self.violations: list[Violation] = []
        self.requests: list[RequestRecord] = []
        self.calls: list[Call] = []
        self.failures: list[InjectedFailure] = []
        self.webhook_deliveries: list[HookDelivery] = []
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """Base URL of the instance, e.g. http://127.0.0.1:40123/gitlab (the API is under
        /api/v4 of it; no trailing slash)."""
        if self._url is None:
            raise RuntimeError("FakeGitLab is not started: await fake.start() first")
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
        self._url = f"http://127.0.0.1:{sock.getsockname()[1]}{self.path_prefix}"
        return self._url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeGitLab:
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
        body: Any = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` valid requests matching method ("*" for any) and path
        (re.search on the URL-decoded path from /api/v4 on, without query) with status.

        Without a body: 429 answers GitLab's plain-text "Retry later", others
        {"message": "<status> <reason>"}; a str or bytes body is sent as plain text.
        """
        if body is None:
            if status == 429:
                body = THROTTLED_BODY
            else:
                body = {"message": f"{status} {HTTPStatus(status).phrase}"}
        self.failures.append(
            InjectedFailure(
                method.upper(), re.compile(path_regex), status, dict(headers or {}), body, times
            )
        )

    # Webhooks

    def add_project_hook(
        self,
        project_path: str,
        url: str,
        *,
        token: str | None = None,
        signing_token: str | None = None,
    ) -> ProjectHook:
        """A project webhook delivering to url with a secret token and/or a signing token."""
        hook = ProjectHook(url, token, signing_token)
        self.state.project(project_path).hooks.append(hook)
        return hook

    async def send_webhook(
        self, project_path: str, payload: Mapping[str, Any]
    ) -> list[HookDelivery]:
        """POST the payload (e.g. from merge_request_hook) to every hook of the project, with
        GitLab's headers; each attempt is logged in `webhook_deliveries` and returned."""
        body = json.dumps(payload).encode()
        sent = []
        for hook in self.state.project(project_path).hooks:
            headers = delivery_headers(
                hook,
                payload,
                body,
                instance=self.url,
                idempotency_key=str(uuid.uuid4()),
                event_uuid=str(uuid.uuid4()),
            )
            sent.append(await post(hook, headers, body))
        self.webhook_deliveries.extend(sent)
        return sent

    async def redeliver(self, delivery: HookDelivery) -> HookDelivery:
        """Resend a delivery as GitLab's "Resend request" does: the same Idempotency-Key and
        event UUID, a fresh timestamp and signature."""
        headers = delivery_headers(
            delivery.hook,
            json.loads(delivery.body),
            delivery.body,
            instance=self.url,
            idempotency_key=delivery.headers["Idempotency-Key"],
            event_uuid=delivery.headers["X-Gitlab-Event-UUID"],
        )
        again = await post(delivery.hook, headers, delivery.body)
        self.webhook_deliveries.append(again)
        return again

    def add_external_status_check(
        self, project_path: str, name: str, url: str, *, shared_secret: str | None = None
    ) -> int:
        """An external status check of the project (Ultimate); its id."""
        project = self.state.project(project_path)
        check_id = self.state.next_id("external_status_check")
        project.external_status_checks[check_id] = ExternalStatusCheck(
            check_id, name, url, shared_secret
        )
        return check_id

    async def send_status_check(
        self, project_path: str, iid: int, check_id: int, *, action: str, user: str
    ) -> int | None:
        """What GitLab POSTs to the check's URL on an MR event (ExternalStatusChecks::
        DispatchService): the Merge Request Hook data plus `external_approval_rule`, with
        `X-Gitlab-Signature` (hex HMAC-SHA256 of the body) when the check has a secret."""
        check = self.state.project(project_path).external_status_checks[check_id]
        payload = self.merge_request_hook(project_path, iid, action, user=user)
        payload["external_approval_rule"] = {
            "id": check.id,
            "name": check.name,
            "external_url": check.url,
        }
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if check.shared_secret is not None:
            digest = hmac.new(check.shared_secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-GitLab-Signature"] = digest
        async with (
            aiohttp.ClientSession() as session,
            session.post(check.url, data=body, headers=headers) as response,
        ):
            return response.status

    def status_check_responses(self, project_path: str, iid: int) -> list[dict[str, Any]]:
        """What external services set on the MR, oldest first."""
        return list(self.state.project(project_path).merge_request(iid).status_check_responses)

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
            raise AssertionError("expected the fake GitLab to record a violation, but none was")

    def take_violations(self) -> list[Violation]:
        """Return and forget the violations so far."""
        taken, self.violations = self.violations, []
        return taken
