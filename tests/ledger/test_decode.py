"""Records of the events topic: only those that can hold facts get their bodies parsed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aiokafka import ConsumerRecord

from bot.ledger.decode import record_facts
from bot.ledger.facts import may_hold_facts
from bot.settings import load_settings
from schemas.envelope import WIRE_V2, Envelope, Source
from tests.ledger.samples import github_deployment_status

SHA = "9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2918070"
AT = datetime(2026, 11, 30, 10, 15, 42, tzinfo=UTC)


def _record(value: bytes) -> ConsumerRecord[bytes, bytes]:
    settings = load_settings()
    return ConsumerRecord(
        settings.topic_events, 0, 7, 0, 0, b"k", value, None, len(b"k"), len(value), []
    )


@pytest.mark.parametrize(
    ("source", "event", "holds"),
    [
        pytest.param("github", "pull_request", False, id="github-pull-request"),
        pytest.param("github", "deployment_status", True, id="github-deployment-status"),
        pytest.param("github", "deployment", True, id="github-deployment"),
        pytest.param("gitlab", "deployment", True, id="gitlab-deployment"),
        pytest.param("gitlab", "merge_request", False, id="gitlab-merge-request"),
        pytest.param("registry", "manifest", True, id="registry-manifest"),
        pytest.param("registry", "blob", False, id="registry-blob"),
        pytest.param("argocd", "on-deployed", True, id="argocd"),
        pytest.param("flux", "ReconciliationSucceeded", True, id="flux"),
        pytest.param("mlflow", "model_version.created", False, id="mlflow"),
    ],
)
def test_which_events_may_hold_facts(source: str, event: str, holds: bool) -> None:
    """Deployments (GitHub, GitLab), Argo CD, Flux and image pushes may; nothing else."""
    assert may_hold_facts(source, event) is holds


def test_a_pull_request_body_is_not_parsed() -> None:
    """An event that cannot hold facts yields none without its body being read."""
    header = b'{"id":"d-1","source":"github","event":"pull_request","subject":"github/a/b#1"}'
    assert record_facts(load_settings(), _record(WIRE_V2 + header + b"\n{not json")) == []


def test_a_deployment_status_is_still_read() -> None:
    """Events that hold facts are decoded in full, as before."""
    payload = github_deployment_status("success", SHA, "production", AT)
    body = json.dumps(payload).encode()
    envelope = Envelope.with_raw_payload(
        body,
        payload,
        id="d-2",
        source=Source.GITHUB,
        event="deployment_status",
        action="created",
        subject="github/acme/app@production",
    )
    assert record_facts(load_settings(), _record(envelope.to_bytes()))
