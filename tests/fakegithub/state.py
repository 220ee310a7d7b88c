"""In-memory GitHub: the dataclasses the fake serves and tests inspect."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakegithub.gitstore import GitStore

PERMISSIONS = ("admin", "maintain", "write", "triage", "read", "none")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class NotFound(LookupError):
    """The thing asked for does not exist (GitHub answers 404)."""


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # "Bot" for app identities


@dataclass
class App:
    id: int
    slug: str
    name: str
    owner: str
    public_key_pem: str
    private_key_pem: str | None
    permissions: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    created_at: datetime = field(default_factory=now)

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"


@dataclass
class Installation:
    id: int
    app_id: int
    account: str
    # None: every repository of the account, like "All repositories" in the UI.
    repositories: set[str] | None
    permissions: dict[str, str] = field(default_factory=dict)
    created_at: datetime = field(default_factory=now)


@dataclass
class Token:
    value: str
    kind: str  # "installation" or "pat"
    login: str
    expires_at: datetime | None
    installation_id: int | None = None
    app_id: int | None = None
    # Installation tokens see their account's repos (all, or the selected ones); PATs see all.
    account: str | None = None
    repositories: frozenset[str] | None = None
    permissions: dict[str, str] = field(default_factory=dict)

    def expired(self, moment: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= moment

    def can_see(self, full_name: str) -> bool:
        key = full_name.lower()
        if self.account is not None and not key.startswith(self.account.lower() + "/"):
            return False
        return self.repositories is None or key in self.repositories


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Reaction:
    id: int
    content: str
    user: str
    created_at: datetime = field(default_factory=now)


@dataclass
class IssueEvent:
    """A `labeled` or `unlabeled` entry of an issue's timeline: who changed which label."""

    id: int
    event: str
    label: str
    actor: str
    app_id: int | None = None  # the App whose installation token made the change
    created_at: datetime = field(default_factory=now)


@dataclass
class Comment:
    """An issue or pull request conversation comment."""

    id: int
    repo: str
    issue_number: int
    body: str
    user: str
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class ReviewComment:
    """A comment on a line of a pull request diff; the fake only reacts to these."""

    id: int
    repo: str
    pull_number: int
    body: str
    user: str
    path: str
    commit_id: str
    created_at: datetime = field(default_factory=now)
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class Pull:
    """The pull-request half of an Issue whose `pull` is set."""

    head_repo: str
    head_ref: str
    head_sha: str
    base_ref: str
    # Base tip the diff is taken against: follows the base branch while open, frozen by a merge.
    base_sha: str | None = None
    draft: bool = False
    merged: bool = False
    merged_at: datetime | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    maintainer_can_modify: bool = False
    requested_reviewers: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)


@dataclass
class Issue:
    id: int
    number: int
    title: str
    user: str
    body: str | None = None
    state: str = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    locked: bool = False
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    closed_at: datetime | None = None
    reactions: list[Reaction] = field(default_factory=list)
    pull: Pull | None = None
    events: list[IssueEvent] = field(default_factory=list)


@dataclass
class CheckSuite:
    id: int
    repo: str
    app_id: int
    head_sha: str
    head_branch: str | None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    rerequested: int = 0


@dataclass
class CheckRun:
    id: int
    repo: str
    suite_id: int
    app_id: int
    name: str
    head_sha: str
    status: str = "queued"
    conclusion: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    details_url: str | None = None
    external_id: str | None = None
    output: dict[str, Any] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Status:
    id: int
    repo: str
    sha: str
    state: str
    context: str
    creator: str
    description: str | None = None
    target_url: str | None = None
    created_at: datetime = field(default_factory=now)


@dataclass
class Dispatch:
    """A workflow_dispatch or repository_dispatch the fake accepted."""

    id: int
    repo: str
    kind: str  # "workflow_dispatch" or "repository_dispatch"
    sender: str
    workflow: str | None = None
    ref: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    event_type: str | None = None
    client_payload: dict[str, Any] = field(default_factory=dict)
    created_at: datetime = field(default_factory=now)


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    default_branch: str
    private: bool = False
    fork_of: str | None = None
    refs: dict[str, str] = field(default_factory=dict)  # "refs/heads/main" -> sha
    labels: dict[str, Label] = field(default_factory=dict)  # lower-cased name -> label
    issues: dict[int, Issue] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # lower-cased login -> level
    statuses: list[Status] = field(default_factory=list)
    created_at: datetime = field(default_factory=now)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def branch_sha(self, branch: str) -> str | None:
        return self.refs.get(f"refs/heads/{branch}")

    def issue(self, number: int) -> Issue:
        if number not in self.issues:
            raise NotFound(f"{self.full_name}#{number}")
        return self.issues[number]

    def pull(self, number: int) -> Issue:
        issue = self.issue(number)
        if issue.pull is None:
            raise NotFound(f"{self.full_name}#{number} is an issue, not a pull request")
        return issue


@dataclass
class GitHubState:
    """Everything the fake knows; one per FakeGitHub."""

    git: GitStore = field(default_factory=GitStore)
    users: dict[str, User] = field(default_factory=dict)
    apps: dict[int, App] = field(default_factory=dict)
    installations: dict[int, Installation] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    repos: dict[str, Repo] = field(default_factory=dict)  # lower-cased "owner/name"
    comments: dict[int, Comment] = field(default_factory=dict)
    review_comments: dict[int, ReviewComment] = field(default_factory=dict)
    check_suites: dict[int, CheckSuite] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    teams: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # -> login: role
    dispatches: list[Dispatch] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    def next_id(self) -> int:
        return next(self._ids)

    def user(self, login: str, type: str = "User") -> User:
        """The user with login, created on first mention with a stable id."""
        key = login.lower()
        if key not in self.users:
            self.users[key] = User(login, self.next_id(), type)
        return self.users[key]

    def repo(self, owner: str, name: str) -> Repo:
        key = f"{owner}/{name}".lower()
        if key not in self.repos:
            raise NotFound(f"{owner}/{name}")
        return self.repos[key]

    def app(self, app_id: int) -> App:
        if app_id not in self.apps:
            raise NotFound(f"app {app_id}")
        return self.apps[app_id]

    def installation(self, installation_id: int) -> Installation:
        if installation_id not in self.installations:
            raise NotFound(f"installation {installation_id}")
        return self.installations[installation_id]

    def installation_for(self, repo: Repo, app_id: int | None = None) -> Installation:
        for installation in self.installations.values():
            if app_id is not None and installation.app_id != app_id:
                continue
            if installation.account.lower() != repo.owner.lower():
                continue
            if (
                installation.repositories is None
                or repo.full_name.lower() in installation.repositories
            ):
                return installation
        raise NotFound(f"no installation for {repo.full_name}")

    def permission(self, repo: Repo, login: str) -> str:
        if login.lower() == repo.owner.lower():
            return "admin"
        # Anyone can read a public repository.
        return repo.permissions.get(login.lower(), "none" if repo.private else "read")
