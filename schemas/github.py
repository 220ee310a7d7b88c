"""The GitHub webhook fields ferrybot reads; everything else in a payload is ignored."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Lenient(BaseModel):
    """GitHub adds fields all the time: unknown ones are ignored, never an error."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class User(_Lenient):
    login: str
    id: int | None = None
    type: str = "User"


class Installation(_Lenient):
    id: int


class Repository(_Lenient):
    name: str
    full_name: str
    owner: User
    html_url: str | None = None
    default_branch: str | None = None

    @property
    def owner_login(self) -> str:
        """The owner's login (user or organisation)."""
        return self.owner.login


class Label(_Lenient):
    name: str


class GitRef(_Lenient):
    """A pull request's head or base."""

    ref: str
    sha: str
    repo: Repository | None = None


class PullRequest(_Lenient):
    number: int
    title: str
    state: str = "open"
    draft: bool = False
    merged: bool | None = None
    body: str | None = None
    user: User
    head: GitRef
    base: GitRef
    labels: list[Label] = Field(default_factory=list)
    additions: int | None = None
    deletions: int | None = None
    html_url: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    changed_files: int | None = None

    @property
    def label_names(self) -> list[str]:
        """The names of the labels on the pull request."""
        return [label.name for label in self.labels]


class PullRequestEvent(_Lenient):
    """`pull_request` deliveries."""

    action: str
    number: int
    pull_request: PullRequest
    repository: Repository
    sender: User
    installation: Installation | None = None


class IssueLink(_Lenient):
    """`issue.pull_request`: present only when the issue is a pull request."""

    url: str | None = None


class Issue(_Lenient):
    number: int
    title: str = ""
    user: User
    pull_request: IssueLink | None = None
    labels: list[Label] = Field(default_factory=list)
    html_url: str | None = None

    @property
    def label_names(self) -> list[str]:
        """The names of the labels on the issue."""
        return [label.name for label in self.labels]


class Comment(_Lenient):
    """An issue comment or a pull-request review comment."""

    id: int
    body: str | None = None
    user: User
    created_at: str | None = None
    updated_at: str | None = None


class IssueCommentEvent(_Lenient):
    """`issue_comment` deliveries."""

    action: str
    issue: Issue
    comment: Comment
    repository: Repository
    sender: User
    installation: Installation | None = None


class Review(_Lenient):
    id: int
    body: str | None = None
    user: User
    state: str = ""
    submitted_at: str | None = None


class PullRequestReviewEvent(_Lenient):
    """`pull_request_review` deliveries."""

    action: str
    review: Review
    pull_request: PullRequest
    repository: Repository
    sender: User
    installation: Installation | None = None


class PullRequestReviewCommentEvent(_Lenient):
    """`pull_request_review_comment` deliveries."""

    action: str
    comment: Comment
    pull_request: PullRequest
    repository: Repository
    sender: User
    installation: Installation | None = None


class SynchronizeEvent(PullRequestEvent):
    """`pull_request.synchronize`: the head moved from `before` to `after`."""

    before: str
    after: str


class LabeledEvent(PullRequestEvent):
    """`pull_request.labeled` / `unlabeled`: the one label added or removed."""

    label: Label
