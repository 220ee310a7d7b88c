"""Stage by stage: a merged staging PR opens the production PR with what staging now runs."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import aiohttp

from bot.settings import Settings
from bot.signatures import sign_mlflow
from tests.fakegithub.server import FakeGitHub
from tests.promotion.merging import merge_and_deliver
from tests.promotion.setup import (
    OWNER,
    REPO,
    audit_records,
    gitops_repo,
    kserve_manifest,
)
from tests.support.bot import bot_settings, eventually, running_bot
from tests.support.mlflow import MlflowServer

SECRET = "mlflow-secret-multistage"
STAGING = "models/fraud/staging/isvc.yaml"
PROD = "models/fraud/prod/isvc.yaml"


def _stage(name: str, file: str, **extra: object) -> dict[str, object]:
    write = {
        "kind": "yaml",
        "file": file,
        "path": "spec.predictor.model.storageUri",
        "value": "models:/{name}/{version}",
    }
    return {"name": name, "repo": f"{OWNER}/{REPO}", "writes": [write], **extra}


def _labelled(fake: FakeGitHub, count: int) -> bool:
    pulls = fake.pulls(OWNER, REPO)
    return len(pulls) == count and bool(pulls[-1].labels)


async def deliver_mlflow(settings: Settings, body: dict[str, object]) -> int:
    """POST a signed MLflow delivery, as MLflow would (used to replay and to test redelivery)."""
    raw = json.dumps(body).encode()
    delivery, ts = str(uuid.uuid4()), str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-MLflow-Delivery-Id": delivery,
        "X-MLflow-Timestamp": ts,
        "X-MLflow-Signature": sign_mlflow(raw, SECRET, delivery, ts),
    }
    url = f"http://{settings.http_host}:{settings.http_port}/webhooks/mlflow"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=raw, headers=headers) as r,
    ):
        return r.status


async def test_staging_merge_opens_prod_then_waits_for_command(
    fake_github: FakeGitHub, kafka_bootstrap: str, mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    """alias → staging PR; merged → prod PR (auto); prod merged → the manual stage waits."""
    model = "fraud"
    mlflow_server.create_model(model)
    v1 = mlflow_server.create_version(model, {"auc": 0.8})
    v2 = mlflow_server.create_version(model, {"auc": 0.9})
    original = kserve_manifest(model, v1)
    app = gitops_repo(
        fake_github, {STAGING: original, PROD: original, "models/fraud/dr/isvc.yaml": original}
    )
    pipeline = {
        "name": "fraud",
        "model": {"name": model},
        "stages": [
            _stage("staging", STAGING),
            _stage("prod", PROD, labels=["promotion", "prod"]),
            _stage("dr", "models/fraud/dr/isvc.yaml", auto=False, approvers=["dave"]),
        ],
    }
    settings = bot_settings(
        kafka_bootstrap,
        fake_github,
        app,
        tmp_path,
        mlflow_tracking_url=mlflow_server.url,
        reconcile_enabled=False,
        mlflow_webhook_secrets=SECRET,
        bot={"pipelines": [pipeline]},
    )
    alias = {
        "entity": "model_version_alias",
        "action": "created",
        "data": {"name": model, "alias": "champion", "version": v2},
    }
    async with running_bot(settings):
        assert await deliver_mlflow(settings, alias) == 202
        # Labels are added last: once they are there, the PR is complete.
        await eventually(lambda: _labelled(fake_github, 1), what="staging PR")
        staging = fake_github.pulls(OWNER, REPO)[0]
        assert staging.title == f"promote fraud {v1} → {v2} to staging"

        await merge_and_deliver(fake_github, settings, app, staging.number)
        await eventually(lambda: _labelled(fake_github, 2), what="prod PR")
        prod = fake_github.pulls(OWNER, REPO)[1]
        assert prod.title == f"promote fraud {v1} → {v2} to prod"
        assert prod.labels == ["promotion", "prod"]
        assert prod.pull is not None and prod.pull.head_ref == "ferrybot/promote/fraud/prod"
        prod_text = fake_github.file_at(OWNER, REPO, prod.pull.head_ref, PROD)
        assert prod_text == original.replace(f"models:/{model}/{v1}", f"models:/{model}/{v2}")

        await merge_and_deliver(fake_github, settings, app, prod.number)
        # The last merge's record is the last one written (dr waits for a command).
        records = await audit_records(settings, kafka_bootstrap, expect=4)
    assert len(fake_github.pulls(OWNER, REPO)) == 2  # dr waits for /promote
    # Audit records are keyed by subject: ordered per stage, not across stages.
    assert sorted((r.subject, r.action) for r in records) == [
        ("pipeline/fraud/prod", "promotion.merged"),
        ("pipeline/fraud/prod", "promotion.opened"),
        ("pipeline/fraud/staging", "promotion.merged"),
        ("pipeline/fraud/staging", "promotion.opened"),
    ]
