"""Grape's parameter handling: merging query and body, coercion, and its error wording.

GitLab's API is built on Grape, which answers a bad parameter with 400 and
`{"error": "<name> is missing"}` (required, absent), `"<name> is invalid"` (cannot be coerced to
the declared type), `"<name> does not have a valid value"` (outside the declared values) or
`"<name> is empty"` (blank where `allow_blank: false`), several joined with ", ".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TRUE = frozenset({"true", "1", "t", "yes", "y"})
FALSE = frozenset({"false", "0", "f", "no", "n"})
_BRACKETS = re.compile(r"\[([^\]]*)\]")


@dataclass(frozen=True)
class Param:
    """One declared parameter: name, type, whether required, allowed values, aliases."""

    name: str
    kind: str = "string"  # string | integer | integers | float | boolean | csv | hash | hashes
    required: bool = False
    values: tuple[str, ...] | None = None
    alias: str | None = None
    fields: tuple[Param, ...] = ()  # the keys of each hash in a "hashes" list
    allow_blank: bool = True


def nest(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Rack's nested form/query keys: `a[b]=1` -> {"a": {"b": "1"}}, `a[]=1` -> {"a": ["1"]},
    `a[][k]=1&a[][k]=2` -> {"a": [{"k": "1"}, {"k": "2"}]}."""
    answer: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        parts = [head, *_BRACKETS.findall("[" + rest)] if rest else [head]
        _assign(answer, parts, value)
    return answer


def _assign(target: dict[str, Any], parts: list[str], value: str) -> None:
    name, tail = parts[0], parts[1:]
    if not tail:
        target[name] = value
    elif tail[0] == "":
        items = target.setdefault(name, [])
        if not isinstance(items, list):
            return
        if len(tail) == 1:
            items.append(value)
        else:
            # A new hash starts when the key it would set is already in the last one.
            if not items or not isinstance(items[-1], dict) or tail[1] in items[-1]:
                items.append({})
            _assign(items[-1], tail[1:], value)
    else:
        inner = target.setdefault(name, {})
        if isinstance(inner, dict):
            _assign(inner, tail, value)


class Validation:
    """The outcome of checking raw parameters against declarations."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.problems: list[str] = []
        self.unknown: list[str] = []


def validate(
    declared: Sequence[Param],
    raw: Mapping[str, Any],
    *,
    at_least_one_of: Sequence[str] = (),
    ignore: Iterable[str] = (),
) -> Validation:
    result = Validation()
    known = {p.name for p in declared} | {p.alias for p in declared if p.alias} | set(ignore)
    result.unknown = sorted(k for k in raw if k not in known)
    for param in declared:
        present = param.name in raw or (param.alias is not None and param.alias in raw)
        value = raw.get(param.name, raw.get(param.alias) if param.alias else None)
        if not present:
            if param.required:
                result.problems.append(f"{param.name} is missing")
            continue
        ok, coerced, problem = _coerce(param, value, param.name)
        if not ok:
            result.problems.append(problem)
        else:
            result.values[param.name] = coerced
    if at_least_one_of and not any(name in raw for name in at_least_one_of):
        result.problems.append(
            ", ".join(at_least_one_of) + " are missing, at least one parameter must be provided"
        )
    return result


def _coerce(param: Param, value: Any, label: str) -> tuple[bool, Any, str]:
    invalid = (False, None, f"{label} is invalid")
    kind = param.kind
    if value is None:
        return (True, None, "")
    if kind == "string":
        if isinstance(value, bool) or isinstance(value, list | dict):
            return invalid
        text = str(value)
        if not param.allow_blank and not text.strip():
            return (False, None, f"{label} is empty")
        if param.values is not None and text not in param.values:
            return (False, None, f"{label} does not have a valid value")
        return (True, text, "")
    if kind == "integer":
        if isinstance(value, bool):
            return invalid
        if isinstance(value, int):
            return (True, value, "")
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return (True, int(value), "")
        return invalid
    if kind == "float":
        if isinstance(value, bool):
            return invalid
        try:
            return (True, float(value), "")
        except (TypeError, ValueError):
            return invalid
    if kind == "boolean":
        if isinstance(value, bool):
            return (True, value, "")
        if isinstance(value, str) and value.lower() in TRUE | FALSE:
            return (True, value.lower() in TRUE, "")
        return invalid
    if kind == "csv":
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str) for item in items):
            return invalid
        names = [part.strip() for item in items for part in item.split(",")]
        return (True, [name for name in names if name], "")
    if kind == "integers":
        # Grape's Array[Integer]: a JSON list, or `a[]=1&a[]=2` / `a=1,2` in a form.
        items = value if isinstance(value, list) else str(value).split(",")
        numbers = [_coerce(Param(param.name, "integer"), item, label) for item in items]
        if not all(ok for ok, _, _ in numbers):
            return invalid
        return (True, [number for _, number, _ in numbers], "")
    if kind == "hash":
        return (True, value, "") if isinstance(value, dict) else invalid
    if kind == "hashes":
        return _coerce_hashes(param, value, label)
    raise AssertionError(f"unknown parameter kind {kind}")


def _coerce_hashes(param: Param, value: Any, label: str) -> tuple[bool, Any, str]:
    if isinstance(value, dict) and all(k.isdigit() for k in value):
        value = [value[k] for k in sorted(value, key=int)]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        return (False, None, f"{label} is invalid")
    items = []
    problems: list[str] = []
    for index, item in enumerate(value):
        inner = validate(param.fields, item)
        # Grape names nested parameters by their position: actions[0][file_path].
        problems.extend(
            re.sub(r"^(\w+)", rf"{label}[{index}][\1]", problem) for problem in inner.problems
        )
        items.append(inner.values)
    if problems:
        return (False, None, ", ".join(problems))
    return (True, items, "")
