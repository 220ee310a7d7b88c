"""The one object a handler receives: the event, a GitHub client, config, logger, dry-run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from gidgethub.abc import GitHubAPI
from pydantic import BaseModel, ValidationError

from bot.ledger.store import LedgerStore
from bot.pipeline.retry import PermanentError
from bot.promotion.sources import ArtifactSources
from bot.publisher import Publisher
from schemas.audit import AuditRecord
from schemas.config import BotConfig
from schemas.envelope import Envelope, payload_dict
from schemas.notification import Notification

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
    # Who ferrybot is on GitHub (see GitHubClients.bot_login); None when it cannot be known.
    bot_login: str | None = None
    ledger: LedgerStore | None = None
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
