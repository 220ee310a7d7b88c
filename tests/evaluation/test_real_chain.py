"""Exporter → Prometheus rule → Alertmanager → ferrybot → one dispatch and one rollback PR."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.settings import Settings
from schemas.audit import AuditRecord
from tests.evaluation.chain import Exporter, alert_chain, require_binaries, serving
from tests.evaluation.setup import WORKFLOW, WORKFLOW_TEXT
from tests.fakegithub.server import FakeGitHub
from tests.promotion.setup import OWNER, REPO, gitops_repo, kserve_manifest
from tests.support.bot import bot_settings, eventually, running_bot
from tests.support.mlflow import MlflowServer
from tests.support.topics import read_topic

TOKEN = "alertmanager-chain-token"
FILE = "models/churn/prod/isvc.yaml"
MODEL = "churn_drift"


def _pipeline() -> dict[str, object]:
    write = {
        "kind": "yaml",
        "file": FILE,
        "path": "spec.predictor.model.storageUri",
        "value": "models:/{name}/{version}",
    }
    return {
        "name": "churn",
        "model": {"name": MODEL, "alias": None},
        "stages": [{"name": "prod", "repo": f"{OWNER}/{REPO}", "writes": [write], "auto": False}],
        "retrain": {"repo": f"{OWNER}/{REPO}", "workflow": "retrain.yml", "cooldown_seconds": 3600},
        "on_alert": [
            {
                "name": "drift",
                "match": {"alertname": ["ModelDriftHigh"], "severity": ["warning"]},
                "reactions": ["retrain", "rollback", "notify"],
                "rollback_window_seconds": 3600,
            }
        ],
    }


async def _audits(settings: Settings, bootstrap: str, action: str) -> list[AuditRecord]:
    records = await read_topic(settings, bootstrap, settings.topic_audit, expect=0, within=1)
    parsed = [AuditRecord.model_validate_json(r.value or b"") for r in records]
    return [r for r in parsed if r.action == action]


async def _audited(settings: Settings, bootstrap: str, action: str, within: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await _audits(settings, bootstrap, action):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no {action} audit record within {within}s")


async def test_drift_alert_dispatches_once_and_rolls_back(
    fake_github: FakeGitHub, kafka_bootstrap: str, mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    """Drift over the threshold: one dispatch, one rollback PR; repeats and resolve add nothing."""
    require_binaries()
    mlflow_server.create_model(MODEL)
    v1 = mlflow_server.create_version(MODEL, {"accuracy": 0.91})
    v2 = mlflow_server.create_version(MODEL, {"accuracy": 0.92})
    app = gitops_repo(fake_github, {FILE: kserve_manifest(MODEL, v1), WORKFLOW: WORKFLOW_TEXT})
    fake_github.commit_files(OWNER, REPO, "main", {FILE: kserve_manifest(MODEL, v2)}, f"prod {v2}")
    settings = bot_settings(
        kafka_bootstrap,
        fake_github,
        app,
        tmp_path,
        mlflow_tracking_url=mlflow_server.url,
        reconcile_enabled=False,
        alertmanager_tokens=TOKEN,
        bot={"pipelines": [_pipeline()]},
    )
    webhook = f"http://{settings.http_host}:{settings.http_port}/webhooks/alertmanager"
    exporter = Exporter("churn", "prod", value=0.1)
    async with serving(exporter), running_bot(settings):
        with alert_chain(tmp_path, exporter.port, webhook, TOKEN) as chain:
            exporter.value = 0.6
            await eventually(
                lambda: bool(fake_github.dispatches(OWNER, REPO)),
                within=90,
                what=f"a workflow dispatch\n{chain.tail()}",
            )
            await eventually(
                lambda: any(p.title.endswith("to prod") for p in fake_github.pulls(OWNER, REPO)),
                within=30,
                what="the rollback PR",
            )
            # notify is the rule's last reaction: once audited, the episode's work is done.
            await _audited(settings, kafka_bootstrap, "alert.notified")
            writes_after = [r for r in fake_github.requests if r[0] != "GET"]
            sent = chain.webhook_notifications()
            # Alertmanager resends the firing group every repeat_interval (2 s).
            await eventually(
                lambda: chain.webhook_notifications() >= sent + 2, within=30, what="repeats"
            )
            exporter.value = 0.1
            await _audited(settings, kafka_bootstrap, "alert.resolved", within=60)
    [dispatch] = fake_github.dispatches(OWNER, REPO)
    assert dispatch.inputs["model"] == MODEL
    assert dispatch.inputs["version"] == v2
    assert dispatch.inputs["alert"] == "ModelDriftHigh"
    assert dispatch.inputs["link"] == "https://runbooks.example.com/model-drift"
    [rollback] = [p for p in fake_github.pulls(OWNER, REPO) if p.title.endswith("to prod")]
    assert rollback.title == f"promote churn {v2} → {v1} to prod"
    assert "rollback" in rollback.labels
    assert [r for r in fake_github.requests if r[0] != "GET"] == writes_after
    dispatched = await _audits(settings, kafka_bootstrap, "alert.retrain_dispatched")
    assert len(dispatched) == 1
    assert dispatched[0].details["fingerprint"] and dispatched[0].details["fired_at"]
    assert await _audits(settings, kafka_bootstrap, "alert.rollback_opened")
