"""Dispatch markers: refs in the training repository that remember each retraining, crash-safe.

A marker is a parentless commit (message: JSON) under `refs/ferrybot/retrain/<pipeline>/`,
one per alert episode plus `last`. They live in GitHub, not in this process, so a restart, a
second worker or a redelivery days later still sees what was dispatched and when.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime

import gidgethub
from gidgethub.abc import GitHubAPI

from bot.pipeline.retry import PermanentError
from bot.promotion import gitdata
from bot.promotion.gitdata import RepoRef

PREFIX = "ferrybot/retrain"
MARKER_HEADER = "ferrybot retraining marker"


@dataclass(frozen=True)
class Marker:
    """One dispatched retraining, and whether a new version reached the stage since."""

    episode: str
    pipeline: str
    stage: str
    alert: str
    fingerprint: str
    fired_at: str
    dispatched_at: str
    version: str
    run_url: str = ""
    completed_at: str = ""
    promoted: str = ""

    @property
    def dispatched(self) -> datetime:
        """When training was dispatched."""
        return datetime.fromisoformat(self.dispatched_at)

    def completed(self, at: datetime, promoted: str) -> Marker:
        """This marker with the cycle closed by `promoted` reaching the stage at `at`."""
        return replace(self, completed_at=at.isoformat(), promoted=promoted)


def ref_name(pipeline: str, key: str) -> str:
    """`ferrybot/retrain/<pipeline>/<key>`: `key` is an episode or `last` (validated parts)."""
    return f"{PREFIX}/{pipeline}/{key}"


async def read_marker(gh: GitHubAPI, repo: RepoRef, name: str) -> Marker | None:
    """The marker a ref points at, or None when there is none."""
    try:
        ref = await gh.getitem(f"{repo.api}/git/ref/{name}")
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) == 404:
            return None
        raise
    commit = await gh.getitem(f"{repo.api}/git/commits/{ref['object']['sha']}")
    return parse_marker(str(commit.get("message", "")), f"{repo}: the ref refs/{name}")


def parse_marker(message: str, where: str) -> Marker:
    """The marker in a commit or tag message (a header line, a blank line, the JSON)."""
    _, _, body = message.partition("\n\n")
    try:
        return Marker(**json.loads(body))
    except (ValueError, TypeError):
        raise PermanentError(f"{where} is not a ferrybot marker; delete it to reset it") from None


async def write_marker(
    gh: GitHubAPI, repo: RepoRef, branch: str, names: list[str], marker: Marker
) -> None:
    """Point each ref in `names` at one new marker commit (created or moved)."""
    head = await gitdata.branch_head(gh, repo, branch)
    if head is None:
        raise PermanentError(f"{repo} has no branch {branch}; fix the pipeline's `retrain.ref`")
    tree = await gitdata.commit_tree(gh, repo, head)
    message = (
        f"{MARKER_HEADER}: {marker.pipeline} {marker.episode}\n\n{json.dumps(asdict(marker))}\n"
    )
    commit = await gh.post(
        f"{repo.api}/git/commits", data={"message": message, "tree": tree, "parents": []}
    )
    sha = commit.get("sha") or "dry-run:marker"
    for name in names:
        try:
            await gh.post(f"{repo.api}/git/refs", data={"ref": f"refs/{name}", "sha": sha})
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) != 422:
                raise
            # It exists already (an earlier marker, or a retry after a crash): move it.
            await gh.patch(f"{repo.api}/git/refs/{name}", data={"sha": sha, "force": True})
