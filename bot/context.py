"""The one object a handler receives: the event, a GitHub client, config, logger, dry-run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from gidgethub.abc import GitHubAPI
from pydantic import BaseModel, ValidationError

from bot.check_runs import CheckRunScope
from bot.forges.port import ChangeRequest, Forge
from bot.ledger.store import LedgerStore
from bot.pipeline.retry import PermanentError
from bot.promotion.sources import ArtifactSources
from bot.publisher import Publisher
from bot.repo_config import GITLAB_KEY, RepoConfig, RepoConfigCache, effective_config
from schemas.audit import AuditRecord
from schemas.config import BotConfig
from schemas.envelope import Envelope, payload_dict
from schemas.notification import Notification

if TYPE_CHECKING:
    from bot.forges.directory import Forges

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass
class Context:
    """Everything a handler may use for one event; handlers fetch nothing else themselves."""

    envelope: Envelope
    gh: GitHubAPI
    config: BotConfig
    log: structlog.typing.FilteringBoundLogger
    dry_run: bool
    publisher: Publisher
    sources: ArtifactSources | None = None
    check_runs: CheckRunScope | None = None
    # Who ferrybot is on GitHub (see GitHubClients.bot_login); None when it cannot be known.
    bot_login: str | None = None
    repo_configs: RepoConfigCache | None = None
    ledger: LedgerStore | None = None
    # The forge the event came from, behind the port (GitLab events; GitHub's use `gh`).
    forge: Forge | None = None
    # Every forge's adapter, for engines that act on a repository the event is not from.
    forges: Forges | None = None
    _parsed: dict[type[BaseModel], BaseModel] = field(default_factory=dict, repr=False)

    @property
    def payload(self) -> dict[str, Any]:
        """The raw JSON payload."""
        return payload_dict(self.envelope)

    async def notify(self, notification: Notification) -> None:
        """Send a chat notification through the notifications topic."""
        await self.publisher.notify(notification)

    async def audit(self, record: AuditRecord) -> None:
        """Record a decision or action on the audit topic."""
        await self.publisher.audit(record)

    async def repo_config(self, owner: str, repo: str) -> RepoConfig:
        """The config in force for `owner/repo`: central, with the repository's file merged.

        For a GitLab event, `owner/repo` is the project's path and its forge reads the file.
        """
        forge = self.forge
        if forge is not None:
            project = f"{owner}/{repo}"
            if self.repo_configs is None:
                return await forge.repo_config(self.config, project)
            return await self.repo_configs.get_read(
                f"{GITLAB_KEY}{project}", lambda: forge.repo_config(self.config, project)
            )
        if self.repo_configs is None:
            return await effective_config(self.gh, self.config, owner, repo)
        return await self.repo_configs.get(self.gh, self.config, owner, repo)

    async def project_config(self, project: str) -> RepoConfig:
        """`repo_config` for a GitLab project's path (`group/subgroup/project`)."""
        owner, _, repo = project.rpartition("/")
        return await self.repo_config(owner, repo)

    @property
    def change_forge(self) -> Forge:
        """The event's forge, for handlers registered only for events that have one."""
        if self.forge is None:
            raise PermanentError(f"no forge client for a {self.envelope.source} event")
        return self.forge

    async def change(self) -> ChangeRequest:
        """The pull or merge request the event is about, as its forge holds it now."""
        named = self.change_forge.change_of(self.envelope)
        if named is None:
            raise PermanentError(f"{self.envelope.name} names no merge or pull request")
        return await self.change_forge.get_change(*named)

    def caused_by_bot(self, login: str) -> bool:
        """True when `login` is this bot's own GitHub identity (its writes echo as webhooks)."""
        return self.bot_login is not None and self.bot_login.lower() == login.lower()

    def event(self, model: type[ModelT]) -> ModelT:
        """The payload as a typed event; a payload that does not fit is a permanent error."""
        cached = self._parsed.get(model)
        if cached is None:
            try:
                cached = model.model_validate(self.payload)
            except ValidationError as exc:
                fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors()[:5])
                raise PermanentError(
                    f"{self.envelope.name} payload does not fit {model.__name__}: {fields}"
                ) from None
            self._parsed[model] = cached
        assert isinstance(cached, model)
        return cached
