"""The Notification: one chat-ops message as it travels through the notifications topic."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

ELLIPSIS = "…"


class NotificationKind(StrEnum):
    """What happened; routes select on it."""

    PROMOTION_OPENED = "promotion_opened"
    PROMOTION_MERGED = "promotion_merged"
    PROMOTION_FAILED = "promotion_failed"
    GATE_FAILED = "gate_failed"
    CHECK_FAILED = "check_failed"
    COMMAND_REFUSED = "command_refused"
    DLQ_GREW = "dlq_grew"
    DRIFT_ALERT = "drift_alert"
    SUPPLY_CHAIN_FAILED = "supply_chain_failed"


_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2, "critical": 3}


class Severity(StrEnum):
    """How loud a notification is; compared by rank, not alphabetically."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info up to 3 for critical."""
        return _SEVERITY_RANK[self.value]

    def __lt__(self, other: str) -> bool:
        return self.rank < Severity(other).rank

    def __le__(self, other: str) -> bool:
        return self.rank <= Severity(other).rank

    def __gt__(self, other: str) -> bool:
        return self.rank > Severity(other).rank

    def __ge__(self, other: str) -> bool:
        return self.rank >= Severity(other).rank


def _clip(limit: int) -> AfterValidator:
    # Titles and values carry user text (branch names, comments, model names): a long one is
    # cut here rather than refused, so a handler never fails because someone typed a lot.
    def clip(value: str) -> str:
        return value if len(value) <= limit else value[: limit - 1] + ELLIPSIS

    return AfterValidator(clip)


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("links must be absolute http:// or https:// URLs")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in value):
        raise ValueError("links must not contain whitespace or control characters")
    return value


Title = Annotated[str, Field(min_length=1), _clip(1000)]
Text = Annotated[str, _clip(10_000)]
FieldName = Annotated[str, Field(min_length=1), _clip(200)]
FieldValue = Annotated[str, _clip(4000)]
LinkLabel = Annotated[str, Field(min_length=1), _clip(200)]
LinkUrl = Annotated[str, Field(max_length=2000), AfterValidator(_http_url)]


class Notification(BaseModel):
    """A chat-ops message, keyed in Kafka by its subject; `id` is the dedupe key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    # The default is filled in by `_default_id` before validation; mypy sees it optional.
    id: str = Field(
        default="",
        validate_default=True,
        min_length=1,
        max_length=1000,
        description="Dedupe key, deterministic from the cause. Default: "
        "`{delivery_id}:{kind}:{subject}` (plus `:{pipeline}` when set).",
    )
    kind: NotificationKind
    severity: Severity = Severity.INFO
    subject: str = Field(
        min_length=1, max_length=400, description="Partition key, e.g. model/churn."
    )
    title: Title
    text: Text = ""
    fields: dict[FieldName, FieldValue] = Field(
        default_factory=dict, max_length=50, description="Ordered name → value facts."
    )
    links: dict[LinkLabel, LinkUrl] = Field(
        default_factory=dict, max_length=10, description="Ordered label → http(s) URL."
    )
    delivery_id: str = Field(
        min_length=1, max_length=200, description="The delivery that caused this message."
    )
    repository: str | None = Field(
        default=None, max_length=200, description="owner/name, for routing."
    )
    pipeline: str | None = Field(default=None, max_length=200, description="For routing.")
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @model_validator(mode="before")
    @classmethod
    def _default_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("id"):
            parts = [data.get("delivery_id"), data.get("kind"), data.get("subject")]
            if data.get("pipeline"):
                parts.append(data["pipeline"])
            if all(isinstance(part, str) and part for part in parts):
                return {**data, "id": ":".join(str(part) for part in parts)}
        return data

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    def to_bytes(self) -> bytes:
        """Serialise for a Kafka message value."""
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Notification:
        """Parse a Kafka message value."""
        return cls.model_validate_json(raw)
