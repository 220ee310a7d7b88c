"""The fake's memory: users, projects with their commit graphs, merge requests, notes, CI."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# GitLab's role levels (doc/api/members.md, "Roles").
GUEST, PLANNER, REPORTER, DEVELOPER, MAINTAINER, OWNER = 10, 15, 20, 30, 40, 50
ACCESS_LEVELS = (GUEST, PLANNER, REPORTER, DEVELOPER, MAINTAINER, OWNER)


class NotFound(Exception):
    """A lookup of something the fake does not hold; routes turn it into GitLab's 404."""


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """GitLab's timestamp format in API answers: ISO 8601 with milliseconds and Z."""
    if moment is None:
        return None
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


@dataclass
class User:
    id: int
    username: str
    name: str
    state: str = "active"


@dataclass
class Commit:
    """One commit: a full snapshot of the files and, per file, the last commit that touched it."""

    sha: str
    parent_ids: list[str]
    message: str
    author: User
    files: dict[str, str]
    touched_by: dict[str, str]
    changed: dict[str, str]  # path -> "added" | "modified" | "removed", against the first parent
    created_at: datetime = field(default_factory=now)

    @property
    def title(self) -> str:
        return self.message.split("\n", 1)[0]


@dataclass
class Label:
    id: int
    title: str
    color: str = "#6699cc"
    description: str | None = None


@dataclass
class Pipeline:
    id: int
    iid: int
    project_id: int
    sha: str
    ref: str
    status: str
    source: str
    user: User | None
    variables: list[dict[str, str]] = field(default_factory=list)
    # The state of the pipeline's own CI jobs (None: only external statuses, as in the
    # pipeline GitLab makes for a status on a commit without one).
    jobs: str | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class CommitStatus:
    id: int
    sha: str
    ref: str | None
    name: str
    status: str
    pipeline_id: int
    author: User
    target_url: str | None = None
    description: str | None = None
    coverage: float | None = None
    created_at: datetime = field(default_factory=now)
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass
class Award:
    """An emoji reaction on a note (doc/api/emoji_reactions.md)."""

    id: int
    name: str
    user: User
    created_at: datetime = field(default_factory=now)


@dataclass
class Note:
    id: int
    body: str
    author: User
    discussion_id: str
    resolvable: bool = False
    resolved: bool = False
    resolved_by: User | None = None
    system: bool = False
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    awards: list[Award] = field(default_factory=list)


@dataclass
class Discussion:
    id: str
    individual_note: bool
    notes: list[Note] = field(default_factory=list)


@dataclass
class MergeRequest:
    id: int
    iid: int
    project_id: int
    title: str
    description: str
    source_branch: str
    target_branch: str
    author: User
    base_sha: str
    labels: list[str] = field(default_factory=list)
    draft: bool = False
    state: str = "opened"
    head_pipeline_id: int | None = None
    # What CI runs for the MR's commits: "push" (branch pipelines, ref = the source branch),
    # "merge_request_event" (MR pipelines, ref = refs/merge-requests/<iid>/head), or None.
    pipeline_source: str | None = "push"
    remove_source_branch: bool | None = None
    merge_commit_sha: str | None = None
    squash_commit_sha: str | None = None
    auto_merge_by: User | None = None  # who asked to merge when the pipeline succeeds
    merged_by: User | None = None
    merged_at: datetime | None = None
    closed_at: datetime | None = None
    approved_by: list[User] = field(default_factory=list)
    reviewers: list[User] = field(default_factory=list)
    # Who added or removed which label, oldest first (resource label events).
    label_events: list[dict[str, Any]] = field(default_factory=list)
    # What external services answered: {"check": id, "sha": ..., "status": ...}, oldest first.
    status_check_responses: list[dict[str, Any]] = field(default_factory=list)
    assignees: list[User] = field(default_factory=list)
    discussions: list[Discussion] = field(default_factory=list)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    sha: str = ""

    def notes(self) -> Iterator[Note]:
        for discussion in self.discussions:
            yield from discussion.notes


@dataclass
class ProjectHook:
    """A project webhook: where to deliver, and the secrets GitLab would use."""

    url: str
    token: str | None = None
    signing_token: str | None = None
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class ExternalStatusCheck:
    """A project's external status check: where GitLab sends MR data, signed with the secret."""

    id: int
    name: str
    url: str
    shared_secret: str | None


@dataclass
class Tag:
    """An annotated tag: its commit and message."""

    name: str
    sha: str
    message: str
    created_at: datetime = field(default_factory=now)


