"""The reconciler recovers what MLflow never delivered, through the same path and dedupe."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bot.mlflow.client import MlflowClient
from bot.pipeline.bus import EventProducer
from bot.reconciler import Reconciler, model_envelopes
from schemas.pipelines import ModelArtifact
from tests.fakegithub.server import FakeGitHub
from tests.promotion.setup import (
    OWNER,
    REPO,
    audit_records,
    gitops_repo,
    kserve_manifest,
)
from tests.support.bot import bot_settings, eventually, running_bot
from tests.support.mlflow import MlflowServer

FILE = "models/recon/isvc.yaml"


async def test_missed_alias_and_tag_are_promoted_once(
    fake_github: FakeGitHub, kafka_bootstrap: str, mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    """No webhook at all: polling finds the alias → one PR; polling again adds nothing."""
    model = "recon"
    mlflow_server.create_model(model)
    v1 = mlflow_server.create_version(model, {"f1": 0.5})
    v2 = mlflow_server.create_version(model, {"f1": 0.6})
    mlflow_server.set_alias(model, "champion", v2)
    original = kserve_manifest(model, v1)
    app = gitops_repo(fake_github, {FILE: original})
    write = {
        "kind": "yaml",
        "file": FILE,
        "path": "spec.predictor.model.storageUri",
        "value": "models:/{name}/{version}",
    }
    pipeline = {
        "name": "recon",
        "model": {"name": model},
        "stages": [{"name": "staging", "repo": f"{OWNER}/{REPO}", "writes": [write]}],
    }
    settings = bot_settings(
        kafka_bootstrap,
        fake_github,
        app,
        tmp_path,
        mlflow_tracking_url=mlflow_server.url,
        reconcile_enabled=False,
        bot={"pipelines": [pipeline]},
    )
    producer = EventProducer(settings, kafka_bootstrap)
    await producer.start()
    try:
        async with running_bot(settings), aiohttp.ClientSession() as session:
            reconciler = Reconciler(settings, producer, session)
            first = await reconciler.poll_once()
            assert [(e.name, e.id) for e in first] == [
                ("model_version_alias.created", f"reconcile:{model}:alias:champion:{v2}")
            ]
            await eventually(
                lambda: [p.labels for p in fake_github.pulls(OWNER, REPO)] == [["promotion"]],
                what="a labelled PR",
            )
            assert (
                fake_github.pulls(OWNER, REPO)[0].title == f"promote recon {v1} → {v2} to staging"
            )
            again = await reconciler.poll_once()
            assert [e.id for e in again] == [e.id for e in first]
            records = await audit_records(settings, kafka_bootstrap, expect=1, within=5)
    finally:
        await producer.stop()
    assert len(fake_github.pulls(OWNER, REPO)) == 1
    assert [r.action for r in records] == ["promotion.opened"]


async def test_tag_and_new_version_triggers_are_polled(mlflow_server: MlflowServer) -> None:
    """A tag trigger finds the newest tagged version; `on_created` the newest version."""
    model = "recon-tagged"
    mlflow_server.create_model(model)
    v1 = mlflow_server.create_version(model, {"f1": 0.5})
    mlflow_server.create_version(model, {"f1": 0.6})
    v3 = mlflow_server.create_version(model, {"f1": 0.7})
    for version in (v1, v3):
        mlflow_server.call(
            "POST",
            "model-versions/set-tag",
            {"name": model, "version": version, "key": "validation", "value": "passed"},
        )
    artifact = ModelArtifact(name=model, alias=None, tag={"validation": "passed"}, on_created=True)
    async with aiohttp.ClientSession() as session:
        found = await model_envelopes(MlflowClient(session, mlflow_server.url), artifact)
    assert [(e.name, e.payload["data"]["version"]) for e in found] == [
        ("model_version_tag.set", v3),
        ("model_version.created", v3),
    ]
    assert found[0].payload["data"] == {
        "name": model,
        "version": v3,
        "key": "validation",
        "value": "passed",
    }
