"""A check on GitLab: one commit status per name on the head pipeline, posted only on change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from gidgetlab.abc import GitLabAPI
from gidgetlab.exceptions import BadRequest

from bot.checks import CheckResult, Conclusion
from bot.github.limits import fit
from bot.lru_cache import LRUCache
from bot.pipeline.retry import TransientError

# GitLab keeps a status description in a 255-character column.
DESCRIPTION_LIMIT = 255
# A neutral verdict (a check with nothing to judge, a dry run) must not block the merge.
_STATE = {
    Conclusion.SUCCESS: "success",
    Conclusion.FAILURE: "failed",
    Conclusion.NEUTRAL: "success",
}
_CONCLUSION = {"success": "success", "failed": "failure", "canceled": "failure"}


@dataclass(frozen=True)
class StatusKey:
    """One status line of a merge request: project, commit, pipeline and check name."""

    project: str
    sha: str
    pipeline_id: int | None
    name: str


@dataclass(frozen=True)
class KnownStatus:
    """What a status says: GitLab's state, the description and where it links."""

    state: str
    description: str
    target_url: str | None


# The statuses this process posted or read, so an unchanged verdict costs no request; a
# worker that restarts forgets and asks GitLab once per status again.
StatusMemory = LRUCache[StatusKey, KnownStatus]


async def publish_status(
    gl: GitLabAPI,
    key: StatusKey,
    result: CheckResult,
    target_url: str | None,
    ref: str,
    memory: StatusMemory,
) -> str | None:
    """Post `result` as the status `key.name`, unless it already says exactly that.

    Returns the conclusion the status had before (None when it is new). GitLab answers 400
    to a transition its state machine refuses and 409 while another writer holds the status;
    the first is settled by reading what is there now, the second retried.
    """
    wanted = KnownStatus(
        _STATE[result.conclusion], fit(result.title, DESCRIPTION_LIMIT), target_url
    )
    current = memory.get(key) or await _latest(gl, key)
    previous = _CONCLUSION.get(current.state) if current is not None else None
    if current == wanted:
        memory[key] = wanted
        return previous
    data: dict[str, Any] = {
        "state": wanted.state,
        "name": key.name,
        "description": wanted.description,
        "ref": ref,
    }
    if target_url is not None:
        data["target_url"] = target_url
    if key.pipeline_id is not None:
        data["pipeline_id"] = key.pipeline_id
    try:
        await gl.post(f"/projects/{quote(key.project, safe='')}/statuses/{key.sha}", data=data)
    except BadRequest as exc:
        status = int(exc.status_code)
        if status == 409:
            raise TransientError(
                f"GitLab status {key.name} is being written by another request"
            ) from None
        if status != 400 or "transition" not in str(exc):
            raise
        now = await _latest(gl, key)
        if now != wanted:
            raise TransientError(f"GitLab refused the {key.name} transition: {exc}") from None
    memory[key] = wanted
    return previous


async def _latest(gl: GitLabAPI, key: StatusKey) -> KnownStatus | None:
    """The newest status of that name on the commit (and pipeline), as GitLab lists it."""
    params: dict[str, str | bool] = {"name": key.name, "per_page": "100"}
    if key.pipeline_id is not None:
        params["pipeline_id"] = str(key.pipeline_id)
    path = f"/projects/{quote(key.project, safe='')}/repository/commits/{key.sha}/statuses"
    newest: dict[str, Any] | None = None
    async for item in gl.getiter(path, params):
        if item.get("name") == key.name and (newest is None or item["id"] > newest["id"]):
            newest = item
    if newest is None:
        return None
    return KnownStatus(
        str(newest.get("status")), str(newest.get("description") or ""), newest.get("target_url")
    )
