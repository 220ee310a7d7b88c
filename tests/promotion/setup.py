"""Shared set-up of the promotion tests: a GitOps repo in the fake, pipelines, the audit topic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.settings import Settings
from schemas.audit import AuditRecord
from tests.fakegithub.server import FakeGitHub
from tests.support.bot import INSTALLATION_ID, GitHubApp, install_app
from tests.support.topics import read_topic

DATA = Path(__file__).resolve().parents[1] / "data"
OWNER, REPO = "acme", "gitops"


def gitops_text(name: str, **replace: str) -> str:
    """A manifest from tests/data/gitops with placeholders such as REGISTRY filled in."""
    text = (DATA / "gitops" / name).read_text(encoding="utf-8")
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


def kserve_manifest(model: str, version: str) -> str:
    """The KServe InferenceService fixture serving `models:/<model>/<version>`."""
    return gitops_text("kserve-isvc.yaml").replace("models:/churn/1", f"models:/{model}/{version}")


def gitops_repo(fake: FakeGitHub, files: dict[str, str]) -> GitHubApp:
    """The App installed on acme/gitops, whose main branch holds `files`."""
    app = install_app(fake, OWNER, REPO)
    fake.commit_files(OWNER, REPO, "main", dict(files), "GitOps manifests")
    return app


def delivered_sample(kind: str, name: str) -> dict[str, Any]:
    """A captured delivery (headers in order, body exactly as sent)."""
    loaded: dict[str, Any] = json.loads((DATA / kind / f"{name}.json").read_text())
    return loaded


async def audit_records(
    settings: Settings, bootstrap: str, expect: int, within: float = 20.0
) -> list[AuditRecord]:
    """Records on the audit topic, waiting for at least `expect`."""
    records = await read_topic(settings, bootstrap, settings.topic_audit, expect, within)
    return [AuditRecord.model_validate_json(r.value or b"") for r in records]


__all__ = ["INSTALLATION_ID", "OWNER", "REPO"]
