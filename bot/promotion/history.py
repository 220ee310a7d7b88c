"""The version a stage ran before the current one, from the git history of its files."""

from __future__ import annotations

from urllib.parse import quote

from gidgethub.abc import GitHubAPI

from bot.pipeline.retry import PermanentError
from bot.promotion.engine import stage_files
from bot.promotion.gitdata import RepoRef
from bot.promotion.plan import Deployed, read_deployed
from schemas.pipelines import Stage

# How far back a rollback looks for a different version.
MAX_COMMITS = 50


async def previous_deployed(gh: GitHubAPI, stage: Stage, current: Deployed) -> Deployed | None:
    """The newest earlier state of the stage's files naming another version, or None."""
    repo = RepoRef.parse(stage.repo)
    path = quote(stage.writes[0].file)
    listing = f"{repo.api}/commits?sha={quote(stage.branch)}&path={path}&per_page={MAX_COMMITS}"
    seen = 0
    async for commit in gh.getiter(listing):
        seen += 1
        if seen > MAX_COMMITS:
            break
        try:
            _, files = await stage_files(gh, stage, ref=commit["sha"])
        except PermanentError:
            return None  # the files did not exist yet: nothing earlier to go back to
        deployed = read_deployed(stage, files)
        if deployed.label != current.label and deployed.label != "none":
            return deployed
    return None
