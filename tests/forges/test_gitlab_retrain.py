"""Retraining on GitLab: a pipeline with FERRYBOT_* variables, once per episode, markers as tags."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

import aiohttp
import gidgethub.aiohttp
import pytest
import structlog

from bot.context import Context
from bot.evaluation.cycle import close_cycle
from bot.evaluation.dispatch import TrainingRequest
from bot.evaluation.retrain import retrain
from bot.forges.directory import Forges
from bot.forges.gitlab.adapter import GitLabForge, GitLabMemory
from bot.forges.gitlab.client import GitLabClient
from bot.publisher import Publisher
from schemas.config import BotConfig
from schemas.envelope import Envelope, Source
from schemas.pipelines import Pipeline
from tests.commands.harness import RecordingPublisher
from tests.fakegitlab.server import FakeGitLab

TRAINING = "ml/churn-training"
TOKEN = "glpat-ferrybot-retrain-token"


def _pipeline() -> Pipeline:
    config = BotConfig.model_validate(
        {
            "pipelines": [
                {
                    "name": "churn",
                    "model": {"name": "churn"},
                    "retrain": {"forge": "gitlab", "repo": TRAINING, "ref": "main"},
                    "stages": [
                        {
                            "name": "prod",
                            "forge": "gitlab",
                            "repo": "platform/gitops",
                            "writes": [
                                {
                                    "kind": "yaml",
                                    "file": "isvc.yaml",
                                    "path": "spec.predictor.model.storageUri",
                                    "value": "models:/{name}/{version}",
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )
    return config.pipelines[0]


def _request(episode: str) -> TrainingRequest:
    return TrainingRequest(
        pipeline="churn",
        stage="prod",
        model="churn",
        version="7",
        alert="ModelAccuracyLow",
        link="https://alerts.example.com/#/alerts?x",
        episode=episode,
    )


@pytest.fixture
async def ctx(fake_gitlab: FakeGitLab) -> AsyncIterator[tuple[Context, RecordingPublisher]]:
    """A worker's Context for an Alertmanager event, with the GitLab adapter in `forges`."""
    fake_gitlab.add_user("ferrybot")
    fake_gitlab.add_token(TOKEN, "ferrybot")
    fake_gitlab.add_project(TRAINING, files={".gitlab-ci.yml": "train:\n  script: [train]\n"})
    # A pipeline on a protected branch needs a user allowed to merge there: a Maintainer.
    fake_gitlab.add_member(TRAINING, "ferrybot", 40)
    publisher = RecordingPublisher()
    async with aiohttp.ClientSession() as session:
        forge = GitLabForge(GitLabClient(session, url=fake_gitlab.url, token=TOKEN), GitLabMemory())
        envelope = Envelope(
            id="alert-1",
            source=Source.ALERTMANAGER,
            event="alert",
            subject="model/churn",
            payload={},
        )
        yield (
            Context(
                envelope=envelope,
                gh=gidgethub.aiohttp.GitHubAPI(session, "ferrybot-tests"),
                config=BotConfig(),
                log=structlog.get_logger(),
                dry_run=False,
                publisher=cast(Publisher, publisher),
                forges=Forges(forge),
            ),
            publisher,
        )


async def test_one_pipeline_per_episode_and_none_within_the_cool_down(
    fake_gitlab: FakeGitLab, ctx: tuple[Context, RecordingPublisher]
) -> None:
    """The first alert runs the training pipeline with the variables; the same episode again
    and another episode within the cool-down run nothing; the markers survive a new adapter."""
    context, _ = ctx
    pipeline = _pipeline()
    stage = pipeline.stages[0]
    fired = datetime.now(UTC)

    first = await retrain(context, pipeline, stage, _request("ep-1"), fired, "fp-1")
    again = await retrain(context, pipeline, stage, _request("ep-1"), fired, "fp-1")
    other = await retrain(context, pipeline, stage, _request("ep-2"), fired, "fp-2")

    assert first.dispatched and not again.dispatched and not other.dispatched
    assert "already dispatched for this episode" in again.reason
    assert other.reason.startswith("cool-down")
    [run] = fake_gitlab.pipelines(TRAINING)
    assert run["ref"] == "main" and run["source"] == "api"
    variables: dict[str, Any] = {v["key"]: v["value"] for v in run["variables"]}
    assert variables["FERRYBOT_MODEL"] == "churn" and variables["FERRYBOT_VERSION"] == "7"
    assert variables["FERRYBOT_EPISODE"] == "ep-1"
    assert first.marker is not None and first.marker.run_url == run["web_url"]


async def test_a_newer_version_closes_the_cycle_once(
    fake_gitlab: FakeGitLab, ctx: tuple[Context, RecordingPublisher]
) -> None:
    """After retraining, version 8 reaching prod audits the cycle once; 9 later does not."""
    context, publisher = ctx
    pipeline = _pipeline()
    stage = pipeline.stages[0]
    await retrain(context, pipeline, stage, _request("ep-1"), datetime.now(UTC), "fp-1")

    assert not await close_cycle(context, pipeline, stage, "7")  # what was running already
    assert await close_cycle(context, pipeline, stage, "8")
    assert not await close_cycle(context, pipeline, stage, "9")

    [cycle] = [a for a in publisher.audits if a.action == "retrain.cycle_completed"]
    assert (cycle.from_value, cycle.to_value) == ("7", "8")
    assert len(fake_gitlab.pipelines(TRAINING)) == 1
