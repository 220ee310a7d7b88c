"""Pipelines and external commit statuses, with GitLab's status state machine.

Modelled on app/services/ci/create_commit_status_service.rb (docs: doc/api/commits.md, "Set the
pipeline status of a commit"): a posted state is applied as an event to the RUNNING or PENDING
status of the same name, ref, pipeline and user, else to a new status created for it; finished
statuses are never changed again, so posting one more state makes a new row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.fakegitlab.repository import contains
from tests.fakegitlab.routing import GitLabError, not_found
from tests.fakegitlab.state import CommitStatus, GitLabState, Pipeline, Project, User, now

ACTIVE = frozenset({"created", "waiting_for_resource", "preparing", "pending", "running"})
FINISHED = frozenset({"success", "failed", "canceled", "skipped"})
_BEFORE_RUN = frozenset({"created", "waiting_for_resource", "preparing"})
# CommitStatus's state machine: event -> (states it leaves, state it enters).
EVENTS: dict[str, tuple[frozenset[str], str]] = {
    "enqueue": (_BEFORE_RUN | {"skipped", "manual", "scheduled"}, "pending"),
    "run": (frozenset({"pending"}), "running"),
    "success": (_BEFORE_RUN | {"waiting_for_callback", "pending", "running"}, "success"),
    "drop": (
        _BEFORE_RUN | {"waiting_for_callback", "pending", "running", "manual", "scheduled"},
        "failed",
    ),
    "cancel": (
        _BEFORE_RUN | {"waiting_for_callback", "pending", "running", "manual", "scheduled"},
        "canceled",
    ),
    "skip": (_BEFORE_RUN | {"pending"}, "skipped"),
}
# What each posted state fires; strict events (GitLab's `event!`) refuse a bad transition,
# the others (`event`) are skipped silently: "running" on a pending status is enqueue + run!.
STATE_EVENTS: dict[str, tuple[tuple[str, bool], ...]] = {
    "pending": (("enqueue", True),),
    "running": (("enqueue", False), ("run", True)),
    "success": (("success", True),),
    "failed": (("drop", True),),
    "canceled": (("cancel", True),),
    "skipped": (("skip", True),),
}
STATES = tuple(STATE_EVENTS)
TARGET_URL_MAX = 255


def new_pipeline(
    state: GitLabState,
    project: Project,
    *,
    sha: str,
    ref: str,
    status: str,
    source: str,
    user: User | None,
    variables: list[dict[str, str]] | None = None,
) -> Pipeline:
    pipeline = Pipeline(
        id=state.next_id("pipeline"),
        iid=len(project.pipelines) + 1,
        project_id=project.id,
        sha=sha,
        ref=ref,
        status=status,
        source=source,
        user=user,
        variables=list(variables or []),
        jobs=None if source == "external" else status,
    )
    project.pipelines[pipeline.id] = pipeline
    return pipeline


def set_status(
    state: GitLabState,
    project: Project,
    sha: str,
    params: Mapping[str, Any],
    author: User,
    *,
    may_write_protected: bool,
) -> CommitStatus:
    """POST /projects/:id/statuses/:sha, after parameter validation and the Developer check."""
    if sha not in project.commits:
        raise not_found("Commit")
    # GenericCommitStatus: `validates :target_url, addressable_url: true, length: {maximum: 255}`.
    target_url = params.get("target_url")
    if target_url is not None and not target_url.startswith(("http://", "https://")):
        raise GitLabError(
            400,
            {"target_url": ["is blocked: Only allowed schemes are http, https"]},
            violation=True,
        )
    if target_url is not None and len(target_url) > TARGET_URL_MAX:
        raise GitLabError(
            400,
            {"target_url": [f"is too long (maximum is {TARGET_URL_MAX} characters)"]},
            violation=True,
        )
    name = params.get("name") or params.get("context") or "default"
    ref = params.get("ref")
    pipeline_id = params.get("pipeline_id")
    matching = _first_matching_pipeline(project, sha, ref, pipeline_id)
    ref = ref or (matching.ref if matching else None) or _first_branch_containing(project, sha)
    if ref is None:
        raise not_found("References for commit")
    if pipeline_id is not None and matching is None:
        raise not_found("Pipeline for pipeline_id, sha and ref")
    # Without a matching pipeline GitLab makes an external one to hold the status.
    pipeline = matching or new_pipeline(
        state, project, sha=sha, ref=ref, status="created", source="external", user=author
    )
    # Updating a pipeline of a protected ref takes the right to push or merge to it.
    if project.protected(ref) and not may_write_protected:
        raise GitLabError(403, "403 Forbidden")
    row = next(
        (
            s
            for s in reversed(project.statuses)
            if s.pipeline_id == pipeline.id
            and s.name == name
            and s.ref == ref
            and s.author.id == author.id
            and s.status in ("pending", "running")
        ),
        None,
    )
    if row is None:
        row = CommitStatus(
            id=state.next_id("job"),
            sha=sha,
            ref=ref,
            name=name,
            status="created",
            pipeline_id=pipeline.id,
            author=author,
        )
        fresh = True
    else:
        fresh = False
    for event, strict in STATE_EVENTS[params["state"]]:
        leaves, enters = EVENTS[event]
        if row.status not in leaves:
            if strict:
                # state_machines' InvalidTransition message, which GitLab answers verbatim.
                raise GitLabError(
                    400,
                    f"Cannot transition status via :{event} from :{row.status} "
                    f'(Reason(s): Status cannot transition via "{event}")',
                )
            continue
        row.status = enters
    moment = now()
    if row.status == "running" and row.started_at is None:
        row.started_at = moment
    if row.status in FINISHED:
        row.finished_at = moment
    for attribute in ("target_url", "description", "coverage"):
        if attribute in params:
            setattr(row, attribute, params[attribute])
    if fresh:
        project.statuses.append(row)
    refresh(project, pipeline)
    return row


def _first_matching_pipeline(
    project: Project, sha: str, ref: str | None, pipeline_id: int | None
) -> Pipeline | None:
    for pipeline in sorted(project.pipelines.values(), key=lambda p: p.id, reverse=True):
        if (
            pipeline.sha == sha
            and ref in (None, pipeline.ref)
            and pipeline_id in (None, pipeline.id)
        ):
            return pipeline
    return None


def _first_branch_containing(project: Project, sha: str) -> str | None:
    return next((b for b in sorted(project.branches) if contains(project, b, sha)), None)


def latest(rows: list[CommitStatus]) -> list[CommitStatus]:
    """The newest row per pipeline and name (older ones are 'retried' on GitLab)."""
    newest: dict[tuple[int, str], CommitStatus] = {}
    for row in rows:
        newest[(row.pipeline_id, row.name)] = row
    return sorted(newest.values(), key=lambda r: r.id)


def refresh(project: Project, pipeline: Pipeline) -> None:
    """The pipeline's status from its own jobs and latest external statuses, composed the way
    GitLab composes a pipeline's status from its jobs (simplified)."""
    states = {
        row.status for row in latest([s for s in project.statuses if s.pipeline_id == pipeline.id])
    }
    if pipeline.jobs is not None:
        states.add(pipeline.jobs)
    if not states:
        return
    if "running" in states or ("pending" in states and states & FINISHED):
        composed = "running"
    elif "pending" in states:
        composed = "pending"
    elif "created" in states:
        composed = "created"
    elif "failed" in states:
        composed = "failed"
    elif "canceled" in states:
        composed = "canceled"
    elif states == {"skipped"}:
        composed = "skipped"
    else:
        composed = "success"
    pipeline.status = composed
    pipeline.updated_at = now()
