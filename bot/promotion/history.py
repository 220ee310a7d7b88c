"""The version a stage ran before the current one, from the git history of its files."""

from __future__ import annotations

from bot.forges.port import GitOpsForge
from bot.pipeline.retry import PermanentError
from bot.promotion.engine import stage_files
from bot.promotion.plan import Deployed, read_deployed
from schemas.pipelines import Stage

# How far back a rollback looks for a different version.
MAX_COMMITS = 50


async def previous_deployed(forge: GitOpsForge, stage: Stage, current: Deployed) -> Deployed | None:
    """The newest earlier state of the stage's files naming another version, or None."""
    history = await forge.file_history(stage.repo, stage.branch, stage.writes[0].file, MAX_COMMITS)
    for sha, _ in history:
        try:
            _, files = await stage_files(forge, stage, ref=sha)
        except PermanentError:
            return None  # the files did not exist yet: nothing earlier to go back to
        deployed = read_deployed(stage, files)
        if deployed.label != current.label and deployed.label != "none":
            return deployed
    return None
