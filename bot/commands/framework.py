"""Command declarations, the registry that holds them, and what a command receives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.commands.parser import Command
from bot.commands.wording import Sentence
from bot.permissions import PermissionResolver
from schemas.commands_config import CommandGrant, PermissionLevel
from schemas.config import BotConfig
from schemas.github import PullRequest

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


@dataclass
class Invocation:
    """One accepted command about to run: who typed what, on which pull request."""

    ctx: Context
    command: Command
    actor: str
    source: CommentSource
    state: PullState
    config: BotConfig
    permissions: PermissionResolver

    @property
    def args(self) -> tuple[str, ...]:
        """The raw arguments; validate them with the parser's validators before use."""
        return self.command.args


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
    ) -> Callable[[CommandFunc], CommandFunc]:
        """Declare the decorated coroutine as the command `/name`."""

        def register(func: CommandFunc) -> CommandFunc:
            spec = CommandSpec(name, usage, help, permission, func, aliases, not_by_author)
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