@dataclass
class Project:
    id: int
    path_with_namespace: str
    default_branch: str
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    members: dict[int, int] = field(default_factory=dict)  # user id -> access level
    merge_requests: dict[int, MergeRequest] = field(default_factory=dict)
    pipelines: dict[int, Pipeline] = field(default_factory=dict)
    statuses: list[CommitStatus] = field(default_factory=list)
    labels: dict[str, Label] = field(default_factory=dict)
    trigger_tokens: set[str] = field(default_factory=set)
    tags: dict[str, Tag] = field(default_factory=dict)
    external_status_checks: dict[int, ExternalStatusCheck] = field(default_factory=dict)
    protected_branches: set[str] = field(default_factory=set)
    hooks: list[ProjectHook] = field(default_factory=list)
    namespace_id: int = 0
    created_at: datetime = field(default_factory=now)

    @property
    def path(self) -> str:
        return self.path_with_namespace.rsplit("/", 1)[-1]

    @property
    def namespace(self) -> str:
        return self.path_with_namespace.rsplit("/", 1)[0]

    def commit(self, ref: str) -> Commit:
        """The commit a branch name or a (full or short) sha names."""
        if ref in self.branches:
            return self.commits[self.branches[ref]]
        if ref in self.commits:
            return self.commits[ref]
        if len(ref) >= 7:
            for sha, commit in self.commits.items():
                if sha.startswith(ref):
                    return commit
        raise NotFound(ref)

    def protected(self, branch: str) -> bool:
        """Protected branches take Maintainers to push to (GitLab protects the default one)."""
        return branch in self.protected_branches

    def merge_request(self, iid: int) -> MergeRequest:
        try:
            return self.merge_requests[iid]
        except KeyError:
            raise NotFound(f"!{iid}") from None


@dataclass
class Group:
    """A group (or subgroup): its direct members; private, so only they and ancestors' see it."""

    id: int
    full_path: str
    members: dict[int, int] = field(default_factory=dict)  # user id -> access level

    def is_within(self, other: Group) -> bool:
        """True when this group is `other` or one of its subgroups, at any depth."""
        mine, theirs = self.full_path.lower(), other.full_path.lower()
        return mine == theirs or mine.startswith(theirs + "/")


class GitLabState:
    """Everything the fake knows, with GitLab's global id sequences."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.tokens: dict[str, str] = {}  # token -> username
        self.projects: dict[int, Project] = {}
        self.groups: dict[int, Group] = {}
        self._ids: dict[str, Iterator[int]] = {}
        self._commit_counter = itertools.count(1)

    def next_id(self, kind: str) -> int:
        return next(self._ids.setdefault(kind, itertools.count(1)))

    def user(self, username: str) -> User:
        try:
            return self.users[username]
        except KeyError:
            raise NotFound(username) from None

    def user_by_id(self, user_id: int) -> User:
        for user in self.users.values():
            if user.id == user_id:
                return user
        raise NotFound(str(user_id))

    def group(self, ref: str) -> Group:
        """A group by numeric id or full path (already URL-decoded)."""
        for group in self.groups.values():
            if str(group.id) == ref or group.full_path.lower() == ref.lower():
                return group
        raise NotFound(ref)

    def inherited_level(self, group: Group, user_id: int) -> int:
        """The user's highest level in the group or a group above it (0: not a member)."""
        levels = [g.members.get(user_id, 0) for g in self.groups.values() if group.is_within(g)]
        return max(levels, default=0)

    def project(self, ref: str | int) -> Project:
        """A project by numeric id or full path (already URL-decoded)."""
        if isinstance(ref, int) or str(ref).isdigit():
            try:
                return self.projects[int(ref)]
            except KeyError:
                raise NotFound(str(ref)) from None
        for project in self.projects.values():
            if project.path_with_namespace.lower() == str(ref).lower():
                return project
        raise NotFound(str(ref))

    def new_sha(self, parents: list[str], files: Mapping[str, str], message: str) -> str:
        """A 40-hex id that differs for every commit, even of identical content."""
        digest = hashlib.sha1(usedforsecurity=False)
        for part in (
            *parents,
            repr(sorted(files.items())),
            message,
            str(next(self._commit_counter)),
        ):
            digest.update(part.encode())
        return digest.hexdigest()


def blob_id(content: str) -> str:
    """The git blob id of a file's content, as GitLab reports it."""
    data = content.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def discussion_id(*parts: Any) -> str:
    """A 40-hex discussion id, the form GitLab uses."""
    return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()
