"""MLflow and registry ingress: signatures, replay window, tokens, splitting, subjects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from multidict import CIMultiDict

from bot.ingress.errors import Refused
from bot.ingress.mlflow import mlflow_envelope
from bot.ingress.registry import (
    PATH_TOKEN_HEADER,
    distribution_envelopes,
    docker_hub_envelopes,
    harbor_envelopes,
)
from bot.settings import Settings, load_settings
from bot.signatures import sign_mlflow
from schemas.registry import ImageEvent
from tests.promotion.setup import delivered_sample

SAMPLE_SECRET = "s3cret"  # the secret the captured MLflow deliveries were signed with


def _settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "mlflow_webhook_secrets": f"rotated-new,{SAMPLE_SECRET}",
        "registry_webhook_tokens": {"distribution": "dist-token", "harbor": "harbor-token"},
        "dockerhub_url_token": "hub-token",
        **overrides,
    }
    return load_settings(**values)


def _captured(name: str) -> tuple[CIMultiDict[str], bytes, int]:
    sample = delivered_sample("mlflow", name)
    headers = CIMultiDict[str]((k, v) for k, v in sample["headers"])
    return headers, sample["body_text"].encode(), int(headers["X-MLflow-Timestamp"])


@pytest.mark.parametrize(
    ("name", "event", "subject"),
    [
        ("model_version_alias.created", "model_version_alias.created", "model/demo-model"),
        ("model_version.created", "model_version.created", "model/demo-model"),
        ("model_version_tag.set", "model_version_tag.set", "model/demo-model"),
        ("registered_model.created", "registered_model.created", "model/demo-model"),
    ],
    ids=["alias", "version", "tag", "registered-model"],
)
def test_captured_mlflow_deliveries_verify(name: str, event: str, subject: str) -> None:
    """Real MLflow 3 deliveries verify with the second of two rotated secrets."""
    headers, body, sent = _captured(name)
    envelope = mlflow_envelope(headers, body, _settings(), now=sent + 10)
    assert (envelope.name, envelope.subject) == (event, subject)
    assert envelope.id == headers["X-MLflow-Delivery-Id"]


def _resigned(body: bytes, secret: str, delivery: str, ts: str) -> dict[str, str]:
    return {
        "X-MLflow-Delivery-Id": delivery,
        "X-MLflow-Timestamp": ts,
        "X-MLflow-Signature": sign_mlflow(body, secret, delivery, ts),
    }


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        (
            lambda h, b: ({k: v for k, v in h.items() if k != "X-MLflow-Signature"}, b),
            401,
            "missing",
        ),
        (lambda h, b: (h, b.replace(b"champion", b"challenger")), 401, "does not match"),
        (lambda h, b: ({**h, "X-MLflow-Signature": "v0,abc"}, b), 401, "does not match"),
        (lambda h, b: ({**h, "X-MLflow-Delivery-Id": "other"}, b), 401, "does not match"),
        (lambda h, b: (_resigned(b, "wrong", "d", h["X-MLflow-Timestamp"]), b), 401, "match"),
        (
            lambda h, b: ({k: v for k, v in h.items() if k != "X-MLflow-Timestamp"}, b),
            400,
            "Timestamp",
        ),
    ],
    ids=["unsigned", "body-changed", "v0", "id-swapped", "wrong-secret", "no-timestamp"],
)
def test_mlflow_refusals(change: Any, status: int, words: str) -> None:
    """Unsigned, tampered or mis-signed deliveries are refused with a reason."""
    headers, body, sent = _captured("model_version_alias.created")
    new_headers, new_body = change(dict(headers), body)
    with pytest.raises(Refused) as refused:
        mlflow_envelope(new_headers, new_body, _settings(), now=sent)
    assert refused.value.status == status and words in refused.value.message


@pytest.mark.parametrize("skew", [-301, 301, 86400], ids=["future", "past", "day-old-replay"])
def test_mlflow_replay_outside_tolerance_is_refused(skew: int) -> None:
    """A correctly signed delivery outside the 5-minute window is a replay: 401."""
    headers, body, sent = _captured("model_version_alias.created")
    with pytest.raises(Refused) as refused:
        mlflow_envelope(headers, body, _settings(), now=sent + skew)
    assert refused.value.status == 401 and "tolerance" in refused.value.message


def test_mlflow_without_configured_secrets_refuses_everything() -> None:
    """No FERRYBOT_MLFLOW_WEBHOOK_SECRETS: nothing verifies."""
    headers, body, sent = _captured("model_version_alias.created")
    with pytest.raises(Refused):
        mlflow_envelope(headers, body, _settings(mlflow_webhook_secrets=""), now=sent)


def test_mlflow_model_name_injection_gets_no_subject_of_its_own() -> None:
    """A name with a newline or '../' is not a model subject (and no handler will act on it)."""
    body = json.dumps(
        {
            "entity": "model_version_alias",
            "action": "created",
            "data": {"name": "../../etc\npasswd", "alias": "champion", "version": "1"},
        }
    ).encode()
    headers = _resigned(body, SAMPLE_SECRET, "d-1", "1000")
    assert mlflow_envelope(headers, body, _settings(), now=1000).subject == "mlflow"


def _registry(name: str) -> bytes:
    return json.dumps(delivered_sample("registry", name)["body_json"]).encode()


@pytest.mark.parametrize(
    ("name", "kind", "action", "tagged"),
    [
        ("push.oci-manifest", "manifest", "push", True),
        ("push.docker-v2s2-manifest", "manifest", "push", True),
        ("push.blob", "blob", "push", False),
        ("pull.oci-manifest", "manifest", "pull", False),
        ("pull.blob", "blob", "pull", False),
        ("delete.manifest", "manifest", "delete", False),
        ("delete.tag", "manifest", "delete", False),
    ],
)
def test_distribution_events_are_split_and_classified(
    name: str, kind: str, action: str, tagged: bool
) -> None:
    """Each captured event becomes one envelope; only a tagged manifest push can promote."""
    envelopes = distribution_envelopes(
        {"Authorization": "Bearer dist-token"}, _registry(name), _settings()
    )
    assert envelopes and all(e.subject == "image/team/app" for e in envelopes)
    event = ImageEvent.model_validate(envelopes[0].payload)
    assert (envelopes[0].event, envelopes[0].action) == (kind, action)
    assert event.is_tagged_push is tagged


def test_distribution_envelope_with_several_events_is_split_by_event_id() -> None:
    """`events` [a, b] → two envelopes with the registry's event ids as delivery ids."""
    push = delivered_sample("registry", "push.oci-manifest")["body_json"]["events"][0]
    pull = delivered_sample("registry", "pull.oci-manifest")["body_json"]["events"][0]
    body = json.dumps({"events": [push, pull]}).encode()
    envelopes = distribution_envelopes({"Authorization": "Bearer dist-token"}, body, _settings())
    assert [e.id for e in envelopes] == [push["id"], pull["id"]]


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong", "Basic ZGlzdC10b2tlbg==", "harbor-token"],
    ids=["none", "wrong", "basic", "other-registry-token"],
)
def test_distribution_token_is_required(header: str | None) -> None:
    """The static token of this endpoint, and only it, is accepted."""
    headers = {} if header is None else {"Authorization": header}
    with pytest.raises(Refused) as refused:
        distribution_envelopes(headers, _registry("push.oci-manifest"), _settings())
    assert refused.value.status == 401


