"""Setting a value such as `image.tag` in a Helm chart's values.yaml."""

from __future__ import annotations

from ruamel.yaml.nodes import MappingNode

from bot.gitops.edits import EditError, EditResult
from bot.gitops.yamledit import replace_scalar
from bot.gitops.yamlinsert import add_pair, fill_empty
from bot.gitops.yamlnav import Found, check_writable, follow, missing_key_error
from bot.gitops.yamlpath import Key, parse_path
from bot.gitops.yamlsource import parse_yaml, select_document
from bot.gitops.yamlverify import NewValue


def set_helm_value(
    text: str,
    dotted_key: str,
    value: str,
    *,
    create_missing: bool = False,
    source: str = "values.yaml",
) -> EditResult:
    """Set `dotted_key` (path syntax: `image.tag`, `models[0].version`) to `value`.

    A missing key is refused by default: a typo in the pipeline config would otherwise
    add a key the chart never reads, and the promotion would change nothing. With
    `create_missing`, the missing mappings are added, indented like the rest of the file.
    """
    path = parse_path(dotted_key, source=source)
    parsed = parse_yaml(text, source)
    document = select_document(parsed, None)
    found = follow(parsed, document, path)
    if isinstance(found, Found):
        return replace_scalar(parsed, document, found, value, str(path))
    if not create_missing:
        raise missing_key_error(
            parsed,
            path,
            found,
            "check the key in the pipeline config, or let the stage create missing keys",
        )
    missing = path.segments[found.depth :]
    names = [segment.name for segment in missing if isinstance(segment, Key)]
    if len(names) != len(missing):
        raise EditError(source, str(path), "only mapping keys can be created, not list items")
    nested: NewValue = value
    for name in reversed(names[1:]):
        nested = {name: nested}
    check_writable(parsed, document, found, str(path))
    container = path.prefix(found.depth)
    if isinstance(found.container, MappingNode):
        return add_pair(parsed, found.container, names[0], nested, container)
    if found.key is None:
        raise EditError(source, str(path), f"{container} is an empty list item")
    return fill_empty(
        parsed, found.container, found.key, {names[0]: nested}, container, in_flow=found.in_flow
    )
