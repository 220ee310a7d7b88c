"""The aiohttp application: /webhooks/<source>, /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from aiohttp import web
from multidict import CIMultiDict

from bot.ingress.alertmanager import ALERTMANAGER_IDENTITY_HEADERS, alertmanager_envelopes
from bot.ingress.argocd import ARGOCD_IDENTITY_HEADERS, argocd_envelopes
from bot.ingress.errors import Refused
from bot.ingress.flux import FLUX_IDENTITY_HEADERS, flux_envelopes
from bot.ingress.github import GITHUB_IDENTITY_HEADERS, github_envelope
from bot.ingress.gitlab import GITLAB_IDENTITY_HEADERS, gitlab_envelope
from bot.ingress.gitlab_status_checks import STATUS_CHECK_IDENTITY_HEADERS, status_check_envelopes
from bot.ingress.intake import IntakeGate
from bot.ingress.limits import ConnectionGuard
from bot.ingress.mlflow import MLFLOW_IDENTITY_HEADERS, mlflow_envelope
from bot.ingress.registry import (
    PATH_TOKEN_HEADER,
    REGISTRY_IDENTITY_HEADERS,
    distribution_envelopes,
    docker_hub_envelopes,
    harbor_envelopes,
)
from bot.logs import get_logger
from bot.metrics.definitions import DELIVERIES_ACCEPTED, DELIVERIES_REFUSED, RefusalReason
from bot.metrics.server import metrics_endpoint
from bot.pipeline.bus import BusUnavailable, EventProducer
from bot.settings import Settings
from schemas.envelope import Envelope

log = get_logger(component="ingress")

SourceParser = Callable[[Mapping[str, str], bytes, Settings], list[Envelope]]

SETTINGS_KEY = web.AppKey("settings", Settings)
PRODUCER_KEY = web.AppKey("producer", EventProducer)
GATE_KEY = web.AppKey("gate", IntakeGate)
GUARD_KEY = web.AppKey("guard", ConnectionGuard)


class ClientGone(Exception):
    """The sender closed the connection before its body was complete."""


def _github(headers: Mapping[str, str], body: bytes, settings: Settings) -> list[Envelope]:
    return [github_envelope(headers, body, settings)]


def _gitlab(headers: Mapping[str, str], body: bytes, settings: Settings) -> list[Envelope]:
    return [gitlab_envelope(headers, body, settings)]


def _mlflow(headers: Mapping[str, str], body: bytes, settings: Settings) -> list[Envelope]:
    return [mlflow_envelope(headers, body, settings)]


# One entry per webhook sender: the path after /webhooks/ and the parser that verifies it.
SOURCES: dict[str, SourceParser] = {
    "github": _github,
    "gitlab": _gitlab,
    "gitlab/status-checks": status_check_envelopes,
    "mlflow": _mlflow,
    "alertmanager": alertmanager_envelopes,
    "registry/distribution": distribution_envelopes,
    "registry/harbor": harbor_envelopes,
    "registry/docker-hub": docker_hub_envelopes,
    "argocd": argocd_envelopes,
    "flux": flux_envelopes,
}
# The headers that say who sent a delivery and what it is. A second copy of one is refused: a
# proxy or a log reading the last copy would see another delivery than ferrybot, reading the first.
IDENTITY_HEADERS: dict[str, tuple[str, ...]] = {
    "github": GITHUB_IDENTITY_HEADERS,
    "gitlab": GITLAB_IDENTITY_HEADERS,
    "gitlab/status-checks": STATUS_CHECK_IDENTITY_HEADERS,
    "mlflow": MLFLOW_IDENTITY_HEADERS,
    "alertmanager": ALERTMANAGER_IDENTITY_HEADERS,
    "registry/distribution": REGISTRY_IDENTITY_HEADERS,
    "registry/harbor": REGISTRY_IDENTITY_HEADERS,
    "registry/docker-hub": (),
    "argocd": ARGOCD_IDENTITY_HEADERS,
    "flux": FLUX_IDENTITY_HEADERS,
}
# Senders that can only authenticate with a secret path segment: `<prefix>/<token>`.
_PATH_TOKEN_SOURCES = ("registry/docker-hub",)


def create_app(settings: Settings, producer: EventProducer) -> web.Application:
    """The ingress application; the producer's lifetime belongs to the caller.

    Its `GUARD_KEY` must be attached to the runner's server (`ConnectionGuard.attach`) for the
    connection limit and header timeout to apply.
    """
    guard = ConnectionGuard(settings.http_header_timeout_seconds, settings.http_max_connections)
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[guard.middleware()])
    app[SETTINGS_KEY] = settings
    app[PRODUCER_KEY] = producer
    app[GATE_KEY] = IntakeGate()
    app[GUARD_KEY] = guard
    app.router.add_post("/webhooks/{source:.+}", receive_webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    return app


async def receive_webhook(request: web.Request) -> web.Response:
    """Verify, produce with acks=all, and only then answer 2xx."""
    gate = request.app[GATE_KEY]
    if not gate.is_open:
        # Shutting down: the sender retries later, against this or another replica.
        return web.json_response(
            {"error": "shutting down; retry later"}, status=503, headers={"Retry-After": "5"}
        )
    with gate.admitted():
        return await _receive(request)


async def _receive(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS_KEY]
    source = request.match_info["source"]
    headers: Mapping[str, str] = request.headers
    for prefix in _PATH_TOKEN_SOURCES:
        if source.startswith(prefix + "/"):
            # The token leaves the path here so that it never reaches a log line.
            with_token = CIMultiDict(request.headers)
            with_token[PATH_TOKEN_HEADER] = source.removeprefix(prefix + "/")
            headers = with_token
            source = prefix
    try:
        parser = SOURCES.get(source)
        if parser is None:
            raise Refused(404, f"unknown webhook source {source!r}; known: {sorted(SOURCES)}")
        _refuse_repeated_headers(request, IDENTITY_HEADERS[source])
        body = await _read_body(request, settings)
        envelopes = parser(headers, body, settings)
    except ClientGone:
        log.warning(
            "webhook.client_disconnected",
            source=source,
            content_length=request.content_length,
        )
        # Nobody reads this answer; it only ends the request without a traceback.
        return web.json_response({"error": "connection closed mid-body"}, status=400)
    except Refused as refused:
        log.warning("webhook.refused", source=source, status=refused.status, reason=refused.message)
        DELIVERIES_REFUSED.labels(source=_known(source), reason=refused.reason).inc()
        answer = web.json_response({"error": refused.message}, status=refused.status)
        if refused.status == 408:
            answer.force_close()  # the rest of the slow body is not worth waiting for
        return answer

    producer = request.app[PRODUCER_KEY]
    for envelope in envelopes:
        try:
            await producer.send_envelope(envelope)
        except BusUnavailable as exc:
            log.error("webhook.unavailable", delivery=envelope.id, source=source, reason=str(exc))
            DELIVERIES_REFUSED.labels(source=source, reason=RefusalReason.BROKER_UNAVAILABLE).inc()
            return web.json_response(
                {"error": "event store unavailable; retry later"},
                status=503,
                headers={"Retry-After": "5"},
            )
        # Per event, so debug: at 200 events/s an info line each was a tenth of the ingress.
        log.debug(
            "webhook.accepted",
            delivery=envelope.id,
            source=source,
            _event=envelope.event,
            action=envelope.action,
            subject=envelope.subject,
        )
        DELIVERIES_ACCEPTED.labels(source=source).inc()
    ids = [e.id for e in envelopes]
    # GitHub shows a ping's answer in its UI; 200 there reads better than 202.
    status = 200 if [e.event for e in envelopes] == ["ping"] else 202
    return web.json_response({"accepted": ids}, status=status)


def _known(source: str) -> str:
    # The path is the sender's to choose: only known sources become label values.
    return source if source in SOURCES else "unknown"


def _refuse_repeated_headers(request: web.Request, names: tuple[str, ...]) -> None:
    repeated = [name for name in names if len(request.headers.getall(name, [])) > 1]
    if repeated:
        raise Refused(400, f"header {', '.join(repeated)} sent more than once; send it once")


async def _read_body(request: web.Request, settings: Settings) -> bytes:
    limit = settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise Refused(413, f"body of {request.content_length} bytes exceeds the {limit}-byte limit")
    timeout = settings.http_body_timeout_seconds
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413, f"body exceeds the {limit}-byte limit") from None
    except TimeoutError:
        raise Refused(408, f"body not received within {timeout:g} s") from None
    except ConnectionResetError:
        raise ClientGone from None


async def healthz(request: web.Request) -> web.Response:
    """The process is up."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready only while accepting webhooks and the broker answers."""
    if not request.app[GATE_KEY].is_open:
        return web.json_response({"status": "shutting down"}, status=503)
    if await request.app[PRODUCER_KEY].reachable():
        return web.json_response({"status": "ready"})
    return web.json_response({"status": "broker unreachable"}, status=503)
