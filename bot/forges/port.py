"""The one narrow port every forge adapter implements: checks, notes, labels, roles, files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.checks import CheckResult
from schemas.commands_config import PermissionLevel
from schemas.envelope import Envelope


class ForgeKind(StrEnum):
    """The forges ferrybot talks to."""

    GITHUB = "github"
    GITLAB = "gitlab"


@dataclass(frozen=True)
class ChangeRequest:
    """A GitHub pull request or a GitLab merge request, as checks and commands see it."""

    forge: ForgeKind
    project: str  # `owner/repo` on GitHub, `group/sub/project` on GitLab
    number: int  # the pull request's number, the merge request's iid
    title: str
    author: str
    head_sha: str
    head_branch: str
    target_branch: str
    labels: frozenset[str]
    draft: bool
    url: str
    # Lines added and deleted, when the forge's event says (GitLab's does not).
    additions: int | None = None
    deletions: int | None = None
    # GitLab's head pipeline: statuses attached to it are what "Pipelines must succeed" sees.
    pipeline_id: int | None = None

    @property
    def reference(self) -> str:
        """`owner/repo#12` or `group/project!12`, as each forge writes it."""
        sign = "!" if self.forge is ForgeKind.GITLAB else "#"
        return f"{self.project}{sign}{self.number}"


@dataclass(frozen=True)
class Person:
    """Someone on a forge: the login, and GitLab's numeric id (roles are asked by id there)."""

    login: str
    id: int | None = None


class Forge(Protocol):
    """What checks and commands may do on a forge; adapters hide every API detail."""

    kind: ForgeKind

    def change_of(self, envelope: Envelope) -> tuple[str, int] | None:
        """(project, number) of the change an event of this forge is about, if any."""
        ...

    async def get_change(self, project: str, number: int) -> ChangeRequest:
        """The change as it is now (a newer push or label than the event's shows here)."""
        ...

    async def set_check(self, change: ChangeRequest, result: CheckResult) -> str | None:
        """Publish `result` on the change's head commit; return the conclusion it had before."""
        ...

    async def upsert_note(self, change: ChangeRequest, marker: str, body: str) -> str | None:
        """Keep one bot note carrying `marker` on the change, edited in place; its link."""
        ...

    async def add_labels(self, change: ChangeRequest, names: Sequence[str]) -> None:
        """Add labels; ones already there are fine."""
        ...

    async def remove_label(self, change: ChangeRequest, name: str) -> None:
        """Remove a label; one already gone is fine."""
        ...

    async def changed_paths(self, change: ChangeRequest, limit: int) -> list[str]:
        """The paths the change touches, at most `limit`."""
        ...

    async def permission(self, project: str, person: Person) -> PermissionLevel:
        """The person's role on the project, in ferrybot's role names."""
        ...
