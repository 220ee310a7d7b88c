"""Real MLflow webhooks → ingress → Kafka → worker → a promotion PR and the model gate."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY

from bot.promotion.gate import CHECK_NAME
from schemas.notification import Notification
from tests.fakegithub.server import FakeGitHub
from tests.promotion.merging import promotion_pull_payload
from tests.promotion.setup import (
    OWNER,
    REPO,
    audit_records,
    gitops_repo,
    kserve_manifest,
)
from tests.support.bot import bot_settings, deliver, eventually, running_bot
from tests.support.mlflow import MlflowServer
from tests.support.topics import read_topic

SECRET = "mlflow-secret-for-tests"
FILE = "models/churn/staging/isvc.yaml"
BRANCH = "ferrybot/promote/churn/staging"


def _pipelines(model: str) -> list[dict[str, object]]:
    return [
        {
            "name": "churn",
            "model": {"name": model, "alias": "champion"},
            "stages": [
                {
                    "name": "staging",
                    "repo": f"{OWNER}/{REPO}",
                    "writes": [
                        {
                            "kind": "yaml",
                            "file": FILE,
                            "path": "spec.predictor.model.storageUri",
                            "value": "models:/{name}/{version}",
                        }
                    ],
                    "labels": ["promotion", "model"],
                    "assignees": ["alice"],
                    "gate": {
                        "thresholds": {"accuracy": {"min": 0.85}},
                        "not_worse_than_current": [{"metric": "accuracy", "margin": 0.01}],
                    },
                }
            ],
        }
    ]


def _gated(fake: FakeGitHub) -> bool:
    pulls = fake.pulls(OWNER, REPO)
    head = pulls[0].pull.head_sha if pulls and pulls[0].pull else None
    return head is not None and bool(fake.check_runs(OWNER, REPO, head, CHECK_NAME))


async def test_alias_set_in_mlflow_opens_one_pr_and_gates_it(
    fake_github: FakeGitHub, kafka_bootstrap: str, mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    """champion → v2: a PR with the exact storageUri edit, gate passes; v3: same PR, gate fails."""
    model = "churn"
    mlflow_server.create_model(model)
    v1 = mlflow_server.create_version(model, {"accuracy": 0.90})
    v2 = mlflow_server.create_version(model, {"accuracy": 0.93})
    v3 = mlflow_server.create_version(model, {"accuracy": 0.80})
    original = kserve_manifest(model, v1)
    app = gitops_repo(fake_github, {FILE: original})
    fake_github.state.user("alice")
    settings = bot_settings(
        kafka_bootstrap,
        fake_github,
        app,
        tmp_path,
        mlflow_tracking_url=mlflow_server.url,
        reconcile_enabled=False,
        mlflow_webhook_secrets=SECRET,
        bot={"pipelines": _pipelines(model)},
    )
    url = f"http://{settings.http_host}:{settings.http_port}/webhooks/mlflow"
    counted_before = _promotion_metrics()
    async with running_bot(settings):
        hook = mlflow_server.add_webhook(
            "ferrybot", url, SECRET, [("model_version_alias", "created")]
        )
        try:
            mlflow_server.set_alias(model, "champion", v2)
            # The gate is published last: once it is there, the PR is complete.
            await eventually(lambda: _gated(fake_github), what="promotion PR and its gate")
            pull = fake_github.pulls(OWNER, REPO)[0]
            assert pull.title == f"promote churn {v1} → {v2} to staging"
            assert pull.pull is not None and pull.pull.head_ref == BRANCH
            head = fake_github.file_at(OWNER, REPO, BRANCH, FILE)
            assert head == original.replace(f"models:/{model}/{v1}", f"models:/{model}/{v2}")
            assert pull.labels == ["promotion", "model"] and pull.assignees == ["alice"]
            assert pull.body is not None
            assert f"`models:/{model}/{v1}` | `models:/{model}/{v2}`" in pull.body
            assert "| accuracy | 0.93 |" in pull.body
            sha = pull.pull.head_sha
            await eventually(lambda: bool(fake_github.check_runs(OWNER, REPO, sha, CHECK_NAME)))
            assert fake_github.check_runs(OWNER, REPO, sha, CHECK_NAME)[0].conclusion == "success"

            mlflow_server.set_alias(model, "champion", v3)
            await eventually(
                lambda: fake_github.pulls(OWNER, REPO)[0].title.endswith(f"{v3} to staging")
            )
            pull = fake_github.pulls(OWNER, REPO)[0]
            assert pull.pull is not None
            sha = pull.pull.head_sha
            await eventually(lambda: bool(fake_github.check_runs(OWNER, REPO, sha, CHECK_NAME)))
            gate = fake_github.check_runs(OWNER, REPO, sha, CHECK_NAME)[0]
            assert gate.conclusion == "failure"
            assert "| accuracy | 0.8 | ≥ 0.85 | — | ❌ fail |" in gate.output["summary"]
            assert "| accuracy | 0.8 | ≥ current − 0.01 | 0.9 | ❌ fail |" in gate.output["summary"]

            # MLflow fires again when the alias is re-set: the same PR, no new commit.
            mlflow_server.set_alias(model, "champion", v3)
            records = await audit_records(settings, kafka_bootstrap, expect=6)

            # Someone pushes v2 back onto the branch: the gate runs on the new head.
            pushed = fake_github.commit_files(OWNER, REPO, BRANCH, {FILE: head}, "back to v2")
            synchronize = promotion_pull_payload(
                app, pull.number, BRANCH, pushed, "synchronize", pull.title
            )
            await deliver(settings, "pull_request", synchronize)
            await eventually(lambda: bool(fake_github.check_runs(OWNER, REPO, pushed, CHECK_NAME)))
            rerun = fake_github.check_runs(OWNER, REPO, pushed, CHECK_NAME)[0]

            # champion back on the version staging runs: the open PR is stale and is closed.
            mlflow_server.set_alias(model, "champion", v1)
            await eventually(lambda: fake_github.pulls(OWNER, REPO)[0].state == "closed")
            records = await audit_records(settings, kafka_bootstrap, expect=8)
            notifications = await read_topic(
                settings, kafka_bootstrap, settings.topic_notifications, expect=4
            )
        finally:
            mlflow_server.delete_webhook(hook)
    assert rerun.conclusion == "success"
    assert len(fake_github.pulls(OWNER, REPO)) == 1
    actions = [r.action for r in records if r.action.startswith("promotion.")]
    assert actions == [
        "promotion.opened",
        "promotion.updated",
        "promotion.unchanged",
        "promotion.already_deployed",
    ]
    assert records[-1].details["closed_pull"] == pull.number
    closing = fake_github.comments(OWNER, REPO, pull.number)[-1].body
    assert f"`staging` already runs {v1}" in closing
    assert [r.action for r in records if r.action.startswith("gate.")] == [
        "gate.success",
        "gate.failure",
        "gate.failure",
        "gate.success",
    ]
    kinds = [Notification.from_bytes(n.value or b"").kind.value for n in notifications]
    assert sorted(kinds) == ["gate_failed", "gate_failed", "promotion_opened", "promotion_opened"]
    assert SECRET not in " ".join(r.model_dump_json() for r in records)
    counted = _promotion_metrics()
    assert {key: counted[key] - counted_before[key] for key in counted} == {
        ("promotions", "opened"): 1,
        ("promotions", "updated"): 1,
        ("promotions", "unchanged"): 1,
        ("promotions", "already_deployed"): 1,
        ("promotions", "failed"): 0,
        ("gate_results", "success"): 2,
        ("gate_results", "failure"): 2,
    }


def _promotion_metrics() -> dict[tuple[str, str], float]:
    """ferrybot_promotions_total and ferrybot_gate_results_total of churn → staging."""
    where = {"pipeline": "churn", "stage": "staging"}
    found: dict[tuple[str, str], float] = {}
    for outcome in ("opened", "updated", "unchanged", "already_deployed", "failed"):
        labels = {**where, "outcome": outcome}
        value = REGISTRY.get_sample_value("ferrybot_promotions_total", labels)
        found[("promotions", outcome)] = value or 0.0
    for conclusion in ("success", "failure"):
        labels = {**where, "conclusion": conclusion}
        value = REGISTRY.get_sample_value("ferrybot_gate_results_total", labels)
        found[("gate_results", conclusion)] = value or 0.0
    return found
