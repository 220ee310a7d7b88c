"""One stage's story as facts: promote v2, deploy, degrade, /rollback to v1, restored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.ingress.argocd import argocd_envelopes
from bot.ingress.flux import flux_envelopes
from bot.ingress.github import github_envelope
from bot.ledger.facts import Fact, facts_from_audit, facts_from_envelope
from bot.settings import Settings, load_settings
from bot.signatures import sign_github
from schemas.audit import AuditRecord
from schemas.envelope import Envelope
from tests.ledger.samples import (
    ARGOCD_TOKEN,
    FLUX_SECRET,
    argocd_event,
    argocd_headers,
    flux_event,
    flux_headers,
    github_deployment_status,
)

GITHUB_SECRET = "github-secret-for-ledger-tests"
T = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
S2 = "2" * 40
S1 = "1" * 40
AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def ingress_settings() -> Settings:
    """Secrets for the three deployment sources."""
    return load_settings(
        github_webhook_secrets=GITHUB_SECRET,
        argocd_webhook_tokens=ARGOCD_TOKEN,
        flux_webhook_secrets=FLUX_SECRET,
    )


def flux(name: str, revision: str, at: datetime) -> Envelope:
    """A Flux sample through the real /webhooks/flux parser."""
    body = json.dumps(flux_event(name, revision, at)).encode()
    return flux_envelopes(flux_headers(body), body, ingress_settings())[0]


def argocd(name: str, revision: str, at: datetime) -> Envelope:
    """An Argo CD sample through the real /webhooks/argocd parser."""
    body = json.dumps(argocd_event(name, revision, at)).encode()
    return argocd_envelopes(argocd_headers(), body, ingress_settings())[0]


def github_status(state: str, sha: str, environment: str, at: datetime, delivery: str) -> Envelope:
    """GitHub's deployment_status example through the real /webhooks/github parser."""
    body = json.dumps(github_deployment_status(state, sha, environment, at)).encode()
    headers = {
        "X-Hub-Signature-256": sign_github(body, GITHUB_SECRET),
        "X-GitHub-Event": "deployment_status",
        "X-GitHub-Delivery": delivery,
    }
    return github_envelope(headers, body, ingress_settings())


def _audit(
    key: str, action: str, at: datetime, stage: str = "staging", **fields: object
) -> AuditRecord:
    return AuditRecord(
        id=key,
        at=at,
        delivery_id=key,
        actor="test",
        action=action,
        subject=f"pipeline/churn/{stage}",
        **fields,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class Expected:
    """What the timeline must give."""

    lead_v2: float = 720.0  # created 09:00 → deployed 09:12
    lead_v1: float = (T + timedelta(minutes=55) - (T - timedelta(days=1))).total_seconds()
    restore: float = 900.0  # degraded 09:40 → v1 healthy 09:55
    freshness_v1: float = (AT - (T - timedelta(days=1, hours=1))).total_seconds()


def story() -> list[Fact]:
    """Every fact of the story, from real payload shapes and audit records."""
    records, envelopes = story_records()
    facts = [f for r in records for f in facts_from_audit(r)]
    return facts + [f for e in envelopes for f in facts_from_envelope(e)]


def story_records() -> tuple[list[AuditRecord], list[Envelope]]:
    """The story as the audit records and the envelopes that carry it on the topics."""
    created_v2, created_v1 = T, T - timedelta(days=1)
    records = [
        _audit(
            "d1:promotion",
            "promotion.opened",
            T + timedelta(minutes=5),
            from_value="1",
            to_value="2",
            details={
                "pipeline": "churn",
                "stage": "staging",
                "repo": "acme/gitops",
                "pull": 5,
                "url": "https://github.com/acme/gitops/pull/5",
                "head_sha": "a" * 40,
                "artifact_created_at": created_v2.isoformat(),
                "trained_at": (created_v2 - timedelta(hours=1)).isoformat(),
                "rollback": False,
            },
        ),
        _audit(
            "d1:gate",
            "gate.success",
            T + timedelta(minutes=6),
            to_value="2",
            details={"head_sha": "a" * 40},
        ),
        _audit(
            "d2:merged",
            "promotion.merged",
            T + timedelta(minutes=10),
            to_value="2",
            details={
                "pipeline": "churn",
                "stage": "staging",
                "repo": "acme/gitops",
                "pull": 5,
                "merge_commit_sha": S2,
            },
        ),
        _audit(
            "d3:promotion",
            "promotion.opened",
            T + timedelta(minutes=45),
            from_value="2",
            to_value="1",
            details={
                "pipeline": "churn",
                "stage": "staging",
                "repo": "acme/gitops",
                "pull": 6,
                "head_sha": "b" * 40,
                "artifact_created_at": created_v1.isoformat(),
                "trained_at": (created_v1 - timedelta(hours=1)).isoformat(),
                "rollback": True,
            },
        ),
        _audit(
            "d4:merged",
            "promotion.merged",
            T + timedelta(minutes=50),
            to_value="1",
            details={
                "pipeline": "churn",
                "stage": "staging",
                "repo": "acme/gitops",
                "pull": 6,
                "merge_commit_sha": S1,
            },
        ),
    ]
    envelopes = [
        flux("progressing", S2, T + timedelta(minutes=11)),
        flux("reconciliation-succeeded", S2, T + timedelta(minutes=12)),
        flux("health-check-failed", S2, T + timedelta(minutes=40)),
        argocd("deployed", S1, T + timedelta(minutes=55)),
        # A deployment of a commit no promotion made: recorded, tied to nothing.
        github_status("success", "3" * 40, "staging", T + timedelta(minutes=20), "gh-1"),
    ]
    return records, envelopes
