"""YAML loading for files a repository controls: nesting and alias expansion bounded."""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode


class YAMLTooLarge(ValueError):
    """The text is YAML, but nests or expands beyond what the caller allows."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def bounded_yaml(typ: str, *, max_depth: int, max_nodes: int) -> YAML:
    """A ruamel loader (`safe` or `rt`) whose loads raise YAMLTooLarge past the bounds.

    Depth and size count aliases as if they were written out: a few lines of anchors can
    otherwise stand for millions of values ("billion laughs"), or for nesting far deeper
    than the text shows, and everything that walks the result afterwards would pay for it.
    Each document is measured as soon as it is composed, before anything is constructed.
    Other malformed YAML raises ruamel's YAMLError, as before.
    """
    # pure=True: the C parser composes in C, out of reach of both bounds.
    yaml = YAML(typ=typ, pure=True)
    yaml.max_depth = max_depth

    class Bounded(_MeasuringComposer):
        limits = (max_depth, max_nodes)

    yaml.Composer = Bounded
    return yaml


def load_bounded_yaml(text: str, *, max_depth: int, max_nodes: int) -> Any:
    """The one document in `text`, safe-loaded; YAMLTooLarge when it is too deep or too big."""
    return bounded_yaml("safe", max_depth=max_depth, max_nodes=max_nodes).load(text)


class _MeasuringComposer(Composer):
    """ruamel's composer, noting each node's size and height with aliases written out."""

    limits: tuple[int, int]

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self._measured: dict[int, tuple[int, int]] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        alias = self.parser.check_event(AliasEvent)
        try:
            node = super().compose_node(parent, index)
        except MaxDepthExceededError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
            raise YAMLTooLarge(f"nests deeper than {self.limits[0]} levels", line) from None
        if alias:
            if id(node) not in self._measured:
                # The anchored node is still being composed: it contains itself.
                raise YAMLTooLarge("refers to itself through an alias", node.start_mark.line + 1)
        else:
            size, height = 1, 1
            for child in _children(node):
                child_size, child_height = self._measured[id(child)]
                size += child_size
                height = max(height, child_height + 1)
            self._measured[id(node)] = (size, height)
        if parent is None:
            self._check_document(node)
        return node

    def _check_document(self, root: Node) -> None:
        size, height = self._measured[id(root)]
        max_depth, max_nodes = self.limits
        line = root.start_mark.line + 1
        if height > max_depth:
            raise YAMLTooLarge(f"nests deeper than {max_depth} levels through aliases", line)
        if size > max_nodes:
            raise YAMLTooLarge(f"holds more than {max_nodes} values (aliases counted)", line)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []
