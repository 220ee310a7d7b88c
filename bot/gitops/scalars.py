"""Writing a value as a YAML scalar that every reader parses back to the same type."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

from bot.gitops.edits import EditError
from bot.gitops.yamlsource import INT_TAG, STR_TAG, Layout

MAX_VALUE_CHARS: Final = 4096
# Control, invisible-formatting, line/paragraph separators, surrogates, private use, unassigned.
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Deliberately narrower than YAML's plain scalars: no spaces, no indicators ('#', ',', brackets,
# quotes, '&', '*', '!', '|', '>', '%', '@' first), no trailing ':'. Anything else is quoted.
_PLAIN = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./:@+=~-]*", re.ASCII)
_DECIMAL = re.compile(r"0|[1-9][0-9]*", re.ASCII)
# Kubernetes and Helm read YAML 1.1 (go-yaml: `on`, `yes`, `y` are booleans), ruamel reads
# YAML 1.2 by default: a plain scalar is only written if both read it as a string.
_RESOLVERS: Final = (VersionedResolver(version=(1, 1)), VersionedResolver(version=(1, 2)))


def check_value(value: object, source: str, path: str) -> str:
    """Refuse what no GitOps value needs and what would hide in a diff."""
    if not isinstance(value, str):
        raise EditError(
            source, path, f"a value is written as a string, not a {type(value).__name__}"
        )
    if len(value) > MAX_VALUE_CHARS:
        raise EditError(
            source, path, f"the value is {len(value)} characters long, more than {MAX_VALUE_CHARS}"
        )
    for char in value:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            name = unicodedata.name(char, "a control character")
            raise EditError(
                source,
                path,
                f"the value {value[:60]!a} contains U+{ord(char):04X} ({name}); line breaks,"
                " control and invisible characters are never written",
            )
    return value


def resolves_as_string(value: str) -> bool:
    """True if a plain scalar with this text is a string in both YAML 1.1 and 1.2."""
    return all(
        resolver.resolve(ScalarNode, value, (True, False)) == STR_TAG for resolver in _RESOLVERS
    )


def plain_is_safe(value: str) -> bool:
    """True if `value` can be written without quotes, in block and flow context alike."""
    return (
        _PLAIN.fullmatch(value) is not None
        and not value.endswith(":")
        and resolves_as_string(value)
    )


def quoted(value: str, quote: str) -> str:
    """`value` in single or double quotes; check_value has kept out what would need escapes."""
    if quote == "'":
        return "'" + value.replace("'", "''") + "'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_new(value: str, layout: Layout) -> str:
    """A new string scalar: plain when safe, otherwise in the file's usual quotes."""
    return value if plain_is_safe(value) else quoted(value, layout.quote)


def render_replacement(
    node: ScalarNode, value: str, layout: Layout, *, explicit_tag: bool
) -> tuple[str, str]:
    """Text to put where `node`'s scalar is, and the YAML type it will have.

    A quoted scalar keeps its quotes. A plain integer stays a plain integer when the new
    value is a decimal integer (`version: 7` → `version: 8`). Anything else is a string,
    quoted only when a plain scalar would read as another type (`1.10`, `on`, `null`),
    unless an explicit tag (`!!str 7`) already fixes the type.
    """
    if node.style in ("'", '"'):
        return quoted(value, node.style), STR_TAG
    if node.tag == INT_TAG and _DECIMAL.fullmatch(value):
        return value, INT_TAG
    if explicit_tag and _PLAIN.fullmatch(value) and not value.endswith(":"):
        return value, STR_TAG
    return render_new(value, layout), STR_TAG


def keeps_type(node: ScalarNode, value: str) -> bool:
    """True if `node` already reads as `value` with the type a replacement would give it."""
    if node.value != value:
        return False
    return node.tag == STR_TAG or (node.tag == INT_TAG and _DECIMAL.fullmatch(value) is not None)
