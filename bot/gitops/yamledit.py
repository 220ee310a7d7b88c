"""Round-trip YAML edits: change one scalar and leave every other byte of the file alone."""

from __future__ import annotations

from ruamel.yaml.nodes import ScalarNode

from bot.gitops.edits import Change, EditError, EditResult
from bot.gitops.scalars import check_value, keeps_type, render_replacement
from bot.gitops.yamlnav import Found, Missing, check_writable, follow, missing_key_error
from bot.gitops.yamlpath import YamlPath, parse_path
from bot.gitops.yamlsource import (
    DocumentSelector,
    ParsedYaml,
    describe_node,
    parse_yaml,
    select_document,
)
from bot.gitops.yamlverify import Expectation, ScalarSnap, Splice, apply_splice

__all__ = [
    "Change",
    "DocumentSelector",
    "EditError",
    "EditResult",
    "get_path",
    "replace_scalar",
    "set_path",
]


def _locate(
    text: str, path: str | YamlPath, selector: DocumentSelector | None, source: str
) -> tuple[ParsedYaml, int, YamlPath, Found | Missing]:
    parsed = parse_yaml(text, source)
    document = select_document(parsed, selector)
    yaml_path = path if isinstance(path, YamlPath) else parse_path(path, source=source)
    return parsed, document, yaml_path, follow(parsed, document, yaml_path)


def get_path(
    text: str,
    path: str | YamlPath,
    *,
    document_selector: DocumentSelector | None = None,
    source: str = "<input>",
) -> str:
    """The scalar at `path` as written (`7`, `1.10`, `models:/churn/7`), unquoted.

    Reads through aliases and merge keys, as YAML readers do.
    """
    parsed, _, yaml_path, found = _locate(text, path, document_selector, source)
    if isinstance(found, Missing):
        raise missing_key_error(parsed, yaml_path, found)
    if not isinstance(found.node, ScalarNode):
        raise EditError(source, str(yaml_path), f"holds {describe_node(found.node)}, not a value")
    value: str = found.node.value
    return value


def set_path(
    text: str,
    path: str | YamlPath,
    value: str,
    *,
    document_selector: DocumentSelector | None = None,
    source: str = "<input>",
) -> EditResult:
    """Set the existing scalar at `path` to `value`, changing nothing else in `text`.

    The value keeps its YAML type (see `render_replacement`); setting the current value
    returns the text unchanged with `changed=False`.
    """
    parsed, document, yaml_path, found = _locate(text, path, document_selector, source)
    if isinstance(found, Missing):
        raise missing_key_error(parsed, yaml_path, found)
    return replace_scalar(parsed, document, found, value, str(yaml_path))


# ruamel.yaml's dumper re-indents and re-wraps what it writes ("individual indentation of
# lines is not preserved"), so nothing is dumped: the file is parsed (ruamel's round-trip
# composer and scanner) only to find where the value sits, the new scalar is spliced into
# the original text, and the result is re-parsed to prove that only the intended values
# changed. Comments, key order, quoting, indentation, blank lines, anchors, document
# markers, directives and a missing final newline stay because nothing else is rewritten.
def replace_scalar(
    parsed: ParsedYaml, document: int, found: Found, value: str, path: str
) -> EditResult:
    """Write `value` over the scalar `found` points at; `path` names it in changes and errors."""
    check_value(value, parsed.source, path)
    node = found.node
    if not isinstance(node, ScalarNode):
        raise EditError(
            parsed.source,
            path,
            f"holds {describe_node(node)}, not a single value; point the path at a scalar in it",
        )
    check_writable(parsed, document, found, path)
    if node.style in ("|", ">"):
        raise EditError(
            parsed.source,
            path,
            f"holds a block scalar ({node.style}); ferrybot writes single-line values only,"
            " so make it a plain or quoted scalar first",
        )
    if keeps_type(node, value):
        return EditResult(parsed.text)
    explicit_tag = parsed.has_explicit_tag(node)
    rendered, written_tag = render_replacement(
        node, value, parsed.layout, explicit_tag=explicit_tag
    )
    span = parsed.scalar_span(node)
    if span is None:
        if found.key is None:
            raise EditError(parsed.source, path, "is an empty list item; give it a value first")
        # A left-out value has no text of its own: write it after the key's ':'.
        start = end = parsed.value_indicator_end(found.key)
        rendered = " " + rendered
    else:
        start, end = span
    tag = node.tag if explicit_tag else written_tag
    # Aliases of an anchored scalar read the new value too: report every place.
    changes = [Change(path, node.value, value)] + [
        Change(str(location), node.value, value) for _, location in parsed.locations(node)[1:]
    ]
    expect = Expectation(replaced={id(node): ScalarSnap(tag, value)})
    return apply_splice(parsed, Splice(start, end, rendered, expect, tuple(changes)), path)
