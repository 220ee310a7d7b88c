"""The deterministic promotion branch: `ferrybot/promote/<pipeline>/<stage>`."""

from __future__ import annotations

from bot.gitops.identifiers import InvalidIdentifier, validate_pipeline_name, validate_stage_name

PREFIX = "ferrybot/promote/"


def promotion_branch(pipeline: str, stage: str) -> str:
    """The one branch (and so the one pull request) of a pipeline's stage."""
    return f"{PREFIX}{validate_pipeline_name(pipeline)}/{validate_stage_name(stage)}"


def parse_promotion_branch(ref: str) -> tuple[str, str] | None:
    """`(pipeline, stage)` of a promotion branch, or None for any other branch."""
    if not ref.startswith(PREFIX):
        return None
    parts = ref.removeprefix(PREFIX).split("/")
    if len(parts) != 2:
        return None
    try:
        return validate_pipeline_name(parts[0]), validate_stage_name(parts[1])
    except InvalidIdentifier:
        return None
