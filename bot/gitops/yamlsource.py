"""YAML text parsed into nodes that know where they sit in it, plus the file's layout."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass
from typing import Final

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.tokens import (
    BlockEndToken,
    FlowEntryToken,
    FlowMappingEndToken,
    FlowSequenceEndToken,
    ScalarToken,
    TagToken,
    Token,
    ValueToken,
)

from bot.gitops.edits import EditError
from bot.gitops.yamlpath import ROOT, Index, Key, YamlPath

STR_TAG: Final = "tag:yaml.org,2002:str"
INT_TAG: Final = "tag:yaml.org,2002:int"

Location = tuple[int, YamlPath]


def is_empty_value(node: Node) -> bool:
    """True for a value left out entirely (`key:` with nothing after it)."""
    return (
        isinstance(node, ScalarNode)
        and node.style is None
        and node.value == ""
        and node.start_mark.index == node.end_mark.index
    )


def describe_node(node: Node) -> str:
    """How an error message names what it found."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return f"a list of {len(node.value)} items"
    if is_empty_value(node):
        return "an empty value"
    return f"the scalar {node.value!a}"


@dataclass(frozen=True)
class DocumentSelector:
    """Picks one document of a multi-document file by `kind` and/or `metadata.name`."""

    kind: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.kind is None and self.name is None:
            raise ValueError("a document selector needs a kind, a name or both")

    def __str__(self) -> str:
        parts = [f"kind={self.kind}"] if self.kind is not None else []
        if self.name is not None:
            parts.append(f"metadata.name={self.name}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Layout:
    """How the file writes things, so that added lines look like their neighbours."""

    newline: str
    mapping_indent: int
    # Columns of "- " and of the item's content, relative to the parent key.
    sequence_offset: int
    sequence_indent: int
    quote: str


class _Tokens:
    """The scanner's tokens by position: where scalars, ':' and brackets really are."""

    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = sorted(tokens, key=lambda token: token.start_mark.index)
        self._starts = [token.start_mark.index for token in self._tokens]

    def within(self, start: int, end: int) -> list[Token]:
        first = bisect.bisect_left(self._starts, start)
        last = bisect.bisect_left(self._starts, end)
        return self._tokens[first:last]

    def first_after(self, index: int, kinds: tuple[type[Token], ...]) -> Token | None:
        for token in self._tokens[bisect.bisect_left(self._starts, index) :]:
            if isinstance(token, kinds):
                return token
        return None


class ParsedYaml:
    """One file's documents, their nodes' locations and the file's layout."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        yaml = YAML(typ="rt", pure=True)
        try:
            self.documents: list[Node] = list(yaml.compose_all(text))
            self._tokens = _Tokens(list(yaml.scan(text)))
        except MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            where = "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"
            problem = error.problem or error.context or "unreadable"
            raise EditError(source, None, f"not valid YAML: {problem}{where}") from None
        except YAMLError as error:
            raise EditError(source, None, f"not valid YAML: {error}") from None
        self._locations: dict[int, list[Location]] = {}
        self._mapping_indents: Counter[int] = Counter()
        self._sequence_layouts: Counter[tuple[int, int]] = Counter()
        self._quotes: Counter[str] = Counter()
        for number, document in enumerate(self.documents):
            self._index(document, number, ROOT, ())
        self.layout = self._layout()

    def _index(self, node: Node, document: int, path: YamlPath, stack: tuple[int, ...]) -> None:
        """Record where each node appears, checking duplicate keys on its first appearance."""
        if id(node) in stack:
            raise EditError(self.source, str(path), "a recursive alias; ferrybot cannot edit it")
        seen = self._locations.setdefault(id(node), [])
        first = not seen
        seen.append((document, path))
        stack = (*stack, id(node))
        if isinstance(node, MappingNode):
            if first:
                self._check_duplicates(node, document, path)
            for key, value in node.value:
                if first:
                    self._measure(key, value)
                label = key.value if isinstance(key, ScalarNode) else f"?{key.start_mark.line + 1}"
                self._index(value, document, path / Key(label), stack)
        elif isinstance(node, SequenceNode):
            for position, item in enumerate(node.value):
                self._index(item, document, path / Index(position), stack)

    def _check_duplicates(self, node: MappingNode, document: int, path: YamlPath) -> None:
        # ruamel's constructor would stop at a duplicate; composing does not, so check here.
        lines: dict[tuple[str | None, str], int] = {}
        for key, _ in node.value:
            if not isinstance(key, ScalarNode):
                continue
            line = key.start_mark.line + 1
            previous = lines.get((key.tag, key.value))
            if previous is not None:
                where = str(path) or f"document {document + 1}"
                raise EditError(
                    self.source,
                    where,
                    f"duplicate key {key.value!a} on lines {previous} and {line}; YAML readers"
                    " keep only one of them, so remove or rename the other",
                )
            lines[(key.tag, key.value)] = line

    def _measure(self, key: Node, value: Node) -> None:
        if isinstance(value, ScalarNode):
            if value.style in ("'", '"'):
                self._quotes[value.style] += 1
            return
        if not isinstance(value, MappingNode | SequenceNode) or value.flow_style:
            return
        if value.start_mark.line == key.start_mark.line:
            return
        column = key.start_mark.column
        if isinstance(value, MappingNode):
            self._mapping_indents[value.start_mark.column - column] += 1
        elif value.value:
            item = value.value[0]
            if item.start_mark.line == value.start_mark.line:
                offset = value.start_mark.column - column
                self._sequence_layouts[(offset, item.start_mark.column - column)] += 1

    def _layout(self) -> Layout:
        mapping_indent = max(
            self._mapping_indents, key=self._mapping_indents.__getitem__, default=2
        )
        offset, indent = max(
            self._sequence_layouts, key=self._sequence_layouts.__getitem__, default=(0, 2)
        )
        # Ties go to double quotes, which can hold any value without doubling.
        quote = "'" if self._quotes["'"] > self._quotes['"'] else '"'
        newline = "\r\n" if "\r\n" in self.text else "\n"
        return Layout(newline, mapping_indent, offset, indent, quote)

    def locations(self, node: Node) -> list[Location]:
        """Every (document, path) where the node appears; the first one defines it."""
        return self._locations[id(node)]

    def scalar_span(self, node: ScalarNode) -> tuple[int, int] | None:
        """The scalar's own text (after any anchor or tag); None for a left-out value."""
        if is_empty_value(node):
            return None
        for token in self._tokens.within(node.start_mark.index, node.end_mark.index):
            if isinstance(token, ScalarToken) and token.end_mark.index == node.end_mark.index:
                return token.start_mark.index, token.end_mark.index
        raise EditError(self.source, None, f"cannot locate the scalar {node.value!a}")

    def has_explicit_tag(self, node: ScalarNode) -> bool:
        """True for `!!str 7` and the like, whose type does not depend on the text."""
        span = self.scalar_span(node)
        end = node.start_mark.index if span is None else span[0]
        tokens = self._tokens.within(node.start_mark.index, end)
        return any(isinstance(token, TagToken) for token in tokens)

    def content_end(self, node: Node) -> int:
        """Where the collection's last content ends (before trailing comments and blanks)."""
        ends = [
            token.end_mark.index
            for token in self._tokens.within(node.start_mark.index, node.end_mark.index)
            if not isinstance(token, BlockEndToken | FlowEntryToken)
            and not (
                isinstance(token, FlowMappingEndToken | FlowSequenceEndToken)
                and token.end_mark.index == node.end_mark.index
            )
        ]
        return max(ends, default=node.start_mark.index)

    def token_after(self, index: int, *kinds: type[Token]) -> Token:
        """The first token of one of `kinds` that starts at or after `index`."""
        token = self._tokens.first_after(index, kinds)
        if token is None:
            raise EditError(self.source, None, f"no {kinds[0].__name__} after offset {index}")
        return token

    def value_indicator_end(self, key: Node) -> int:
        """Just after the ':' that follows `key`."""
        return int(self.token_after(key.end_mark.index, ValueToken).end_mark.index)


def parse_yaml(text: str, source: str) -> ParsedYaml:
    """Parse `text` (named `source` in errors), refusing invalid YAML and duplicate keys."""
    if not isinstance(text, str):
        raise EditError(source, None, f"expected the file's text, got a {type(text).__name__}")
    return ParsedYaml(text, source)


def _root_scalar(root: Node, *keys: str) -> str | None:
    node = root
    for key in keys:
        if not isinstance(node, MappingNode):
            return None
        values = [v for k, v in node.value if isinstance(k, ScalarNode) and k.value == key]
        if len(values) != 1:
            return None
        node = values[0]
    return node.value if isinstance(node, ScalarNode) else None


def _describe_document(number: int, root: Node) -> str:
    kind = _root_scalar(root, "kind") or "?"
    name = _root_scalar(root, "metadata", "name") or "?"
    return f"#{number + 1} {kind}/{name}"


def select_document(parsed: ParsedYaml, selector: DocumentSelector | None) -> int:
    """The number of the one document the selector picks (or the file's only document)."""
    present = [number for number, root in enumerate(parsed.documents) if not is_empty_value(root)]
    described = ", ".join(_describe_document(n, parsed.documents[n]) for n in present)
    if selector is None:
        if len(present) == 1:
            return present[0]
        if not present:
            raise EditError(parsed.source, None, "the file holds no YAML document")
        raise EditError(
            parsed.source,
            None,
            f"the file holds {len(present)} documents ({described}); give a document"
            " selector (kind and/or metadata.name) to pick one",
        )
    chosen = [
        number
        for number in present
        if (
            selector.kind is None or _root_scalar(parsed.documents[number], "kind") == selector.kind
        )
        and (
            selector.name is None
            or _root_scalar(parsed.documents[number], "metadata", "name") == selector.name
        )
    ]
    if len(chosen) != 1:
        count = "no document matches" if not chosen else f"{len(chosen)} documents match"
        raise EditError(
            parsed.source,
            None,
            f"{count} the selector {selector}; the file holds {described or 'nothing'}",
        )
    return chosen[0]
