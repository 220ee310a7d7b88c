"""A real MLflow alias promotes through a GitLab GitOps project: MR, gate, merge, next stage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.pipeline.broker import free_port
from bot.promotion.gate import CHECK_NAME
from bot.promotion.lookup import gitlab_promotion_of
from schemas.config import BotConfig
from schemas.gitlab import MergeRequestHook
from schemas.notification import Notification
from tests.fakegitlab.server import FakeGitLab
from tests.promotion.setup import audit_records, kserve_manifest
from tests.support.bot import eventually, running_bot
from tests.support.broker import bus_settings
from tests.support.mlflow import MlflowServer
from tests.support.topics import read_topic

PROJECT = "platform/deploy/gitops"
TOKEN = "glpat-ferrybot-promotion-token"
HOOK_TOKEN = "gitlab-hook-secret-promotion"
MLFLOW_SECRET = "mlflow-secret-gitlab-promotion"
STAGING, PROD = "models/churn/staging/isvc.yaml", "models/churn/prod/isvc.yaml"


def _stage(name: str, file: str) -> dict[str, Any]:
    return {
        "name": name,
        "forge": "gitlab",
        "repo": PROJECT,
        "writes": [
            {
                "kind": "yaml",
                "file": file,
                "path": "spec.predictor.model.storageUri",
                "value": "models:/{name}/{version}",
            }
        ],
        "labels": ["promotion", "model"],
        "reviewers": ["mia"],
        "gate": {"thresholds": {"accuracy": {"min": 0.85}}},
    }


def _open(fake: FakeGitLab, branch: str) -> list[dict[str, Any]]:
    return [
        mr
        for mr in fake.merge_requests(PROJECT)
        if mr["source_branch"] == branch and mr["state"] == "opened"
    ]


def _gate(fake: FakeGitLab, sha: str) -> list[str]:
    return [s["status"] for s in fake.statuses(PROJECT, sha) if s["name"] == CHECK_NAME]


async def test_an_mlflow_alias_promotes_through_gitlab_merge_requests(
    fake_gitlab: FakeGitLab, kafka_bootstrap: str, mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    """champion → v2: one MR (one commit, labels, reviewer, gate passed); the alias re-set
    changes nothing; merged → the prod MR from what staging now runs; `/rollback` in a note."""
    model = "churn-gl"
    mlflow_server.create_model(model)
    v1 = mlflow_server.create_version(model, {"accuracy": 0.90})
    v2 = mlflow_server.create_version(model, {"accuracy": 0.93})
    v3 = mlflow_server.create_version(model, {"accuracy": 0.80})
    fake_gitlab.add_user("ferrybot")
    fake_gitlab.add_token(TOKEN, "ferrybot")
    fake_gitlab.add_user("mia")
    staging_file, prod_file = kserve_manifest(model, v1), kserve_manifest(model, v1)
    fake_gitlab.add_project(PROJECT, files={STAGING: staging_file, PROD: prod_file})
    fake_gitlab.add_member(PROJECT, "ferrybot", 30)
    fake_gitlab.add_member(PROJECT, "mia", 40)
    settings = bus_settings(
        kafka_bootstrap,
        gitlab_url=fake_gitlab.url,
        gitlab_token=TOKEN,
        gitlab_webhook_tokens=HOOK_TOKEN,
        mlflow_tracking_url=mlflow_server.url,
        mlflow_webhook_secrets=MLFLOW_SECRET,
        reconcile_enabled=False,
        http_port=free_port(),
        state_dir=tmp_path,
        bot={
            "pipelines": [
                {
                    "name": "churn",
                    "model": {"name": model, "alias": "champion"},
                    "stages": [_stage("staging", STAGING), _stage("prod", PROD)],
                }
            ]
        },
    )
    base = f"http://127.0.0.1:{settings.http_port}/webhooks"
    fake_gitlab.add_project_hook(PROJECT, f"{base}/gitlab", token=HOOK_TOKEN)
    async with running_bot(settings):
        hook = mlflow_server.add_webhook(
            "ferrybot-gitlab", f"{base}/mlflow", MLFLOW_SECRET, [("model_version_alias", "created")]
        )
        try:
            mlflow_server.set_alias(model, "champion", v2)
            staging_branch = "ferrybot/promote/churn/staging"
            await eventually(
                lambda: any(
                    _gate(fake_gitlab, mr["sha"]) for mr in _open(fake_gitlab, staging_branch)
                ),
                what="the staging MR and its gate",
            )
            [mr] = _open(fake_gitlab, staging_branch)
            assert mr["title"] == f"promote churn {v1} → {v2} to staging"
            assert mr["target_branch"] == "main" and sorted(mr["labels"]) == ["model", "promotion"]
            assert [r["username"] for r in mr["reviewers"]] == ["mia"]
            assert f"`models:/{model}/{v1}` | `models:/{model}/{v2}`" in mr["description"]
            promoted = fake_gitlab.file(PROJECT, staging_branch, STAGING)
            assert promoted == staging_file.replace(
                f"models:/{model}/{v1}", f"models:/{model}/{v2}"
            )
            assert fake_gitlab.file(PROJECT, staging_branch, PROD) == prod_file
            assert _gate(fake_gitlab, mr["sha"]) == ["success"]
            head = fake_gitlab.branch_head(PROJECT, staging_branch)
            [record] = await read_topic(settings, kafka_bootstrap, settings.topic_notifications, 1)
            opened = Notification.model_validate_json(record.value or b"")
            assert opened.title.startswith("Promotion MR: churn")
            assert opened.links == {f"!{mr['iid']}": mr["web_url"]}

            writes = _writes(fake_gitlab)
            mlflow_server.set_alias(model, "champion", v2)  # MLflow fires again
            records = await audit_records(settings, kafka_bootstrap, expect=4)
            assert [r.action for r in records] == [
                "promotion.opened",
                "gate.success",
                "promotion.unchanged",
                "gate.success",
            ]
            assert _writes(fake_gitlab) == writes, "a repeated trigger writes nothing"

            fake_gitlab.merge(PROJECT, mr["iid"], by="mia")
            merged = fake_gitlab.merge_request_hook(PROJECT, mr["iid"], "merge", user="mia")
            [sent] = await fake_gitlab.send_webhook(PROJECT, merged)
            assert sent.status == 202
            prod_branch = "ferrybot/promote/churn/prod"
            await eventually(
                lambda: any(_gate(fake_gitlab, m["sha"]) for m in _open(fake_gitlab, prod_branch)),
                what="the prod MR after the merge",
            )
            [prod_mr] = _open(fake_gitlab, prod_branch)
            assert prod_mr["title"] == f"promote churn {v1} → {v2} to prod"
            assert "staging promotion !1 merged by mia" in prod_mr["description"]
            assert fake_gitlab.file(PROJECT, prod_branch, PROD) == prod_file.replace(
                f"models:/{model}/{v1}", f"models:/{model}/{v2}"
            )
            assert fake_gitlab.file(PROJECT, "main", STAGING) == promoted
            assert head is not None

            # Someone pushes v3 (accuracy 0.80) onto the prod MR: the gate runs on the new head.
            before = prod_mr["sha"]
            pushed = fake_gitlab.push(
                PROJECT,
                prod_branch,
                {PROD: prod_file.replace(f"models:/{model}/{v1}", f"models:/{model}/{v3}")},
                author="mia",
            )
            update = fake_gitlab.merge_request_hook(
                PROJECT, prod_mr["iid"], "update", user="mia", oldrev=before
            )
            await fake_gitlab.send_webhook(PROJECT, update)
            await eventually(lambda: _gate(fake_gitlab, pushed) == ["failed"], what="the re-gate")

            # A note on the prod MR rolls staging back: the version before v2 in git history.
            note = fake_gitlab.add_note(
                PROJECT, prod_mr["iid"], author="mia", body="/rollback churn in staging"
            )
            await fake_gitlab.send_webhook(
                PROJECT, fake_gitlab.note_hook(PROJECT, prod_mr["iid"], note)
            )
            await eventually(
                lambda: bool(_open(fake_gitlab, staging_branch)), what="the rollback MR"
            )
            [back] = _open(fake_gitlab, staging_branch)
            assert back["title"] == f"promote churn {v2} → {v1} to staging"
            assert f"/rollback by mia to {v1} ({PROJECT}!{prod_mr['iid']})" in back["description"]
        finally:
            mlflow_server.delete_webhook(hook)
    commits = [w for w in _writes(fake_gitlab) if w[1].endswith("/repository/commits")]
    assert len(commits) == 3, "one commit per stage, one for the rollback"


def _writes(fake: FakeGitLab) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _ in fake.requests if m not in ("GET", "HEAD")]


@pytest.mark.parametrize(
    ("change", "found"),
    [
        ({}, True),
        ({"source_project_id": 999}, False),
        ({"target_branch": "release"}, False),
        ({"source_branch": "feature/x"}, False),
        ({"project": "other/gitops"}, False),
        ({"forge": "github"}, False),
    ],
    ids=[
        "the-stage-itself",
        "from-a-fork",
        "other-target",
        "not-a-promotion-branch",
        "other-project",
        "a-github-stage",
    ],
)
def test_only_the_stages_own_merge_requests_are_promotions(
    change: dict[str, Any], found: bool
) -> None:
    """A branch name alone is not enough: project, fork, target branch and forge must match."""
    payload = json.loads(
        (Path(__file__).parents[1] / "data/gitlab/webhooks/merge_request.json").read_text()
    )
    attributes = payload["object_attributes"]
    attributes.update(
        source_branch="ferrybot/promote/churn/staging",
        target_branch="main",
        state="merged",
    )
    attributes["target_project_id"] = attributes["source_project_id"]
    payload["project"]["path_with_namespace"] = change.pop("project", PROJECT)
    stage = {**_stage("staging", STAGING), "forge": change.pop("forge", "gitlab")}
    if stage["forge"] == "github":  # the same path, but the stage lives on GitHub
        stage["repo"] = payload["project"]["path_with_namespace"] = "platform/gitops"
    attributes.update(change)
    config = BotConfig.model_validate(
        {
            "pipelines": [
                {
                    "name": "churn",
                    "model": {"name": "churn"},
                    "stages": [stage],
                }
            ]
        }
    )
    hook = MergeRequestHook.model_validate(payload)
    assert (gitlab_promotion_of(config, hook) is not None) is found
