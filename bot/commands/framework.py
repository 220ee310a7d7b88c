"""Command declarations, the registry that holds them, and what a command receives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.commands.parser import Command
from bot.commands.wording import Sentence
from bot.forges.port import ChangeRequest, Permissions
from schemas.commands_config import CommandGrant, PermissionLevel
from schemas.config import BotConfig
from schemas.github import Issue, PullRequest

if TYPE_CHECKING:
    from bot.commands.sources import CommentSource
    from bot.context import Context

CommandFunc = Callable[["Invocation"], Awaitable[str | None]]


class CommandRefused(Exception):
    """The command cannot be carried out as typed; the message tells the user what would work.

    The parts are ferrybot's words; wrap whatever the user typed in `Typed`, so the GitHub
    reply and the chat message each quote it their own way.
    """

    def __init__(self, *parts: str) -> None:
        self.sentence = Sentence(parts)
        super().__init__(self.sentence.plain())


@dataclass
class PullState:
    """The pull request a comment is on, fetched once and kept current by the commands."""

    owner: str
    repo: str
    pull: PullRequest
    labels: set[str]

    @property
    def number(self) -> int:
        """The pull request's number."""
        return self.pull.number

    @property
    def author(self) -> str:
        """The login that opened the pull request."""
        return self.pull.user.login

    @property
    def head_sha(self) -> str:
        """The head commit: the one place a fork's content is referred to, by SHA only."""
        return self.pull.head.sha

    @property
    def is_fork(self) -> bool:
        """True when the head branch lives in another repository."""
        head_repo = self.pull.head.repo
        return (
            head_repo is None or head_repo.full_name.lower() != f"{self.owner}/{self.repo}".lower()
        )

    @property
    def html_url(self) -> str | None:
        """The pull request's page."""
        return self.pull.html_url

    @property
    def reference(self) -> str:
        """`owner/repo#12`."""
        return f"{self.owner}/{self.repo}#{self.number}"


@dataclass
class IssueState:
    """The plain issue a comment is on: no head, no base, only what an issue has."""

    owner: str
    repo: str
    issue: Issue
    labels: set[str]

    @property
    def number(self) -> int:
        """The issue's number."""
        return self.issue.number

    @property
    def author(self) -> str:
        """The login that opened the issue."""
        return self.issue.user.login

    @property
    def html_url(self) -> str | None:
        """The issue's page."""
        return self.issue.html_url

    @property
    def reference(self) -> str:
        """`owner/repo#12`."""
        return f"{self.owner}/{self.repo}#{self.number}"


@dataclass
class ChangeState:
    """A merge request behind the forge port (GitLab), labels kept current by the commands."""

    change: ChangeRequest
    labels: set[str]

    @property
    def owner(self) -> str:
        """The project's namespace (`group/subgroup`)."""
        return self.change.project.rpartition("/")[0]

    @property
    def repo(self) -> str:
        """The project's own name."""
        return self.change.project.rpartition("/")[2]

    @property
    def number(self) -> int:
        """The merge request's iid."""
        return self.change.number

    @property
    def author(self) -> str:
        """The username that opened the merge request."""
        return self.change.author

    @property
    def html_url(self) -> str | None:
        """The merge request's page."""
        return self.change.url or None

    @property
    def reference(self) -> str:
        """`group/project!12`."""
        return self.change.reference


# What every command may read; a command that needs the head or base reads `Invocation.state`
# (a GitHub pull request) or `Invocation.change` (a merge request behind the port).
ThreadState = PullState | IssueState | ChangeState

# Why a command declared without `gitlab_refusal=None` does not run in GitLab notes.
GITHUB_ONLY = "it works on GitHub pull requests only so far"


@dataclass
class Invocation:
    """One accepted command about to run: who typed what, on which pull request or issue."""

    ctx: Context
    command: Command
    actor: str
    source: CommentSource
    thread: ThreadState
    config: BotConfig
    permissions: Permissions

    @property
    def args(self) -> tuple[str, ...]:
        """The raw arguments; validate them with the parser's validators before use."""
        return self.command.args

    @property
    def state(self) -> PullState:
        """The pull request the command is on, for commands declared without `on_issues`."""
        if not isinstance(self.thread, PullState):
            # The runner keeps such commands off issues; one declared `on_issues` by
            # mistake is refused here rather than failing the delivery.
            raise CommandRefused(f"`/{self.command.name}` works on pull requests only")
        return self.thread

    @property
    def change(self) -> ChangeState | None:
        """The merge request when the command came from a GitLab note, else None."""
        return self.thread if isinstance(self.thread, ChangeState) else None


@dataclass(frozen=True)
class CommandSpec:
    """A command as declared next to its code: the source of `/help` and the README table."""

    name: str
    usage: str
    help: str
    permission: PermissionLevel
    func: CommandFunc
    aliases: tuple[str, ...] = ()
    not_by_author: bool = False
    on_issues: bool = False
    # None: it also runs in GitLab merge-request notes; else why it does not, for the reply.
    gitlab_refusal: str | None = GITHUB_ONLY

    @property
    def where(self) -> str:
        """Where it runs, in the words `/help` and the README table use."""
        return "pull requests and issues" if self.on_issues else "pull requests"

    def grant(self, config: BotConfig) -> CommandGrant:
        """Who may run it: the config's grant for this name, else the built-in default."""
        return config.commands.permissions.get(self.name, CommandGrant())


@dataclass
class CommandRegistry:
    """Every command known to this process, by name and alias."""

    specs: dict[str, CommandSpec] = field(default_factory=dict)
    _names: dict[str, CommandSpec] = field(default_factory=dict)

    def command(
        self,
        name: str,
        *,
        usage: str,
        help: str,
        permission: PermissionLevel,
        aliases: tuple[str, ...] = (),
        not_by_author: bool = False,
        on_issues: bool = False,
        gitlab_refusal: str | None = GITHUB_ONLY,
    ) -> Callable[[CommandFunc], CommandFunc]:
        """Declare the decorated coroutine as the command `/name`.

        `on_issues=True`: it also runs in comments on plain issues, where it may read only
        `Invocation.thread` (pull-request commands read `Invocation.state`).
        `gitlab_refusal=None`: it also runs in GitLab merge-request notes, where it reads
        `Invocation.change`; otherwise the reply there gives this reason.
        """

        def register(func: CommandFunc) -> CommandFunc:
            spec = CommandSpec(
                name,
                usage,
                help,
                permission,
                func,
                aliases,
                not_by_author,
                on_issues,
                gitlab_refusal,
            )
            for word in (name, *aliases):
                known = self._names.get(word)
                if known is not None and known.func is not func:
                    raise ValueError(f"/{word} is declared twice ({known.name} and {name})")
                self._names[word] = spec
            self.specs[name] = spec
            return func

        return register

    def lookup(self, name: str) -> CommandSpec | None:
        """The command a (lower-cased) name or alias means, or None."""
        return self._names.get(name)

    def sorted(self) -> list[CommandSpec]:
        """Every command, by name."""
        return [self.specs[name] for name in sorted(self.specs)]


commands = CommandRegistry()
command = commands.command
