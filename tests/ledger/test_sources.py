"""Deployment webhooks over HTTP and a real broker: verified, enveloped, and read as facts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from structlog.testing import capture_logs

from bot.ingress.app import create_app
from bot.ledger.facts import facts_from_envelope
from bot.pipeline.bus import EventProducer, ensure_topics
from bot.settings import Settings
from bot.signatures import sign_github
from schemas.envelope import Envelope
from tests.fakegitlab.server import FakeGitLab
from tests.ledger.samples import (
    ARGOCD_TOKEN,
    FLUX_SECRET,
    argocd_event,
    argocd_headers,
    flux_event,
    flux_headers,
    github_deployment_status,
)
from tests.support.broker import bus_settings
from tests.support.payloads import load_webhook
from tests.support.topics import read_topic

GITHUB_SECRET = "github-secret-0123456789"
SHA = "9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2918070"
AT = datetime(2026, 11, 30, 10, 15, 42, tzinfo=UTC)


@pytest.fixture
async def ingress(kafka_bootstrap: str) -> AsyncIterator[tuple[Settings, TestServer]]:
    settings = bus_settings(
        kafka_bootstrap,
        github_webhook_secrets=GITHUB_SECRET,
        argocd_webhook_tokens=f"old-token-0123456789,{ARGOCD_TOKEN}",
        flux_webhook_secrets=FLUX_SECRET,
    )
    await ensure_topics(settings, kafka_bootstrap)
    producer = EventProducer(settings, kafka_bootstrap)
    await producer.start()
    server = TestServer(create_app(settings, producer))
    await server.start_server()
    yield settings, server
    await server.close()
    await producer.stop()


async def _post(server: TestServer, path: str, body: bytes, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.make_url(path), data=body, headers=headers) as response,
    ):
        return response.status


async def _envelopes(settings: Settings, bootstrap: str, expect: int) -> list[Envelope]:
    records = await read_topic(settings, bootstrap, settings.topic_events, expect)
    return [Envelope.from_bytes(r.value or b"") for r in records]


async def test_argocd_token_checked_and_events_become_facts(
    ingress: tuple[Settings, TestServer], kafka_bootstrap: str
) -> None:
    """Either rotation token → 202; the three triggers' bodies → succeeded, degraded, failed."""
    settings, server = ingress
    with capture_logs() as logs:
        for name in ("deployed", "health-degraded", "sync-failed"):
            body = json.dumps(argocd_event(name, SHA, AT)).encode()
            assert await _post(server, "/webhooks/argocd", body, argocd_headers()) == 202
        body = json.dumps(argocd_event("deployed", SHA, AT)).encode()
        assert await _post(server, "/webhooks/argocd", body, argocd_headers("wrong-token")) == 401
        assert await _post(server, "/webhooks/argocd", body, {}) == 401
        missing = json.dumps({"event": "deployed", "app": "churn-staging"}).encode()
        assert await _post(server, "/webhooks/argocd", missing, argocd_headers()) == 400
    envelopes = await _envelopes(settings, kafka_bootstrap, expect=3)
    assert len(envelopes) == 3
    assert {e.subject for e in envelopes} == {"deploy/acme/gitops/churn-staging"}
    facts = [f for e in envelopes for f in facts_from_envelope(e)]
    assert sorted(f.status for f in facts) == ["degraded", "failed", "succeeded"]
    assert {(f.revision, f.repo, f.target, f.at) for f in facts} == {
        (SHA, "acme/gitops", "churn-staging", AT)
    }
    assert ARGOCD_TOKEN not in repr(logs)


async def test_flux_generic_hmac_signature_checked(
    ingress: tuple[Settings, TestServer], kafka_bootstrap: str
) -> None:
    """A body signed with the Provider's key → 202 and a fact of its revision; others → 401."""
    settings, server = ingress
    body = json.dumps(flux_event("reconciliation-succeeded", SHA, AT)).encode()
    with capture_logs() as logs:
        assert await _post(server, "/webhooks/flux", body, flux_headers(body, "not-the-key")) == 401
        plain = {"Content-Type": "application/json"}
        assert await _post(server, "/webhooks/flux", body, plain) == 401
        tampered = body.replace(b"churn-staging", b"churn-prod")
        assert await _post(server, "/webhooks/flux", tampered, flux_headers(body)) == 401
        assert await _post(server, "/webhooks/flux", body, flux_headers(body)) == 202
        # The same event again has the same delivery id, so dedupe downstream sees one event.
        assert await _post(server, "/webhooks/flux", body, flux_headers(body)) == 202
        no_revision = json.loads(body)
        del no_revision["metadata"]["revision"]
        raw = json.dumps(no_revision).encode()
        assert await _post(server, "/webhooks/flux", raw, flux_headers(raw)) == 400
    assert FLUX_SECRET not in repr(logs)
    envelopes = await _envelopes(settings, kafka_bootstrap, expect=2)
    assert len({e.id for e in envelopes}) == 1 and len(envelopes) == 2
    [fact] = facts_from_envelope(envelopes[0])
    assert (fact.status, fact.revision, fact.at) == ("succeeded", SHA, AT)
    assert fact.target == "Kustomization/flux-system/churn-staging"
    assert envelopes[0].subject == "deploy/acme/gitops/Kustomization/flux-system/churn-staging"


