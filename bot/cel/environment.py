"""What a rule may read: declared variables with types, and the largest size of each list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Scalar = Literal["bool", "int", "double", "string"]


@dataclass(frozen=True)
class CelType:
    """A declared type: a scalar, `list` of one type, `map` string → one type, or a struct."""

    kind: Literal["bool", "int", "double", "string", "list", "map", "struct"]
    item: CelType | None = None
    fields: Mapping[str, CelType] = field(default_factory=dict)
    # Lists and maps are cut to this many entries before a rule sees them, so the cost
    # estimate made at load time holds whatever a pull request or a registry sends.
    max_size: int = 0
    doc: str = ""

    @classmethod
    def scalar(cls, kind: Scalar, doc: str = "") -> CelType:
        """bool, int, double or string."""
        return cls(kind, doc=doc)

    @classmethod
    def list_of(cls, item: CelType, max_size: int, doc: str = "") -> CelType:
        """A list of at most `max_size` items."""
        return cls("list", item=item, max_size=max_size, doc=doc)

    @classmethod
    def map_of(cls, item: CelType, max_size: int, doc: str = "") -> CelType:
        """A string-keyed map of at most `max_size` entries."""
        return cls("map", item=item, max_size=max_size, doc=doc)

    @classmethod
    def struct(cls, doc: str = "", **fields: CelType) -> CelType:
        """An object with exactly these fields."""
        return cls("struct", fields=fields, doc=doc)

    def describe(self) -> str:
        """The type as the docs write it: `map(string, double)`, `list(string)`."""
        if self.kind == "list" and self.item is not None:
            return f"list({self.item.describe()})"
        if self.kind == "map" and self.item is not None:
            return f"map(string, {self.item.describe()})"
        if self.kind == "struct":
            return "object"
        return self.kind

    def probe(self, keys: frozenset[str]) -> Any:
        """A value of this type for checking a rule at load; maps hold every key it names."""
        if self.kind == "bool":
            return True
        if self.kind == "int":
            return 1
        if self.kind == "double":
            return 0.5
        if self.kind == "string":
            return "0"  # parses as a number too, so `double(x)` checks as it would run
        assert self.item is not None or self.kind == "struct"
        if self.kind == "list":
            assert self.item is not None
            return [self.item.probe(keys)]
        if self.kind == "map":
            assert self.item is not None
            return {key: self.item.probe(keys) for key in keys}
        return {name: kind.probe(keys) for name, kind in self.fields.items()}

    def coerce(self, value: Any, where: str) -> Any:
        """`value` as exactly this type (ints as doubles where doubles are declared), bounded."""
        if self.kind == "double":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{where} must be a number")
            return float(value)
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{where} must be an integer")
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise TypeError(f"{where} must be true or false")
            return value
        if self.kind == "string":
            if not isinstance(value, str):
                raise TypeError(f"{where} must be text")
            return value
        assert self.item is not None or self.kind == "struct"
        if self.kind == "list":
            assert self.item is not None
            return [self.item.coerce(v, f"{where}[]") for v in list(value)[: self.max_size]]
        if self.kind == "map":
            assert self.item is not None
            items = list(dict(value).items())[: self.max_size]
            return {str(k): self.item.coerce(v, f"{where}.{k}") for k, v in items}
        missing = set(self.fields) - set(value)
        if missing:
            raise TypeError(f"{where} lacks {sorted(missing)}")
        return {
            name: kind.coerce(value[name], f"{where}.{name}") for name, kind in self.fields.items()
        }


@dataclass(frozen=True)
class Environment:
    """The variables one kind of rule may read, and how much work a rule may take."""

    name: str
    variables: Mapping[str, CelType]
    cost_limit: int = 100_000

    def field_names(self) -> set[str]:
        """Every declared field name at any depth (to tell a field from a map key)."""
        names: set[str] = set()
        stack = list(self.variables.values())
        while stack:
            kind = stack.pop()
            names |= set(kind.fields)
            stack += list(kind.fields.values())
            if kind.item is not None:
                stack.append(kind.item)
        return names

    def probe(self, keys: frozenset[str]) -> dict[str, Any]:
        """Probe values of every variable."""
        return {name: kind.probe(keys) for name, kind in self.variables.items()}

    def coerce(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The runtime values, each checked against its declaration and bounded."""
        unknown = set(values) - set(self.variables)
        if unknown:
            raise TypeError(f"undeclared variables {sorted(unknown)}")
        return {name: kind.coerce(values[name], name) for name, kind in self.variables.items()}
