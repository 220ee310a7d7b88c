"""Image overrides in a kustomization's `images:` list: `newName`, `newTag` and `digest`."""

from __future__ import annotations

from typing import Final

from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from bot.gitops.edits import EditError, EditResult
from bot.gitops.identifiers import validate_digest, validate_image_repository, validate_image_tag
from bot.gitops.yamledit import replace_scalar
from bot.gitops.yamlinsert import add_pair, append_item, fill_empty
from bot.gitops.yamlnav import Found, check_writable, follow
from bot.gitops.yamlpath import ROOT, Key, Match, YamlPath
from bot.gitops.yamlsource import describe_node, is_empty_value, parse_yaml, select_document

_IMAGES: Final = YamlPath((Key("images"),))


def _fields(item: MappingNode) -> dict[str, str]:
    return {
        key.value: value.value
        for key, value in item.value
        if isinstance(key, ScalarNode) and isinstance(value, ScalarNode)
    }


# With both `newTag` and `digest` set, kustomize renders `name:tag@digest` (older releases
# dropped the tag) and the runtime pulls by digest, so the tag is only a label for people.
# It must never disagree with the digest: changing one while the entry holds the other is
# refused unless both are given; when both are given both are kept, so reviewers read the
# tag and the cluster pulls the digest.
def _check_pinning(
    current: dict[str, str], new_tag: str | None, digest: str | None, path: str, source: str
) -> None:
    tag_moves = new_tag is not None and current.get("newTag") != new_tag
    digest_moves = digest is not None and current.get("digest") != digest
    if tag_moves and digest is None and "digest" in current:
        raise EditError(
            source,
            path,
            f"pins digest {current['digest']}, so changing newTag alone would not change the"
            " image that runs; give the new tag's digest too, or remove the digest line to"
            " deploy by tag",
        )
    if digest_moves and new_tag is None and "newTag" in current:
        raise EditError(
            source,
            path,
            f"has newTag {current['newTag']!a}; give the tag that digest {digest} belongs to"
            " as well, so that tag and digest agree",
        )


def _set_field(text: str, entry: YamlPath, field: str, value: str, source: str) -> EditResult:
    parsed = parse_yaml(text, source)
    document = select_document(parsed, None)
    found = follow(parsed, document, entry / Key(field))
    if isinstance(found, Found):
        return replace_scalar(parsed, document, found, value, str(entry / Key(field)))
    check_writable(parsed, document, found, str(entry))
    if not isinstance(found.container, MappingNode):
        raise EditError(source, str(entry), "is empty; give the entry at least its name")
    return add_pair(parsed, found.container, field, value, entry)


def set_kustomize_image(
    text: str,
    name: str,
    new_tag: str | None = None,
    digest: str | None = None,
    new_name: str | None = None,
    *,
    source: str = "kustomization.yaml",
) -> EditResult:
    """Point the `images:` entry for `name` at a new tag, digest and/or name.

    The entry is added (and `images:` too) when missing, laid out like the rest of the
    file. Raises InvalidIdentifier for a malformed name, tag or digest, and EditError
    when the file cannot take the change.
    """
    validate_image_repository(name)
    wanted = {
        "newName": None if new_name is None else validate_image_repository(new_name),
        "newTag": None if new_tag is None else validate_image_tag(new_tag),
        "digest": None if digest is None else validate_digest(digest),
    }
    values = {field: value for field, value in wanted.items() if value is not None}
    if not values:
        raise EditError(source, "images", "nothing to set: give a new tag, digest or name")
    parsed = parse_yaml(text, source)
    document = select_document(parsed, None)
    root = parsed.documents[document]
    if not isinstance(root, MappingNode):
        raise EditError(source, None, "a kustomization is a mapping of fields at the top level")
    found = follow(parsed, document, _IMAGES)
    check_writable(parsed, document, found, "images")
    new_entry = {"name": name, **values}
    if not isinstance(found, Found):
        return add_pair(parsed, root, "images", [new_entry], ROOT)
    images = found.node
    if is_empty_value(images) and found.key is not None:
        return fill_empty(parsed, images, found.key, [new_entry], _IMAGES, in_flow=found.in_flow)
    if not isinstance(images, SequenceNode):
        raise EditError(source, "images", f"holds {describe_node(images)}, not a list")
    entries = [
        item
        for item in images.value
        if isinstance(item, MappingNode) and _fields(item).get("name") == name
    ]
    if not entries:
        return append_item(parsed, images, new_entry, _IMAGES)
    entry = YamlPath((Key("images"), Match("name", name)))
    if len(entries) > 1:
        raise EditError(
            source,
            str(entry),
            f"{len(entries)} entries are named {name!a}; kustomize applies only one of them,"
            " so remove the others",
        )
    _check_pinning(_fields(entries[0]), new_tag, digest, str(entry), source)
    result = EditResult(text)
    for field, value in values.items():
        result = result.then(_set_field(result.text, entry, field, value, source))
    return result
