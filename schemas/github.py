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
