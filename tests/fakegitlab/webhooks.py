"""Webhook payloads built from GitLab's documented examples, filled in with the fake's state.

Each builder starts from the example in tests/data/gitlab/webhooks/ (copied from
doc/user/project/integrations/webhook_events.md) so that every key GitLab documents is present,
then overwrites the values the fake knows.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.fakegitlab import ci, repository
from tests.fakegitlab.state import (
    Commit,
    CommitStatus,
    GitLabState,
    Label,
    MergeRequest,
    Project,
    User,
    now,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "gitlab" / "webhooks"
ZERO_SHA = "0" * 40
MR_STATE_IDS = {"opened": 1, "closed": 2, "merged": 3, "locked": 4}
MR_ACTIONS = (
    "open",
    "update",
    "reopen",
    "close",
    "merge",
    "approved",
    "unapproved",
    "approval",
    "unapproval",
)
# The X-Gitlab-Event header that goes with each payload's object_kind.
EVENT_HEADERS = {
    "merge_request": "Merge Request Hook",
    "note": "Note Hook",
    "push": "Push Hook",
    "tag_push": "Tag Push Hook",
    "deployment": "Deployment Hook",
    "pipeline": "Pipeline Hook",
}
PUSH_COMMITS_LIMIT = 20


@functools.cache
def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())
    return loaded


def example(name: str) -> dict[str, Any]:
    """A fresh copy of a documented example payload (tests/data/gitlab/webhooks/<name>.json)."""
    return copy.deepcopy(_example(name))


def _hook_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


class WebhookPayloads:
    """Mixed into FakeGitLab: payloads as GitLab would deliver them for the fake's state."""

    state: GitLabState

    @property
    def url(self) -> str:
        raise NotImplementedError

    def merge_request_hook(
        self,
        project_path: str,
        iid: int,
        action: str,
        *,
        user: str,
        changes: Mapping[str, Any] | None = None,
        oldrev: str | None = None,
    ) -> dict[str, Any]:
        """X-Gitlab-Event: Merge Request Hook (doc: "Merge request events").

        `changes` go in as given, except that label changes may name the labels:
        {"labels": {"previous": ["a"], "current": ["a", "b"]}}.
        """
        if action not in MR_ACTIONS:
            raise ValueError(f"action must be one of {MR_ACTIONS}")
        project = self.state.project(project_path)
        mr = project.merge_request(iid)
        payload = example("merge_request")
        payload["user"] = self._hook_user(self.state.user(user))
        payload["project"] = self._hook_project(project, payload["project"])
        payload["repository"] = self._hook_repository(project, payload["repository"])
        attributes = payload["object_attributes"]
        attributes.update(self._mr_attributes(project, mr, attributes))
        attributes["action"] = action
        attributes["head_pipeline_id"] = mr.head_pipeline_id
        if oldrev is not None:
            attributes["oldrev"] = oldrev
        payload["labels"] = copy.deepcopy(attributes["labels"])
        payload["changes"] = {
            key: self._label_change(project, value) if key == "labels" else value
            for key, value in (changes or {}).items()
        }
        payload["assignees"] = []
        payload["reviewers"] = []
        return payload

    def note_hook(self, project_path: str, iid: int, note: Mapping[str, Any]) -> dict[str, Any]:
        """X-Gitlab-Event: Note Hook for a note on an MR (doc: "Comment on a merge request"),
        for a note as add_note returned it."""
        project = self.state.project(project_path)
        mr = project.merge_request(iid)
        author = self.state.user(note["author"]["username"])
        created = datetime.fromisoformat(note["created_at"].replace("Z", "+00:00"))
        updated = datetime.fromisoformat(note["updated_at"].replace("Z", "+00:00"))
        payload = example("note_merge_request")
        payload["user"] = self._hook_user(author)
        payload["project_id"] = project.id
        payload["project"] = self._hook_project(project, payload["project"])
        payload["repository"] = self._hook_repository(project, payload["repository"])
        payload["object_attributes"].update(
            {
                "id": note["id"],
                "note": note["body"],
                "noteable_type": "MergeRequest",
                "author_id": author.id,
                "created_at": _utc_time(created),
                "updated_at": _utc_time(updated),
                "project_id": project.id,
                "noteable_id": mr.id,
                "system": note["system"],
                "action": "create" if note["created_at"] == note["updated_at"] else "update",
                "url": f"{self._web(project)}/-/merge_requests/{mr.iid}#note_{note['id']}",
            }
        )
        shown = payload["merge_request"]
        attributes = self._mr_attributes(project, mr, shown)
        for key in list(shown):
            if key in attributes:
                shown[key] = attributes[key]
        shown["created_at"] = _utc_time(mr.created_at)
        shown["updated_at"] = _utc_time(mr.updated_at)
        shown["assignee_id"] = None
        # GitLab leaves out the assignee object of an MR nobody is assigned to.
        shown.pop("assignee", None)
        return payload

    def push_hook(
        self, project_path: str, branch: str, before: str, after: str, *, user: str
    ) -> dict[str, Any]:
        """X-Gitlab-Event: Push Hook (doc: "Push events"); before is 40 zeros for a new branch."""
        project = self.state.project(project_path)
        pusher = self.state.user(user)
        payload = example("push")
        commits = self._pushed(project, before, after)
        payload.update(
            {
                "before": before,
                "after": after,
                "ref": f"refs/heads/{branch}",
                "ref_protected": branch == project.default_branch,
                "checkout_sha": after if after != ZERO_SHA else None,
                "user_id": pusher.id,
                "user_name": pusher.name,
                "user_username": pusher.username,
                "user_email": "",
                "user_avatar": self._hook_user(pusher)["avatar_url"],
                "project_id": project.id,
                "project": self._hook_project(project, payload["project"]),
                "repository": self._hook_repository(project, payload["repository"]),
                "commits": [self._hook_commit(project, c) for c in commits[-PUSH_COMMITS_LIMIT:]],
                "total_commits_count": len(commits),
            }
        )
        return payload

    def deployment_hook(
        self,
        project_path: str,
        *,
        status: str,
        environment: str,
        sha: str,
        user: str,
        environment_tier: str | None = None,
        external_url: str | None = None,
    ) -> dict[str, Any]:
        """X-Gitlab-Event: Deployment Hook (doc: "Deployment events")."""
        project = self.state.project(project_path)
        deployer = self.state.user(user)
        commit = project.commit(sha)
        job_id = self.state.next_id("job")
        payload = example("deployment")
        web = self._web(project)
        payload.update(
            {
                "status": status,
                "status_changed_at": now().strftime("%Y-%m-%d %H:%M:%S +0000"),
                "deployment_id": self.state.next_id("deployment"),
                "deployable_id": job_id,
                "deployable_url": f"{web}/-/jobs/{job_id}",
                "environment": environment,
                "environment_tier": environment_tier or _tier(environment),
                "environment_slug": environment.lower().replace("/", "-").replace(" ", "-"),
                "environment_external_url": external_url,
                "project": self._hook_project(project, payload["project"]),
                "short_sha": commit.sha[:8],
                "user": self._hook_user(deployer),
                "user_url": f"{self.url}/{deployer.username}",
                "commit_url": f"{web}/-/commit/{commit.sha}",
                "commit_title": commit.title,
            }
        )
        return payload

    def pipeline_hook(self, project_path: str, pipeline_id: int) -> dict[str, Any]:
        """X-Gitlab-Event: Pipeline Hook (doc: "Pipeline events"); `merge_request` is set for
        MR pipelines only, `builds` lists the external statuses, `source_pipeline` (an upstream
        pipeline) is left out."""
        project = self.state.project(project_path)
        pipeline = project.pipelines[pipeline_id]
        payload = example("pipeline")
        rows = ci.latest([s for s in project.statuses if s.pipeline_id == pipeline.id])
        mr = next(
            (m for m in project.merge_requests.values() if m.head_pipeline_id == pipeline.id),
            None,
        )
        finished = pipeline.status in ci.FINISHED
        payload["object_attributes"].update(
            {
                "id": pipeline.id,
                "iid": pipeline.iid,
                "name": None,
                # The hook names the branch an MR pipeline runs for, not its refs/merge-requests.
                "ref": mr.source_branch
                if mr and pipeline.ref.startswith("refs/")
                else pipeline.ref,
                "tag": False,
                "sha": pipeline.sha,
                "before_sha": ZERO_SHA,
                "source": pipeline.source,
                "status": pipeline.status,
                "stages": ["external"] if rows else [],
                "created_at": _utc_time(pipeline.created_at),
                "finished_at": _utc_time(pipeline.updated_at) if finished else None,
                "duration": None,
                "variables": [{"key": v["key"], "value": v["value"]} for v in pipeline.variables],
                "url": f"{self._web(project)}/-/pipelines/{pipeline.id}",
            }
        )
        if mr is not None and pipeline.source == "merge_request_event":
            payload["merge_request"] = {
                "id": mr.id,
                "iid": mr.iid,
                "title": mr.title,
                "source_branch": mr.source_branch,
                "source_project_id": project.id,
                "target_branch": mr.target_branch,
                "target_project_id": project.id,
                "state": mr.state,
                "merge_status": "can_be_merged",
                "detailed_merge_status": "mergeable" if mr.state == "opened" else "not_open",
                "url": f"{self._web(project)}/-/merge_requests/{mr.iid}",
            }
        else:
            payload["merge_request"] = None
        payload["user"] = self._hook_user(pipeline.user) if pipeline.user else None
        payload["project"] = self._hook_project(project, payload["project"])
        commit = self._hook_commit(project, project.commits[pipeline.sha])
        payload["commit"] = {key: commit[key] for key in payload["commit"]}
        del payload["source_pipeline"]
        shape = payload["builds"][0]
        payload["builds"] = [self._hook_build(row, shape) for row in reversed(rows)]
        return payload

    # Parts

    def _hook_build(self, row: CommitStatus, shape: Mapping[str, Any]) -> dict[str, Any]:
        values = {
            "id": row.id,
            "stage": "external",
            "name": row.name,
            "status": row.status,
            "created_at": _utc_time(row.created_at),
            "started_at": _utc_time(row.started_at) if row.started_at else None,
            "finished_at": _utc_time(row.finished_at) if row.finished_at else None,
            "duration": None,
            "queued_duration": None,
            "failure_reason": "api_failure" if row.status == "failed" else None,
            "when": "on_success",
            "manual": False,
            "allow_failure": False,
            "user": self._hook_user(row.author),
            "runner": None,
            "artifacts_file": {"filename": None, "size": None},
            "environment": None,
        }
        return {key: values.get(key, value) for key, value in shape.items()}

    def _web(self, project: Project) -> str:
        return f"{self.url}/{project.path_with_namespace}"

    def _hook_user(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "name": user.name,
            "username": user.username,
            "avatar_url": f"{self.url}/uploads/-/system/user/avatar/{user.id}/avatar.png",
            "email": "[REDACTED]",
        }

    def _hook_project(self, project: Project, shape: Mapping[str, Any]) -> dict[str, Any]:
        web = self._web(project)
        ssh = f"git@127.0.0.1:{project.path_with_namespace}.git"
        values = {
            "id": project.id,
            "name": project.path,
            "description": "",
            "web_url": web,
            "avatar_url": None,
            "git_ssh_url": ssh,
            "git_http_url": f"{web}.git",
            "namespace": project.namespace.rsplit("/", 1)[-1],
            "visibility_level": 0,
            "path_with_namespace": project.path_with_namespace,
            "default_branch": project.default_branch,
            "ci_config_path": "",
            "homepage": web,
            "url": ssh,
            "ssh_url": ssh,
            "http_url": f"{web}.git",
        }
        return {key: values.get(key, value) for key, value in shape.items()}

    def _hook_repository(self, project: Project, shape: Mapping[str, Any]) -> dict[str, Any]:
        web = self._web(project)
        values = {
            "name": project.path,
            "url": f"git@127.0.0.1:{project.path_with_namespace}.git",
            "description": "",
            "homepage": web,
            "git_http_url": f"{web}.git",
            "git_ssh_url": f"git@127.0.0.1:{project.path_with_namespace}.git",
            "visibility_level": 0,
        }
        return {key: values.get(key, value) for key, value in shape.items()}

    def _hook_label(self, project: Project, label: Label) -> dict[str, Any]:
        moment = _hook_time(project.created_at)
        return {
            "id": label.id,
            "title": label.title,
            "color": label.color,
            "project_id": project.id,
            "created_at": moment,
            "updated_at": moment,
            "template": False,
            "description": label.description,
            "type": "ProjectLabel",
            "group_id": None,
        }

    def _label_change(self, project: Project, change: Mapping[str, Any]) -> dict[str, Any]:
        """`{"previous": [names], "current": [names]}` as GitLab's label objects."""
        shown = {}
        for side in ("previous", "current"):
            labels = []
            for item in change.get(side, []):
                if isinstance(item, str):
                    label = project.labels.get(item) or Label(self.state.next_id("label"), item)
                    project.labels.setdefault(item, label)
                    labels.append(self._hook_label(project, label))
                else:
                    labels.append(item)
            shown[side] = labels
        return shown

    def _hook_commit(self, project: Project, commit: Commit) -> dict[str, Any]:
        return {
            "id": commit.sha,
            "message": commit.message,
            "title": commit.title,
            "timestamp": commit.created_at.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "url": f"{self._web(project)}/-/commit/{commit.sha}",
            "author": {"name": commit.author.name, "email": "[REDACTED]"},
            "added": sorted(p for p, kind in commit.changed.items() if kind == "added"),
            "modified": sorted(p for p, kind in commit.changed.items() if kind == "modified"),
            "removed": sorted(p for p, kind in commit.changed.items() if kind == "removed"),
        }

    def _mr_attributes(
        self, project: Project, mr: MergeRequest, shape: Mapping[str, Any]
    ) -> dict[str, Any]:
        head = project.commits[mr.sha]
        last_commit = self._hook_commit(project, head)
        for key in ("added", "modified", "removed"):
            del last_commit[key]
        values = {
            "id": mr.id,
            "iid": mr.iid,
            "target_branch": mr.target_branch,
            "source_branch": mr.source_branch,
            "source_project_id": project.id,
            "target_project_id": project.id,
            "author_id": mr.author.id,
            "assignee_ids": [],
            "assignee_id": None,
            "reviewer_ids": [],
            "title": mr.title,
            "created_at": _hook_time(mr.created_at),
            "updated_at": _hook_time(mr.updated_at),
            "last_edited_at": None,
            "last_edited_by_id": None,
            "milestone_id": None,
            "state_id": MR_STATE_IDS[mr.state],
            "state": mr.state,
            "blocking_discussions_resolved": all(n.resolved for n in mr.notes() if n.resolvable),
            "work_in_progress": mr.draft,
            "draft": mr.draft,
            "first_contribution": False,
            "merge_status": "can_be_merged",
            "description": mr.description,
            "prepared_at": _hook_time(mr.created_at),
            "total_time_spent": 0,
            "time_change": 0,
            "human_total_time_spent": None,
            "human_time_change": None,
            "human_time_estimate": None,
            "url": f"{self._web(project)}/-/merge_requests/{mr.iid}",
            "source": self._hook_project(project, shape["source"]),
            "target": self._hook_project(project, shape["target"]),
            "last_commit": last_commit,
            "labels": [self._hook_label(project, project.labels[name]) for name in mr.labels],
            "detailed_merge_status": "not_open"
            if mr.state != "opened"
            else ("draft_status" if mr.draft else "mergeable"),
        }
        return values

    def _pushed(self, project: Project, before: str, after: str) -> list[Commit]:
        """The pushed commits, oldest first: from after back to before (or, for a new branch,
        to the first commit the default branch already has)."""
        if after == ZERO_SHA:
            return []
        known: set[str] = set()
        if before == ZERO_SHA:
            default_head = project.branches.get(project.default_branch)
            if default_head is not None:
                known = {c.sha for c in repository.history(project, default_head)}
        pushed = []
        for commit in repository.history(project, after):
            if commit.sha == before or commit.sha in known:
                break
            pushed.append(commit)
        return list(reversed(pushed))


def _tier(environment: str) -> str:
    """GitLab's guess of a deployment tier from the environment's name."""
    name = environment.lower()
    for tier, hints in (
        ("production", ("prod", "live")),
        ("staging", ("stag", "model", "pre")),
        ("testing", ("test", "qa", "uat")),
        ("development", ("dev", "review", "trunk")),
    ):
        if any(hint in name for hint in hints):
            return tier
    return "other"
