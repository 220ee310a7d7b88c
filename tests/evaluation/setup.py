"""A pipeline with on_alert reactions on the fake GitHub, and fresh copies of the captures."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from bot.ingress.alertmanager import alertmanager_envelopes
from bot.settings import load_settings
from schemas.config import BotConfig
from schemas.envelope import Envelope
from tests.commands.harness import OWNER, REPO
from tests.evaluation.samples import TOKEN, headers, sample
from tests.fakegithub.server import FakeGitHub
from tests.promotion.setup import gitops_text

PROD = "deploy/prod/kustomization.yaml"
STAGING = "deploy/staging/kustomization.yaml"
IMAGE = "registry.example.com/team/app"
WORKFLOW = ".github/workflows/retrain.yml"
WORKFLOW_TEXT = """\
name: retrain
on:
  workflow_dispatch:
    inputs:
      model: {required: true}
      version: {required: true}
      alert: {required: true}
      link: {required: false}
jobs:
  train:
    runs-on: ubuntu-latest
    steps:
      - run: echo "retrain ${{ inputs.model }} (${{ inputs.version }}) after ${{ inputs.alert }}"
"""


def kustomization(tag: str) -> str:
    """The staging/prod overlay naming `tag`, pinned to a digest made from it."""
    digest = "sha256:" + tag.replace(".", "").ljust(64, "a")[:64]
    text = gitops_text("kustomization.yaml", REGISTRY="registry.example.com")
    zero = "sha256:" + "0" * 64
    return text.replace('newTag: "1.3.0"', f'newTag: "{tag}"').replace(zero, digest)


def pipeline_config(**retrain: object) -> dict[str, Any]:
    """Pipeline `churn` (an image here: no registry needed) with retrain, rollback and notify."""

    def stage(name: str, file: str) -> dict[str, Any]:
        write = {"kind": "kustomize", "file": file, "image": IMAGE}
        return {"name": name, "repo": f"{OWNER}/{REPO}", "writes": [write]}

    return {
        "name": "churn",
        "image": {"repository": "team/app", "pin_digest": True},
        "stages": [stage("staging", STAGING), {**stage("prod", PROD), "auto": False}],
        "retrain": {"repo": f"{OWNER}/{REPO}", "workflow": "retrain.yml", **retrain},
        "on_alert": [
            {
                "name": "drift",
                "match": {"alertname": ["ModelDrift*"], "stages": ["prod"]},
                "reactions": ["retrain", "rollback", "notify"],
                "rollback_window_seconds": 3600,
            }
        ],
    }


def config(**retrain: object) -> BotConfig:
    """The bot config with the one pipeline."""
    return BotConfig.model_validate({"pipelines": [pipeline_config(**retrain)]})


def seed(fake: FakeGitHub) -> None:
    """prod ran 1.3.0 and was just promoted to 1.4.0; the repo has the training workflow."""
    fake.commit_files(
        OWNER,
        REPO,
        "main",
        {STAGING: kustomization("1.4.0"), PROD: kustomization("1.3.0"), WORKFLOW: WORKFLOW_TEXT},
        "prod on 1.3.0",
    )
    fake.commit_files(OWNER, REPO, "main", {PROD: kustomization("1.4.0")}, "promote 1.4.0")


def alert_envelopes(name: str, started: datetime | None = None, **labels: str) -> list[Envelope]:
    """The capture's envelopes as ingress makes them, started at `started` (default now)."""
    body = copy.deepcopy(sample(name))
    at = (started or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    for alert in body["alerts"]:
        alert["startsAt"] = at
        alert["labels"].update(labels)
    settings = load_settings(alertmanager_tokens=TOKEN)
    return alertmanager_envelopes(headers(name), json.dumps(body).encode(), settings)
