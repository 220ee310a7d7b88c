"""The parts of GitLab webhook payloads ferrybot reads (from GitLab's webhook events docs)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Lenient(BaseModel):
    # GitLab adds fields release by release; only the ones read here are checked.
    model_config = ConfigDict(extra="ignore")


class HookUser(_Lenient):
    """Who caused the event."""

    id: int
    username: str


class HookProject(_Lenient):
    """The project the hook belongs to."""

    id: int
    path_with_namespace: str


class MergeRequestAttributes(_Lenient):
    """`object_attributes` of a Merge Request Hook."""

    id: int
    iid: int
    source_branch: str
    target_branch: str
    source_project_id: int
    target_project_id: int
    state: str
    action: str | None = None
    url: str | None = None
    merge_commit_sha: str | None = None
    # Set on an `update` that pushed commits: the head before the push.
    oldrev: str | None = None
    updated_at: str | None = None


class MergeRequestHook(_Lenient):
    """`Merge Request Hook` deliveries."""

    object_kind: str
    user: HookUser
    project: HookProject
    object_attributes: MergeRequestAttributes
