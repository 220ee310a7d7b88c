"""The one narrow port every forge adapter implements: checks, notes, labels, roles, files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.checks import CheckResult
from schemas.commands_config import CommandGrant, PermissionLevel
from schemas.envelope import Envelope
from schemas.forges import ForgeKind

if TYPE_CHECKING:
    from bot.commands.feedback import PastReplies, Reaction
    from bot.commands.framework import ThreadState
    from bot.commands.sources import CommentSource
    from bot.context import Context
    from bot.permissions import Decision
    from bot.repo_config import RepoConfig
    from schemas.config import BotConfig


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
        return f"{self.project}{self.short_reference}"

    @property
    def short_reference(self) -> str:
        """`#12` on GitHub, `!12` on GitLab."""
        return f"{'!' if self.forge is ForgeKind.GITLAB else '#'}{self.number}"

    @property
    def noun(self) -> str:
        """What the forge calls it, short: PR or MR."""
        return "MR" if self.forge is ForgeKind.GITLAB else "PR"


@dataclass(frozen=True)
class ChangedFile:
    """A path a change touches, and whether the change removes it."""

    path: str
    removed: bool = False


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

    async def file_diffs(self, change: ChangeRequest, limit: int) -> list[tuple[str, str | None]]:
        """(path, unified-diff hunks) of the files the change adds or modifies; None when the
        forge sends no diff for a file (too large, binary)."""
        ...

    async def line_counts(self, change: ChangeRequest) -> tuple[int, int]:
        """Lines the change adds and deletes."""
        ...

    async def changed_files(self, change: ChangeRequest, limit: int) -> list[ChangedFile]:
        """The files the change touches (new paths of renames), at most `limit`."""
        ...

    async def read_file(self, project: str, path: str, ref: str) -> str | None:
        """A file's text at `ref` (a commit SHA for a change's own content), or None."""
        ...

    async def repo_config(self, central: BotConfig, project: str) -> RepoConfig:
        """`central` with the project's own config file (on its default branch) merged in."""
        ...

    async def labels_set_by_ferrybot(self, change: ChangeRequest) -> frozenset[str]:
        """The change's labels whose latest addition ferrybot itself made (anyone can add a
        label by hand or with a quick action; only ferrybot's stand for its decisions)."""
        ...

    async def approvers(self, change: ChangeRequest) -> list[Person]:
        """Who approved the change through the forge's own review feature."""
        ...

    async def permission(self, project: str, person: Person) -> PermissionLevel:
        """The person's role on the project, in ferrybot's role names."""
        ...

    async def answer_external_check(
        self, change: ChangeRequest, check_id: int, required: frozenset[str]
    ) -> str:
        """Answer the forge's external status check `check_id` (GitLab Ultimate) with
        ferrybot's overall verdict on the head (`required` checks present, none failed),
        now and whenever one of its checks changes."""
        ...

    async def open_thread(self, change: ChangeRequest, marker: str, body: str) -> None:
        """Keep one unresolved bot thread carrying `marker` (GitLab: "threads must be resolved"
        blocks the merge while it is open); one already open is left as it is."""
        ...

    async def resolve_threads(self, change: ChangeRequest, marker: str) -> None:
        """Resolve the bot's threads carrying `marker`; none open is fine."""
        ...

    def command_port(self, ctx: Context) -> CommandPort:
        """What the command runner needs from this forge, for one event."""
        ...


@dataclass(frozen=True)
class ChangeProposal:
    """A change request ferrybot keeps open from its own branch (a promotion)."""

    source_branch: str
    target_branch: str
    title: str
    body: str
    head_sha: str
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    team_reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    draft: bool = False


@dataclass(frozen=True)
class ProposalOutcome:
    """The change request after `open_or_update_change`, and what was done to it."""

    change: ChangeRequest
    created: bool
    updated: bool


class GitOpsForge(Protocol):
    """What the promotion engine may do on the forge holding a GitOps repository."""

    kind: ForgeKind

    @property
    def dry_run(self) -> bool:
        """True when writes to this forge are recorded, not sent."""
        ...

    async def branch_head(self, project: str, branch: str) -> str | None:
        """The commit a branch points at, or None when there is no such branch."""
        ...

    async def read_file(self, project: str, path: str, ref: str) -> str | None:
        """A file's text at `ref`, or None when it does not exist there."""
        ...

    async def commit_files(
        self,
        project: str,
        branch: str,
        base: tuple[str, str],
        files: dict[str, str],
        message: str,
    ) -> tuple[str, bool]:
        """Point `branch` at one commit on `base` (branch, the SHA read) writing `files`;
        (its SHA, whether it was written now): a branch already holding that is left alone."""
        ...

    async def open_or_update_change(
        self, project: str, proposal: ChangeProposal
    ) -> ProposalOutcome:
        """The one open change request of the proposal's branch, opened or updated in place."""
        ...

    async def open_change(self, project: str, source_branch: str) -> ChangeRequest | None:
        """The open change request from `source_branch`, if any."""
        ...

    async def add_labels(self, change: ChangeRequest, names: Sequence[str]) -> None:
        """Add the labels the change does not carry yet."""
        ...

    async def file_history(
        self, project: str, branch: str, path: str, limit: int
    ) -> list[tuple[str, datetime]]:
        """The newest `limit` commits on `branch` that changed `path`: (SHA, commit time)."""
        ...

    async def close_change(self, project: str, source_branch: str, why: str) -> int | None:
        """Close the branch's open change request, saying why; its number, None if none."""
        ...

    async def set_check(self, change: ChangeRequest, result: CheckResult) -> str | None:
        """Publish `result` on the change's head commit; return the conclusion it had before."""
        ...


class Permissions(Protocol):
    """Permission questions about one project, cached for one delivery."""

    async def level(self, login: str) -> PermissionLevel:
        """The user's role on the project."""
        ...

    async def in_team(self, login: str, team: str) -> bool:
        """True when `login` is in the team: GitHub's `org/team-slug`, a GitLab group's path."""
        ...

    async def decide(self, login: str, grant: CommandGrant, default: PermissionLevel) -> Decision:
        """Allowed when the user is named, in a named team, or holds the minimum role."""
        ...


class CommandPort(Protocol):
    """What the command runner needs from a forge: the text, its thread, who may act, answers.

    One runner serves every forge; each forge implements this over its own API (GitHub:
    reactions and issue comments; GitLab: award emoji and notes).
    """

    kind: ForgeKind

    async def source(self) -> CommentSource | None:
        """The event's newly written text that may hold commands, or None."""
        ...

    async def thread(self, source: CommentSource) -> ThreadState:
        """The pull request, issue or merge request the text is on, as it is now."""
        ...

    async def config(self, source: CommentSource) -> RepoConfig:
        """The config in force where the text was written (problems reported there)."""
        ...

    def permissions(self, source: CommentSource) -> Permissions:
        """Permission questions about the text's project, for this delivery."""
        ...

    def subject(self, source: CommentSource) -> str:
        """The text's thread as audit and chat name it: `github/o/r#1`, `gitlab/g/p!1`."""
        ...

    async def react(self, source: CommentSource, reaction: Reaction) -> None:
        """Leave `reaction` on the text (a repeat is fine)."""
        ...

    async def already_handled(self, source: CommentSource) -> bool:
        """True when ferrybot already answered this version of the text."""
        ...

    async def past_replies(self, source: CommentSource, since: datetime) -> PastReplies:
        """ferrybot's replies on the thread since `since`, from their hidden markers."""
        ...

    async def post_reply(self, source: CommentSource, body: str) -> None:
        """Post the reply on the thread (the forge makes it safe to post)."""
        ...
