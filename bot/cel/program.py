"""Compile a rule once (syntax, names, types, cost) and evaluate it on declared values only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cel

from bot.cel.environment import CelType, Environment
from bot.cel.errors import CelError, position
from bot.cel.lexer import COMPREHENSIONS, Token, bound_names, first_offset, string_value, tokens

MAX_SOURCE_CHARS = 4000
# Named functions a rule may call: CEL's standard library, nothing that reaches outside.
FUNCTIONS = frozenset(
    {
        "size", "contains", "startsWith", "endsWith", "matches",
        "int", "uint", "double", "string", "bool", "bytes", "duration", "timestamp",
    }
)  # fmt: skip
# A regular expression costs more than an operator; the figure is relative, not measured.
_WEIGHTS = {"matches": 20}
_PUNCTUATION = frozenset({"(", ")", "[", "]", "{", "}", ",", ".", ":"})
_PARSE_POSITION = re.compile(r"<input>:(\d+):(\d+): (.*)")


@dataclass(frozen=True)
class Evaluation:
    """A rule's value on one input: True/False, or the error that made it fail closed."""

    value: bool | None
    error: str | None = None

    @property
    def passed(self) -> bool:
        """Only a clean `true` passes."""
        return self.value is True

    def shown(self) -> str:
        """The value as the check table shows it."""
        if self.error is not None:
            return f"error: {self.error}"
        return "true" if self.value else "false"


@dataclass(frozen=True)
class CelRule:
    """A compiled, checked expression over one environment."""

    source: str
    environment: Environment
    cost: int
    _program: Any

    def evaluate(self, values: Mapping[str, Any]) -> Evaluation:
        """Run on `values` (checked against the declarations); any error is a failed rule."""
        bound = self.environment.coerce(values)
        try:
            result = self._program.execute(bound)
        except (KeyError, TypeError, ValueError, RuntimeError, ZeroDivisionError) as exc:
            return Evaluation(None, _runtime_reason(exc))
        if not isinstance(result, bool):
            return Evaluation(None, f"gave {type(result).__name__}, not true or false")
        return Evaluation(result)


def compile_rule(source: str, environment: Environment) -> CelRule:
    """Parse, check names and functions, bound the cost, type-check by a probe; or CelError."""
    if not source.strip():
        raise CelError("the expression is empty")
    if len(source) > MAX_SOURCE_CHARS:
        raise CelError(f"the expression is longer than {MAX_SOURCE_CHARS} characters")
    try:
        program = cel.compile(source)
    except ValueError as exc:
        raise _parse_error(str(exc)) from None
    found = tokens(source)
    references = program.references()
    _check_names(source, found, references["variables"], environment)
    _check_functions(source, found, references["functions"])
    cost = estimate_cost(found, environment)
    if cost > environment.cost_limit:
        at = next((t.offset for t in found if t.text in COMPREHENSIONS), 0)
        raise CelError(
            f"the rule may take up to {cost} steps, over the limit of {environment.cost_limit}; "
            "avoid nesting comprehensions (all, exists, map, filter) over lists",
            *position(source, at),
        )
    _probe(source, found, program, environment)
    return CelRule(source, environment, cost, program)


def _parse_error(message: str) -> CelError:
    match = _PARSE_POSITION.search(message)
    if match is None:
        return CelError(f"not a CEL expression: {message.splitlines()[0]}")
    return CelError(f"syntax: {match.group(3)}", int(match.group(1)), int(match.group(2)))


def _check_names(source: str, found: list[Token], names: list[str], env: Environment) -> None:
    local = bound_names(found)
    for name in names:
        if name not in env.variables and name not in local:
            documented = ", ".join(sorted(env.variables))
            raise CelError(
                f"unknown variable `{name}`: {env.name} rules may read only {documented}",
                *position(source, first_offset(found, name)),
            )


def _check_functions(source: str, found: list[Token], functions: list[str]) -> None:
    for name in functions:
        if name[:1] in "_!-@" or name in FUNCTIONS:
            continue
        raise CelError(
            f"function `{name}` is not available; rules may call {', '.join(sorted(FUNCTIONS))}",
            *position(source, first_offset(found, name)),
        )


def estimate_cost(found: list[Token], env: Environment) -> int:
    """Steps in the worst case: each operation, times the size of every list it iterates."""
    cost = 0
    multipliers: list[tuple[int, int]] = []  # (paren depth where it ends, factor)
    depth = 0
    factor = 1
    for i, token in enumerate(found):
        if token.text == "(":
            depth += 1
            if i > 1 and found[i - 1].text in COMPREHENSIONS and found[i - 2].text == ".":
                size = _receiver_size(found, i - 2, env)
                multipliers.append((depth, size))
                factor *= size
            continue
        if token.text == ")":
            if multipliers and multipliers[-1][0] == depth:
                factor //= multipliers.pop()[1]
            depth -= 1
            continue
        if token.kind in ("op", "ident") and token.text not in _PUNCTUATION:
            cost += _WEIGHTS.get(token.text, 1) * factor
    return cost


def _receiver_size(found: list[Token], dot: int, env: Environment) -> int:
    """Largest size of the list or map a comprehension iterates (declared; else the largest)."""
    path: list[str] = []
    i = dot - 1
    while i >= 0 and found[i].kind == "ident":
        path.insert(0, found[i].text)
        if i >= 1 and found[i - 1].text == ".":
            i -= 2
        else:
            break
    kind: CelType | None = env.variables.get(path[0]) if path else None
    for name in path[1:]:
        kind = kind.fields.get(name) if kind is not None else None
    if kind is not None and kind.kind in ("list", "map"):
        return max(kind.max_size, 1)
    return max([_largest(k) for k in env.variables.values()] + [1])


def _largest(kind: CelType) -> int:
    sizes = [kind.max_size] + [_largest(k) for k in kind.fields.values()]
    if kind.item is not None:
        sizes.append(_largest(kind.item))
    return max(sizes)


def _probe(source: str, found: list[Token], program: Any, env: Environment) -> None:
    keys = frozenset(
        [t.text for t in found if t.kind == "ident"]
        + [string_value(t) for t in found if t.kind == "string"]
    )
    try:
        result = program.execute(env.probe(keys))
    except KeyError as exc:
        name = str(exc.args[0]) if exc.args else "?"
        raise CelError(
            f"`{name}` is not a field of what it is read from; see the documented variables "
            f"of {env.name} rules",
            *position(source, first_offset(found, name)),
        ) from None
    except (TypeError, ValueError, RuntimeError, ZeroDivisionError) as exc:
        raise CelError(f"type error: {_runtime_reason(exc)}") from None
    if not isinstance(result, bool):
        raise CelError(f"the rule must give true or false, not {type(result).__name__}")


def _runtime_reason(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"no value for {exc.args[0]!r}" if exc.args else "missing value"
    text = str(exc).split(". ")[0]
    if "No such overload" in text:
        # CEL never mixes int and double: `x * 2` on a double needs `x * 2.0`.
        return "no such overload (CEL does not mix int and double: write 2.0, not 2)"
    return text[:200]
