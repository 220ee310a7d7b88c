"""FERRYBOT_* variables the settings model does not know, each with the closest name it does."""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

PREFIX = "FERRYBOT_"
# Read by the test suite (tests/support/mlflow.py), never by the bot.
_NOT_SETTINGS = ("FERRYBOT_TEST_",)


@dataclass(frozen=True)
class UnknownVariable:
    """A variable that configures nothing, and the known name it most resembles."""

    name: str
    closest: str | None


def unknown_variables(
    settings: type[BaseModel], environ: Mapping[str, str]
) -> list[UnknownVariable]:
    """Every FERRYBOT_* variable in `environ` that no field of `settings` reads, by name."""
    found = []
    for variable in sorted(environ):
        upper = variable.upper()
        if not upper.startswith(PREFIX) or upper.startswith(_NOT_SETTINGS):
            continue
        unknown = check_variable(settings, variable)
        if unknown is not None:
            found.append(unknown)
    return found


def check_variable(settings: type[BaseModel], variable: str) -> UnknownVariable | None:
    """None when `variable` names a field of `settings`; else it and the closest known name."""
    upper = variable.upper()
    candidates = _unknown_at(settings, upper.removeprefix(PREFIX).lower().split("__"))
    if candidates is None:
        return None
    # Compared without the shared prefix, which would make any two names look alike.
    bare = {name.removeprefix(PREFIX): name for name in candidates}
    matches = difflib.get_close_matches(upper.removeprefix(PREFIX), bare, n=1, cutoff=0.6)
    return UnknownVariable(variable, bare[matches[0]] if matches else None)


def _unknown_at(model: type[BaseModel], parts: list[str], prefix: str = PREFIX) -> list[str] | None:
    """None when `parts` names a field of `model`; else the names known where it went astray."""
    field = model.model_fields.get(parts[0])
    if field is None:
        return [f"{prefix}{name.upper()}" for name in model.model_fields]
    nested = _model_of(field.annotation)
    if len(parts) == 1 or nested is None:
        # Below a dict or list field any key may follow (channel names, registry names).
        return None
    return _unknown_at(nested, parts[1:], f"{prefix}{parts[0].upper()}__")


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        models = [_model_of(arg) for arg in get_args(annotation)]
        return next((m for m in models if m is not None), None)
    return None
