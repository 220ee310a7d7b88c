"""Adding keys and list items in the style of their neighbours, without rewriting anything else."""

from __future__ import annotations

from collections.abc import Mapping

from ruamel.yaml.nodes import MappingNode, Node, SequenceNode
from ruamel.yaml.tokens import BlockEntryToken, FlowMappingStartToken, FlowSequenceStartToken

from bot.gitops.edits import Change, EditResult
from bot.gitops.scalars import check_value, render_new
from bot.gitops.yamlpath import Index, Key, YamlPath
from bot.gitops.yamlsource import Layout, ParsedYaml
from bot.gitops.yamlverify import (
    Expectation,
    NewValue,
    Splice,
    apply_splice,
    new_snap,
)

_FLOW_OPENINGS = (FlowMappingStartToken, FlowSequenceStartToken)


def _leaves(value: NewValue, path: YamlPath) -> list[Change]:
    if isinstance(value, str):
        return [Change(str(path), None, value)]
    if isinstance(value, Mapping):
        return [change for k, v in value.items() for change in _leaves(v, path / Key(k))]
    return [change for n, item in enumerate(value) for change in _leaves(item, path / Index(n))]


def _checked(parsed: ParsedYaml, value: NewValue, path: YamlPath) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            check_value(k, parsed.source, str(path / Key(k)))
            _checked(parsed, v, path / Key(k))
    elif isinstance(value, list):
        for number, item in enumerate(value):
            _checked(parsed, item, path / Index(number))
    else:
        check_value(value, parsed.source, str(path))


def _flow(value: NewValue, layout: Layout) -> str:
    if isinstance(value, str):
        return render_new(value, layout)
    if isinstance(value, Mapping):
        pairs = (f"{render_new(k, layout)}: {_flow(v, layout)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    return "[" + ", ".join(_flow(item, layout) for item in value) + "]"


def _block_pairs(value: Mapping[str, NewValue], column: int, layout: Layout) -> str:
    """`k: v` lines at `column`; the first line comes without its indentation."""
    separator = layout.newline + " " * column
    return separator.join(
        f"{render_new(k, layout)}:{_after_key(v, column, layout)}" for k, v in value.items()
    )


def _after_key(value: NewValue, column: int, layout: Layout) -> str:
    """What follows `key:` for a key at `column`: the scalar, or the nested lines."""
    if isinstance(value, str):
        return " " + render_new(value, layout)
    if isinstance(value, Mapping):
        inner = column + layout.mapping_indent
        return layout.newline + " " * inner + _block_pairs(value, inner, layout)
    dash = column + layout.sequence_offset
    content = max(column + layout.sequence_indent, dash + 2)
    return "".join(
        layout.newline
        + " " * dash
        + "-"
        + " " * (content - dash - 1)
        + _item(item, content, layout)
        for item in value
    )


def _item(value: NewValue, column: int, layout: Layout) -> str:
    if isinstance(value, Mapping):
        return _block_pairs(value, column, layout)
    if isinstance(value, str):
        return render_new(value, layout)
    return _flow(value, layout)


def _after_line(text: str, index: int, newline: str) -> tuple[int, str, str]:
    """Where new lines go after the line holding `index`, and what surrounds them there.

    Trailing comments stay on their line; a file without a final newline stays without one.
    """
    if index > 0 and text[index - 1] == "\n":
        # A block scalar's text runs to the start of the next line.
        return index, "", newline
    end = text.find("\n", index)
    if end == -1:
        return len(text), newline, ""
    return (end - 1 if text[end - 1] == "\r" else end), newline, ""


def fill_empty(
    parsed: ParsedYaml,
    empty: Node,
    owner_key: Node,
    value: Mapping[str, NewValue] | list[NewValue],
    path: YamlPath,
    *,
    in_flow: bool,
) -> EditResult:
    """Give the left-out value of `owner_key` (`key:` with nothing after it) a collection."""
    _checked(parsed, value, path)
    layout = parsed.layout
    colon = parsed.value_indicator_end(owner_key)
    if in_flow:
        at, insert = colon, " " + _flow(value, layout)
    else:
        # After the line's end, so a comment after `key:` stays on the key's line.
        at = _after_line(parsed.text, colon, layout.newline)[0]
        insert = _after_key(value, owner_key.start_mark.column, layout)
    expect = Expectation(replaced={id(empty): new_snap(value)})
    changes = tuple(_leaves(value, path))
    return apply_splice(parsed, Splice(at, at, insert, expect, changes), str(path))


def add_pair(
    parsed: ParsedYaml, mapping: MappingNode, key: str, value: NewValue, path: YamlPath
) -> EditResult:
    """Add `key: value` at the end of `mapping`, which `path` names.

    The caller has checked that the mapping is not reached through an alias.
    """
    _checked(parsed, {key: value}, path)
    layout, text = parsed.layout, parsed.text
    if mapping.flow_style:
        pair = f"{render_new(key, layout)}: {_flow(value, layout)}"
        if mapping.value:
            at, insert = parsed.content_end(mapping), ", " + pair
        else:
            opening = parsed.token_after(mapping.start_mark.index, *_FLOW_OPENINGS)
            at, insert = opening.end_mark.index, pair
    else:
        column = mapping.value[0][0].start_mark.column
        at, before, after = _after_line(text, parsed.content_end(mapping), layout.newline)
        pair = f"{render_new(key, layout)}:{_after_key(value, column, layout)}"
        insert = before + " " * column + pair + after
    expect = Expectation(added={id(mapping): ((new_snap(key), new_snap(value)),)})
    changes = tuple(_leaves(value, path / Key(key)))
    return apply_splice(parsed, Splice(at, at, insert, expect, changes), str(path / Key(key)))


def append_item(
    parsed: ParsedYaml, sequence: SequenceNode, value: NewValue, path: YamlPath
) -> EditResult:
    """Append `value` to `sequence`, lined up with its existing items."""
    _checked(parsed, [value], path)
    layout, text = parsed.layout, parsed.text
    expect = Expectation(appended={id(sequence): (new_snap(value),)})
    if sequence.flow_style:
        if sequence.value:
            at, insert = parsed.content_end(sequence), ", " + _flow(value, layout)
        else:
            opening = parsed.token_after(sequence.start_mark.index, *_FLOW_OPENINGS)
            at, insert = opening.end_mark.index, _flow(value, layout)
    else:
        # The node may start at an anchor on the line above; the first '-' is the column.
        entry = parsed.token_after(sequence.start_mark.index, BlockEntryToken)
        dash = entry.start_mark.column
        first = sequence.value[0]
        same_line = first.start_mark.line == entry.start_mark.line
        content = first.start_mark.column if same_line else dash + 2
        at, before, after = _after_line(text, parsed.content_end(sequence), layout.newline)
        line = " " * dash + "-" + " " * (content - dash - 1) + _item(value, content, layout)
        insert = before + line + after
    position = len(sequence.value)
    changes = tuple(_leaves(value, path / Index(position)))
    return apply_splice(parsed, Splice(at, at, insert, expect, changes), str(path))
