"""The committed Argo CD, Flux and GitHub samples, re-pointed at a revision and a time."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

from bot.signatures import sign_github
from tests.support.payloads import DATA, load_webhook

LEDGER_DATA = DATA / "ledger"
FLUX_SECRET = "flux-hmac-key-for-tests"
ARGOCD_TOKEN = "argocd-token-for-tests"


def stamp(at: datetime) -> str:
    """RFC 3339 in UTC with a Z, as Flux and Argo CD write times."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def flux_event(
    name: str, revision: str, at: datetime, obj: str = "churn-staging"
) -> dict[str, Any]:
    """A Flux event sample (`reconciliation-succeeded`, ...) for `revision` at `at`."""
    body: dict[str, Any] = json.loads((LEDGER_DATA / "flux" / f"{name}.json").read_text())
    body["metadata"]["revision"] = f"main@sha1:{revision}"
    body["timestamp"] = stamp(at)
    body["involvedObject"]["name"] = obj
    return body


def argocd_event(name: str, revision: str, at: datetime) -> dict[str, Any]:
    """An Argo CD Notifications body (`deployed`, ...) for `revision` at `at`."""
    body: dict[str, Any] = json.loads((LEDGER_DATA / "argocd" / f"{name}.json").read_text())
    body["revision"] = revision
    body["timestamp"] = stamp(at)
    return body


def github_deployment_status(
    state: str, sha: str, environment: str, at: datetime, repo: str = "acme/gitops"
) -> dict[str, Any]:
    """GitHub's deployment_status.created example for `sha` in `environment`, `state` at `at`."""
    payload = copy.deepcopy(load_webhook("deployment_status.created.0", 77))
    payload["deployment_status"].update(
        state=state, environment=environment, created_at=stamp(at), updated_at=stamp(at)
    )
    payload["deployment"].update(sha=sha, environment=environment)
    owner, name = repo.split("/")
    payload["repository"].update(name=name, full_name=repo)
    payload["repository"]["owner"]["login"] = owner
    return payload


def flux_headers(body: bytes, secret: str = FLUX_SECRET) -> dict[str, str]:
    """What notification-controller's generic-hmac provider sends."""
    return {"Content-Type": "application/json", "X-Signature": sign_github(body, secret)}


def argocd_headers(token: str = ARGOCD_TOKEN) -> dict[str, str]:
    """What the webhook service in deploy/argocd/notifications-cm.yaml sends."""
    return {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