@pytest.mark.parametrize(
    ("example", "status"),
    [
        ("deployment_status.created.0", "succeeded"),
        ("deployment_status.created.1", "started"),
        ("deployment.created.0", "started"),
    ],
    ids=["status success", "status in_progress", "deployment created"],
)
async def test_github_deployment_status_examples_become_facts(
    ingress: tuple[Settings, TestServer], kafka_bootstrap: str, example: str, status: str
) -> None:
    """GitHub's own deployment_status examples through /webhooks/github → a fact per state."""
    settings, server = ingress
    payload = load_webhook(example, 77)
    body = json.dumps(payload).encode()
    headers = {
        "X-Hub-Signature-256": sign_github(body, GITHUB_SECRET),
        "X-GitHub-Event": example.split(".")[0],
        "X-GitHub-Delivery": f"delivery-{example}",
    }
    assert await _post(server, "/webhooks/github", body, headers) == 202
    [envelope] = await _envelopes(settings, kafka_bootstrap, expect=1)
    environment = payload["deployment"]["environment"]
    assert envelope.subject == f"github/Codertocat/Hello-World@{environment}"
    [fact] = facts_from_envelope(envelope)
    assert fact.status == status and fact.revision == payload["deployment"]["sha"]
    assert fact.target == environment and fact.repo == "Codertocat/Hello-World"


def test_inactive_and_other_states_tell_nothing() -> None:
    """`inactive` (superseded) is not a deployment outcome; a missing sha ties nothing."""
    inactive = github_deployment_status("inactive", SHA, "staging", AT)
    envelope = Envelope(
        id="x",
        source="github",
        event="deployment_status",
        subject="github/acme/gitops",
        payload=inactive,
    )
    assert facts_from_envelope(envelope) == []


async def test_gitlab_deployment_hooks_become_facts(
    kafka_bootstrap: str, fake_gitlab: FakeGitLab
) -> None:
    """GitLab's Deployment Hook, delivered by a project hook → started, succeeded, failed facts;
    a canceled deployment counts for nothing."""
    settings = bus_settings(kafka_bootstrap, gitlab_webhook_tokens="gitlab-hook-token-ledger")
    await ensure_topics(settings, kafka_bootstrap)
    producer = EventProducer(settings, kafka_bootstrap)
    await producer.start()
    server = TestServer(create_app(settings, producer))
    await server.start_server()
    try:
        fake_gitlab.add_user("deployer")
        fake_gitlab.add_project("acme/gitops", files={"apps.yaml": "tag: v1\n"})
        sha = fake_gitlab.branch_head("acme/gitops", "main")
        assert sha is not None
        url = str(server.make_url("/webhooks/gitlab"))
        fake_gitlab.add_project_hook("acme/gitops", url, token="gitlab-hook-token-ledger")
        changed = []
        for status in ("running", "success", "failed", "canceled"):
            payload = fake_gitlab.deployment_hook(
                "acme/gitops", status=status, environment="production", sha=sha, user="deployer"
            )
            payload["status_changed_at"] = f"2026-11-30 1{len(changed)}:15:42 +0200"
            changed.append(datetime(2026, 11, 30, 8 + len(changed), 15, 42, tzinfo=UTC))
            [sent] = await fake_gitlab.send_webhook("acme/gitops", payload)
            assert sent.status == 202
    finally:
        await server.close()
        await producer.stop()

    envelopes = await _envelopes(settings, kafka_bootstrap, 4)
    facts = [fact for envelope in envelopes for fact in facts_from_envelope(envelope)]
    assert [(f.status, f.source, f.repo, f.revision, f.target) for f in facts] == [
        ("started", "gitlab", "acme/gitops", sha, "production"),
        ("succeeded", "gitlab", "acme/gitops", sha, "production"),
        ("failed", "gitlab", "acme/gitops", sha, "production"),
    ]
    assert [f.at for f in facts] == changed[:3]  # GitLab's own time format, not receipt time
