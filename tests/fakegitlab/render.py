"""Answers shaped like the example responses of GitLab's REST docs (doc/api/*.md)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from tests.fakegitlab.state import (
    Award,
    Commit,
    CommitStatus,
    Discussion,
    MergeRequest,
    Note,
    Pipeline,
    Project,
    Tag,
    User,
    blob_id,
    iso,
)

EMAIL_DOMAIN = "example.com"


def user(base: str, who: User) -> dict[str, Any]:
    """doc/api/users.md: the basic user entity."""
    return {
        "id": who.id,
        "username": who.username,
        "name": who.name,
        "state": who.state,
        "locked": False,
        "avatar_url": f"{base}/uploads/-/system/user/avatar/{who.id}/avatar.png",
        "web_url": f"{base}/{who.username}",
    }


def project(base: str, project: Project) -> dict[str, Any]:
    """doc/api/projects.md, "Get a single project" (the fields clients read)."""
    namespace = project.namespace
    return {
        "id": project.id,
        "description": None,
        "name": project.path,
        "name_with_namespace": " / ".join(project.path_with_namespace.split("/")),
        "path": project.path,
        "path_with_namespace": project.path_with_namespace,
        "created_at": iso(project.created_at),
        "default_branch": project.default_branch,
        "visibility": "private",
        "ssh_url_to_repo": f"git@127.0.0.1:{project.path_with_namespace}.git",
        "http_url_to_repo": f"{base}/{project.path_with_namespace}.git",
        "web_url": f"{base}/{project.path_with_namespace}",
        "namespace": {
            "id": project.namespace_id,
            "name": namespace.rsplit("/", 1)[-1],
            "path": namespace.rsplit("/", 1)[-1],
            "kind": "group",
            "full_path": namespace,
            "parent_id": None,
            "web_url": f"{base}/groups/{namespace}",
        },
        "archived": False,
        "empty_repo": not project.branches,
    }


def commit(base: str, project: Project, commit: Commit) -> dict[str, Any]:
    """doc/api/commits.md, "Get a single commit"."""
    moment = iso(commit.created_at)
    email = f"{commit.author.username}@{EMAIL_DOMAIN}"
    return {
        "id": commit.sha,
        "short_id": commit.sha[:8],
        "created_at": moment,
        "parent_ids": list(commit.parent_ids),
        "title": commit.title,
        "message": commit.message,
        "author_name": commit.author.name,
        "author_email": email,
        "authored_date": moment,
        "committer_name": commit.author.name,
        "committer_email": email,
        "committed_date": moment,
        "trailers": {},
        "extended_trailers": {},
        "web_url": f"{base}/{project.path_with_namespace}/-/commit/{commit.sha}",
    }


def pipeline(base: str, project: Project, pipeline: Pipeline) -> dict[str, Any]:
    """doc/api/pipelines.md, "Get a single pipeline"."""
    finished = pipeline.status in ("success", "failed", "canceled", "skipped")
    return {
        "id": pipeline.id,
        "iid": pipeline.iid,
        "project_id": pipeline.project_id,
        "sha": pipeline.sha,
        "ref": pipeline.ref,
        "status": pipeline.status,
        "source": pipeline.source,
        "created_at": iso(pipeline.created_at),
        "updated_at": iso(pipeline.updated_at),
        "web_url": f"{base}/{project.path_with_namespace}/-/pipelines/{pipeline.id}",
        "before_sha": "0" * 40,
        "tag": False,
        "yaml_errors": None,
        "user": user(base, pipeline.user) if pipeline.user else None,
        "started_at": iso(pipeline.created_at) if pipeline.status != "created" else None,
        "finished_at": iso(pipeline.updated_at) if finished else None,
        "committed_at": None,
        "duration": None,
        "queued_duration": None,
        "coverage": None,
        "detailed_status": {
            "icon": f"status_{pipeline.status}",
            "text": pipeline.status,
            "label": pipeline.status,
            "group": pipeline.status,
            "details_path": f"/{project.path_with_namespace}/-/pipelines/{pipeline.id}",
        },
    }


def status(base: str, row: CommitStatus) -> dict[str, Any]:
    """doc/api/commits.md, "Set the pipeline status of a commit"."""
    return {
        "id": row.id,
        "sha": row.sha,
        "ref": row.ref,
        "status": row.status,
        "name": row.name,
        "target_url": row.target_url,
        "description": row.description,
        "created_at": iso(row.created_at),
        "started_at": iso(row.started_at),
        "finished_at": iso(row.finished_at),
        "allow_failure": False,
        "coverage": row.coverage,
        "pipeline_id": row.pipeline_id,
        "author": user(base, row.author),
    }


def merge_request(
    base: str, project: Project, mr: MergeRequest, head_pipeline: Pipeline | None
) -> dict[str, Any]:
    """doc/api/merge_requests.md, "Get single MR"."""
    head = project.commits.get(mr.sha)
    return {
        "id": mr.id,
        "iid": mr.iid,
        "project_id": mr.project_id,
        "title": mr.title,
        "description": mr.description,
        "state": mr.state,
        "created_at": iso(mr.created_at),
        "updated_at": iso(mr.updated_at),
        "merged_by": user(base, mr.merged_by) if mr.merged_by else None,
        "merge_user": user(base, mr.merged_by) if mr.merged_by else None,
        "merged_at": iso(mr.merged_at),
        "closed_at": iso(mr.closed_at),
        "target_branch": mr.target_branch,
        "source_branch": mr.source_branch,
        "user_notes_count": sum(1 for note in mr.notes() if not note.system),
        "author": user(base, mr.author),
        "assignees": [user(base, who) for who in mr.assignees],
        "assignee": user(base, mr.assignees[0]) if mr.assignees else None,
        "reviewers": [user(base, who) for who in mr.reviewers],
        "source_project_id": mr.project_id,
        "target_project_id": mr.project_id,
        "labels": sorted(mr.labels),
        "draft": mr.draft,
        "work_in_progress": mr.draft,
        "milestone": None,
        "merge_when_pipeline_succeeds": mr.auto_merge_by is not None,
        "merge_status": "can_be_merged",
        "detailed_merge_status": _detailed_merge_status(mr),
        "sha": mr.sha,
        "merge_commit_sha": mr.merge_commit_sha,
        "squash_commit_sha": mr.squash_commit_sha,
        "discussion_locked": None,
        "should_remove_source_branch": mr.remove_source_branch,
        "force_remove_source_branch": bool(mr.remove_source_branch),
        "reference": f"!{mr.iid}",
        "references": {
            "short": f"!{mr.iid}",
            "relative": f"!{mr.iid}",
            "full": f"{project.path_with_namespace}!{mr.iid}",
        },
        "web_url": f"{base}/{project.path_with_namespace}/-/merge_requests/{mr.iid}",
        "squash": False,
        "has_conflicts": False,
        "blocking_discussions_resolved": all(
            note.resolved for note in mr.notes() if note.resolvable
        ),
        "head_pipeline": pipeline(base, project, head_pipeline) if head_pipeline else None,
        "pipeline": pipeline(base, project, head_pipeline) if head_pipeline else None,
        "diff_refs": {
            "base_sha": mr.base_sha,
            "head_sha": mr.sha,
            "start_sha": project.branches.get(mr.target_branch, mr.base_sha),
        },
        "first_contribution": False,
        "changes_count": str(len(head.files)) if head else "0",
    }


def _detailed_merge_status(mr: MergeRequest) -> str:
    if mr.state != "opened":
        return "not_open"
    if mr.draft:
        return "draft_status"
    return "mergeable"


def note(
    base: str, project: Project, mr: MergeRequest, item: Note, individual: bool
) -> dict[str, Any]:
    """doc/api/notes.md, merge request notes."""
    answer: dict[str, Any] = {
        "id": item.id,
        "type": None if individual else "DiscussionNote",
        "body": item.body,
        "attachment": None,
        "author": user(base, item.author),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "system": item.system,
        "noteable_id": mr.id,
        "noteable_type": "MergeRequest",
        "project_id": project.id,
        "noteable_iid": mr.iid,
        "commands_changes": {},
        "resolvable": item.resolvable,
        "resolved": item.resolved,
        "resolved_by": user(base, item.resolved_by) if item.resolved_by else None,
        "resolved_at": None,
        "confidential": False,
        "internal": False,
        "imported": False,
        "imported_from": "none",
    }
    return answer


def discussion(base: str, project: Project, mr: MergeRequest, item: Discussion) -> dict[str, Any]:
    """doc/api/discussions.md, merge request threads."""
    return {
        "id": item.id,
        "individual_note": item.individual_note,
        "notes": [note(base, project, mr, n, item.individual_note) for n in item.notes],
    }


def branch(base: str, project: Project, name: str) -> dict[str, Any]:
    """doc/api/branches.md, "Get single repository branch"."""
    head = project.commits[project.branches[name]]
    is_default = name == project.default_branch
    return {
        "name": name,
        "merged": False,
        "protected": project.protected(name),
        "default": is_default,
        "developers_can_push": False,
        "developers_can_merge": False,
        "can_push": True,
        "web_url": f"{base}/{project.path_with_namespace}/-/tree/{name}",
        "commit": commit(base, project, head),
    }


def file(project: Project, path: str, ref: str, at: Commit) -> dict[str, Any]:
    """doc/api/repository_files.md, "Get file from repository"."""
    content = at.files[path]
    data = content.encode()
    return {
        "file_name": path.rsplit("/", 1)[-1],
        "file_path": path,
        "size": len(data),
        "encoding": "base64",
        "content": base64.b64encode(data).decode(),
        "content_sha256": hashlib.sha256(data).hexdigest(),
        "ref": ref,
        "blob_id": blob_id(content),
        "commit_id": at.sha,
        "last_commit_id": at.touched_by.get(path, at.sha),
        "execute_filemode": False,
    }


def member(base: str, who: User, access_level: int) -> dict[str, Any]:
    """doc/api/members.md, "Get a member of a group or project, including inherited"."""
    return {
        **user(base, who),
        "access_level": access_level,
        "created_at": None,
        "expires_at": None,
        "membership_state": "active",
    }


def tag(base: str, project: Project, found: Tag) -> dict[str, Any]:
    """doc/api/tags.md, "Get a single repository tag"."""
    commit = project.commits[found.sha]
    return {
        "name": found.name,
        "message": found.message,
        "target": found.sha,
        "commit": {
            "id": commit.sha,
            "short_id": commit.sha[:8],
            "title": commit.message.split("\n")[0],
        },
        "release": None,
        "protected": False,
        "created_at": iso(found.created_at),
    }


def award(base: str, item: Award, note_id: int) -> dict[str, Any]:
    """doc/api/emoji_reactions.md, an emoji reaction on a comment."""
    return {
        "id": item.id,
        "name": item.name,
        "user": user(base, item.user),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.created_at),
        "awardable_id": note_id,
        "awardable_type": "Note",
    }


def label_event(
    base: str, project: Project, mr: MergeRequest, event: dict[str, Any]
) -> dict[str, Any]:
    """doc/api/resource_label_events.md, one event of a merge request."""
    label = project.labels.get(event["label"])
    return {
        "id": event["id"],
        "user": user(base, event["user"]),
        "created_at": iso(mr.updated_at),
        "resource_type": "MergeRequest",
        "resource_id": mr.id,
        "label": {
            "id": label.id if label else 0,
            "name": event["label"],
            "color": label.color if label else "#6699cc",
            "description": None,
        },
        "action": event["action"],
    }
