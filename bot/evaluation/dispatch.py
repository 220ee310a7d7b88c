"""Start the training workflow: GitHub Actions workflow_dispatch, or a repository_dispatch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gidgethub.abc import GitHubAPI

from bot.promotion.gitdata import RepoRef
from schemas.evaluation import RetrainConfig


@dataclass(frozen=True)
class TrainingRequest:
    """What the workflow is told: the model, what runs in production, why, and a link."""

    pipeline: str
    stage: str
    model: str
    version: str
    alert: str
    link: str
    episode: str


def workflow_inputs(request: TrainingRequest) -> dict[str, str]:
    """The `workflow_dispatch` inputs; the workflow must declare exactly these."""
    return {
        "model": request.model,
        "version": request.version,
        "alert": request.alert,
        "link": request.link,
    }


async def dispatch_training(gh: GitHubAPI, config: RetrainConfig, request: TrainingRequest) -> str:
    """Dispatch the workflow (or the repository event); the run's URL when GitHub returns it."""
    repo = RepoRef.parse(config.repo)
    if config.workflow is not None:
        answer: Any = await gh.post(
            f"{repo.api}/actions/workflows/{config.workflow}/dispatches",
            data={
                "ref": config.ref,
                "inputs": workflow_inputs(request),
                "return_run_details": True,
            },
        )
        return str(answer.get("html_url", "")) if isinstance(answer, dict) else ""
    await gh.post(
        f"{repo.api}/dispatches",
        data={
            "event_type": config.event_type,
            "client_payload": {
                **workflow_inputs(request),
                "pipeline": request.pipeline,
                "stage": request.stage,
                "episode": request.episode,
            },
        },
    )
    return ""
