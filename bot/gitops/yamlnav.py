"""Following a path through parsed YAML, with errors that say what was found instead."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Final, TypeVar

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.gitops.edits import EditError
from bot.gitops.yamlpath import ROOT, Index, Key, Match, YamlPath
from bot.gitops.yamlsource import ParsedYaml, describe_node, is_empty_value

_MERGE_TAG: Final = "tag:yaml.org,2002:merge"
_LISTED: Final = 12


@dataclass(frozen=True)
class Found:
    """The node a path leads to."""

    node: Node
    location: YamlPath
    key: ScalarNode | None
    in_flow: bool
    merged: bool


@dataclass(frozen=True)
class Missing:
    """The mapping (or empty value) where the path's next key is not present."""

    container: Node
    key: ScalarNode | None
    location: YamlPath
    depth: int
    in_flow: bool
    name: str


def _shown(path: YamlPath) -> str:
    return str(path) or "the document root"


def _listed(values: list[str]) -> str:
    shown = ", ".join(ascii(value) for value in values[:_LISTED])
    return shown + (f" and {len(values) - _LISTED} more" if len(values) > _LISTED else "")


def _scalar_keys(node: MappingNode) -> list[str]:
    """The mapping's keys that are scalars, in order."""
    return [key.value for key, _ in node.value if isinstance(key, ScalarNode)]


def _pairs(node: MappingNode, name: str) -> list[tuple[ScalarNode, Node]]:
    return [(k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == name]


def _merged_pair(node: MappingNode, name: str) -> tuple[ScalarNode, Node] | None:
    """The pair `<<` merges bring in for `name`, in YAML's merge order."""
    for key, value in node.value:
        if not (isinstance(key, ScalarNode) and key.tag == _MERGE_TAG):
            continue
        sources = value.value if isinstance(value, SequenceNode) else [value]
        for merged in sources:
            if isinstance(merged, MappingNode):
                pairs = _pairs(merged, name)
                found = pairs[0] if pairs else _merged_pair(merged, name)
                if found is not None:
                    return found
    return None


def _item_value(item: Node, key: str) -> str | None:
    if not isinstance(item, MappingNode):
        return None
    pairs = _pairs(item, key)
    if len(pairs) == 1 and isinstance(pairs[0][1], ScalarNode):
        value: str = pairs[0][1].value
        return value
    return None


_Collection = TypeVar("_Collection", MappingNode, SequenceNode)


def _container(
    parsed: ParsedYaml, node: Node, kind: type[_Collection], path: YamlPath, depth: int
) -> _Collection:
    if isinstance(node, kind):
        return node
    want = "a mapping" if kind is MappingNode else "a list"
    raise EditError(
        parsed.source,
        str(path.prefix(depth + 1)),
        f"{_shown(path.prefix(depth))} is {describe_node(node)}, not {want}",
    )


def follow(parsed: ParsedYaml, document: int, path: YamlPath) -> Found | Missing:
    """Walk `path` from the document root; a missing key is an answer, other misses raise."""
    node = parsed.documents[document]
    location, key, in_flow, merged = ROOT, None, False, False
    for depth, segment in enumerate(path.segments):
        here, there = _shown(path.prefix(depth)), str(path.prefix(depth + 1))
        match segment:
            case Key(name):
                if is_empty_value(node):
                    return Missing(node, key, location, depth, in_flow, name)
                mapping = _container(parsed, node, MappingNode, path, depth)
                pairs = _pairs(mapping, name)
                if len(pairs) > 1:
                    raise EditError(
                        parsed.source,
                        there,
                        f"{here} has {len(pairs)} keys that read {name!a} (with different"
                        " types); quote the one you mean in the file",
                    )
                pair = pairs[0] if pairs else _merged_pair(mapping, name)
                if pair is None:
                    return Missing(mapping, key, location, depth, in_flow, name)
                in_flow = in_flow or bool(mapping.flow_style)
                merged = merged or not pairs
                key, node = pair
                location = location / segment
            case Index(position):
                sequence = _container(parsed, node, SequenceNode, path, depth)
                if position >= len(sequence.value):
                    raise EditError(
                        parsed.source,
                        there,
                        f"index {position} is past the end: {here} has {len(sequence.value)} items",
                    )
                in_flow = in_flow or bool(sequence.flow_style)
                key, node = None, sequence.value[position]
                location = location / segment
            case Match(field, wanted):
                sequence = _container(parsed, node, SequenceNode, path, depth)
                values = [_item_value(item, field) for item in sequence.value]
                matches = [number for number, value in enumerate(values) if value == wanted]
                if len(matches) != 1:
                    count = "no item" if not matches else f"{len(matches)} items"
                    verb = "has" if not matches else "have"
                    present = [value for value in values if value is not None]
                    raise EditError(
                        parsed.source,
                        there,
                        f"{count} of {here} {verb} {field}={wanted!a}; the {field} values"
                        f" there are {_listed(present) or 'none'}",
                    )
                in_flow = in_flow or bool(sequence.flow_style)
                key, node = None, sequence.value[matches[0]]
                location = location / Index(matches[0])
    return Found(node, location, key, in_flow, merged)


def missing_key_error(
    parsed: ParsedYaml,
    path: YamlPath,
    missing: Missing,
    remedy: str = "check the path in the pipeline config",
) -> EditError:
    """Name the missing key, what the mapping has instead, and the nearest spelling."""
    name = missing.name
    here = _shown(path.prefix(missing.depth))
    if not isinstance(missing.container, MappingNode):
        return EditError(
            parsed.source, str(path), f"{here} is empty, so it has no {name!a}; {remedy}"
        )
    keys = _scalar_keys(missing.container)
    near = difflib.get_close_matches(name, keys, n=1)
    hint = f" (did you mean {near[0]!a}?)" if near else ""
    return EditError(
        parsed.source,
        str(path),
        f"no key {name!a} in {here}, which has {_listed(keys) or 'no keys'}{hint}; {remedy}",
    )


def check_writable(parsed: ParsedYaml, document: int, found: Found | Missing, path: str) -> None:
    """Refuse to write through a merge key or an alias: it would change the shared original."""
    node = found.node if isinstance(found, Found) else found.container
    if isinstance(found, Found) and found.merged:
        origin = parsed.locations(node)[0][1]
        raise EditError(
            parsed.source,
            path,
            f"the value comes from {_shown(origin)} through a merge key (<<); edit it"
            " there, or add the key to this mapping to override it",
        )
    origin_document, origin = parsed.locations(node)[0]
    if (origin_document, origin) != (document, found.location):
        raise EditError(
            parsed.source,
            path,
            f"the value is an alias of the anchor at {_shown(origin)}; edit it there, or"
            " replace the alias with its own value",
        )
