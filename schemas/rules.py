"""A CEL rule in the config: a name, an expression checked when the config loads, a message."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.cel import CelError, CelRule, Environment, compile_rule
from bot.cel.environments import ATTESTATION, GATE, PULL_REQUEST


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100, description="Shown in the check's table.")
    expr: str = Field(description="A CEL expression that must be true to pass.")
    message: str = Field(
        default="", max_length=1000, description="What the check tells the author when it fails."
    )

    environment: ClassVar[Environment]

    @model_validator(mode="after")
    def _compiles(self) -> _Rule:
        try:
            compile_rule(self.expr, self.environment)
        except CelError as exc:
            raise ValueError(f"rule {self.name!r}, expr at {exc}") from None
        return self

    def compiled(self) -> CelRule:
        """The checked program (compiled again: programs are not part of the config's value)."""
        return compile_rule(self.expr, self.environment)


class GateRule(_Rule):
    """A model-gate rule over `candidate`, `current` and `stage`."""

    environment = GATE


class PolicyRule(_Rule):
    """A pull-request policy rule over `pr`."""

    environment = PULL_REQUEST


class AttestationRule(_Rule):
    """A supply-chain rule over `statement`: some verified attestation of its type must pass."""

    environment = ATTESTATION

    predicate_type: str = Field(
        min_length=1,
        description="The attestations the rule reads, e.g. `https://slsa.dev/provenance/v1`.",
    )