def test_harbor_push_artifact() -> None:
    """Harbor PUSH_ARTIFACT → a tagged manifest push with a stable derived delivery id."""
    body = json.dumps(
        {
            "type": "PUSH_ARTIFACT",
            "occur_at": 1700000000,
            "operator": "robot",
            "event_data": {
                "resources": [
                    {
                        "digest": "sha256:" + "a" * 64,
                        "tag": "1.4.0",
                        "resource_url": "harbor.example.com/team/app:1.4.0",
                    }
                ],
                "repository": {"name": "app", "namespace": "team", "repo_full_name": "team/app"},
            },
        }
    ).encode()
    first = harbor_envelopes({"Authorization": "harbor-token"}, body, _settings())
    again = harbor_envelopes({"Authorization": "Bearer harbor-token"}, body, _settings())
    assert [e.id for e in first] == [e.id for e in again]
    event = ImageEvent.model_validate(first[0].payload)
    assert event.is_tagged_push and event.tag == "1.4.0" and first[0].subject == "image/team/app"


def test_docker_hub_token_travels_in_the_path() -> None:
    """Docker Hub's secret path token is checked; a wrong one is refused."""
    body = json.dumps(
        {
            "push_data": {"pushed_at": 1700000000, "pusher": "ci", "tag": "1.4.0"},
            "repository": {"repo_name": "acme/app", "namespace": "acme", "name": "app"},
        }
    ).encode()
    ok = docker_hub_envelopes({PATH_TOKEN_HEADER: "hub-token"}, body, _settings())
    assert ok[0].name == "manifest.push" and ok[0].subject == "image/acme/app"
    with pytest.raises(Refused):
        docker_hub_envelopes({PATH_TOKEN_HEADER: "nope"}, body, _settings())


def test_mlflow_and_registry_secrets_are_redacted() -> None:
    """Every new secret is known to the log redactor."""
    secrets = _settings().secret_values()
    assert {"rotated-new", SAMPLE_SECRET, "dist-token", "harbor-token", "hub-token"} <= set(secrets)
