"""The Envelope: one accepted webhook delivery as it travels through Kafka."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Source(StrEnum):
    """Where a delivery came from."""

    GITHUB = "github"
    MLFLOW = "mlflow"
    REGISTRY = "registry"
    ALERTMANAGER = "alertmanager"
    ARGOCD = "argocd"
    FLUX = "flux"
    FERRYBOT = "ferrybot"


class Envelope(BaseModel):
    """A webhook delivery, versioned, keyed in Kafka by its subject."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    id: str = Field(
        min_length=1, max_length=200, description="The sender's delivery id: the dedupe key."
    )
    source: Source
    event: str = Field(min_length=1, max_length=100, description="Event name, e.g. pull_request.")
    action: str | None = Field(default=None, max_length=100)
    subject: str = Field(
        min_length=1, max_length=400, description="Partition key, e.g. github/acme/app#42."
    )
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    installation_id: int | None = None
    payload: Any = Field(description="The sender's JSON body, parsed.")

    @property
    def name(self) -> str:
        """`event.action`, or just the event when it has no action."""
        return f"{self.event}.{self.action}" if self.action else self.event

    def to_bytes(self) -> bytes:
        """Serialise for a Kafka message value."""
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        """Parse a Kafka message value."""
        return cls.model_validate_json(raw)


def payload_dict(envelope: Envelope) -> dict[str, Any]:
    """The payload as a mapping (every source we accept sends a JSON object)."""
    payload = envelope.payload
    return payload if isinstance(payload, dict) else {}
