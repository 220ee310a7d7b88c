"""The audit record: one decision or action the bot took, as JSON on the audit topic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditRecord(BaseModel):
    """Who did what to which subject, from what to what, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="Deterministic from the cause, so a replay writes the same id.")
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    delivery_id: str = Field(description="The delivery that caused it.")
    actor: str = Field(description="Who asked: a GitHub login, `mlflow`, `registry` or `ferrybot`.")
    action: str = Field(description="What was done, e.g. `promotion.opened`, `command.refused`.")
    subject: str
    from_value: str | None = None
    to_value: str | None = None
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """Serialise for a Kafka message value."""
        return self.model_dump_json().encode()
