"""Applying a text splice, then proving by re-parsing that only the intended values changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from bot.gitops.edits import Change, EditError, EditResult
from bot.gitops.yamlsource import STR_TAG, ParsedYaml, parse_yaml


@dataclass(frozen=True)
class ScalarSnap:
    """A scalar as readers see it: its resolved type and its text."""

    tag: str | None
    value: str


@dataclass(frozen=True)
class MappingSnap:
    """A mapping's pairs, in order."""

    pairs: tuple[tuple[Snap, Snap], ...]


@dataclass(frozen=True)
class SequenceSnap:
    """A sequence's items, in order."""

    items: tuple[Snap, ...]


Snap: TypeAlias = "ScalarSnap | MappingSnap | SequenceSnap"
NewValue: TypeAlias = "str | Mapping[str, NewValue] | list[NewValue]"


def new_snap(value: NewValue) -> Snap:
    """How a value written by ferrybot will read: strings stay strings."""
    if isinstance(value, str):
        return ScalarSnap(STR_TAG, value)
    if isinstance(value, Mapping):
        return MappingSnap(tuple((ScalarSnap(STR_TAG, k), new_snap(v)) for k, v in value.items()))
    return SequenceSnap(tuple(new_snap(item) for item in value))


@dataclass
class Expectation:
    """What the re-parsed file must show: the old nodes with these differences."""

    replaced: dict[int, Snap] = field(default_factory=dict)
    added: dict[int, tuple[tuple[Snap, Snap], ...]] = field(default_factory=dict)
    appended: dict[int, tuple[Snap, ...]] = field(default_factory=dict)


def snapshot(node: Node, expect: Expectation | None = None) -> Snap:
    """The node's content with aliases and merges unfolded (a recursive alias is refused
    when the file is parsed), with `expect`'s differences applied."""
    expect = expect or Expectation()
    if id(node) in expect.replaced:
        return expect.replaced[id(node)]
    if isinstance(node, ScalarNode):
        return ScalarSnap(node.tag, node.value)
    if isinstance(node, MappingNode):
        pairs = tuple((snapshot(k, expect), snapshot(v, expect)) for k, v in node.value)
        return MappingSnap(pairs + expect.added.get(id(node), ()))
    items = tuple(snapshot(item, expect) for item in node.value)
    return SequenceSnap(items + expect.appended.get(id(node), ()))


@dataclass(frozen=True)
class Splice:
    """Replace text[start:end] with `text`; readers must then see `expect`."""

    start: int
    end: int
    text: str
    expect: Expectation
    changes: tuple[Change, ...]


def apply_splice(parsed: ParsedYaml, splice: Splice, path: str) -> EditResult:
    """Make the edit and re-parse it; refuse the result unless exactly the expected values moved."""
    new_text = parsed.text[: splice.start] + splice.text + parsed.text[splice.end :]
    try:
        after = parse_yaml(new_text, parsed.source)
    except EditError as error:
        raise EditError(
            parsed.source, path, f"the edit would break the file ({error.problem}); nothing written"
        ) from None
    expected = [snapshot(document, splice.expect) for document in parsed.documents]
    actual = [snapshot(document) for document in after.documents]
    if expected != actual:
        # Only a ferrybot bug or a YAML construct it does not understand gets here.
        raise EditError(
            parsed.source,
            path,
            "the edit would change more than the intended values; nothing written"
            " (please report this file to the ferrybot maintainers)",
        )
    return EditResult(new_text, splice.changes)
