"""Value templates such as `models:/{name}/{version}`: checked, rendered and read back."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from bot.gitops.identifiers import IdentifierKind, InvalidIdentifier, validate

PLACEHOLDERS: Final[Mapping[str, IdentifierKind]] = MappingProxyType(
    {
        "name": IdentifierKind.MODEL_NAME,
        "version": IdentifierKind.MODEL_VERSION,
        "alias": IdentifierKind.MODEL_ALIAS,
        "run_id": IdentifierKind.RUN_ID,
        "repository": IdentifierKind.IMAGE_REPOSITORY,
        "tag": IdentifierKind.IMAGE_TAG,
        "digest": IdentifierKind.DIGEST,
        "stage": IdentifierKind.STAGE,
        "pipeline": IdentifierKind.PIPELINE,
    }
)

_MAX_TEMPLATE_CHARS: Final = 512
_MAX_RENDERED_CHARS: Final = 4096
_FIELD = re.compile(r"\{([^{}]*)\}|[{}]")
_PLACEHOLDER = re.compile(r"[a-z_]+")
# Literal text is printable ASCII without spaces: a value never needs more, and
# anything else (newlines, look-alikes) would only hide what the value really is.
_LITERAL = re.compile(r"[!-z|~]*")


class TemplateError(ValueError):
    """A template cannot be used, or does not fit the values or text it was given."""


@dataclass(frozen=True, kw_only=True)
class TemplateValues:
    """The identifiers a template may use; each one is validated when this is built."""

    name: str | None = None
    version: str | None = None
    alias: str | None = None
    run_id: str | None = None
    repository: str | None = None
    tag: str | None = None
    digest: str | None = None
    stage: str | None = None
    pipeline: str | None = None

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value is not None:
                validate(PLACEHOLDERS[field.name], value)

    def get(self, placeholder: str) -> str | None:
        """The value for `placeholder`, or None when this promotion does not have it."""
        value: str | None = getattr(self, placeholder)
        return value


@dataclass(frozen=True)
class _Parsed:
    """A template split into literal text around its placeholders."""

    literals: tuple[str, ...]
    names: tuple[str, ...]


def _literal(template: str, text: str) -> str:
    if not _LITERAL.fullmatch(text):
        bad = next(char for char in text if not _LITERAL.fullmatch(char))
        raise TemplateError(
            f"template {template!a} contains {bad!a} outside a placeholder; literal text is"
            " printable ASCII without spaces or braces"
        )
    return text


@lru_cache(maxsize=256)
def _parse(template: str) -> _Parsed:
    if not template or len(template) > _MAX_TEMPLATE_CHARS:
        raise TemplateError(f"a template has 1 to {_MAX_TEMPLATE_CHARS} characters")
    literals: list[str] = []
    names: list[str] = []
    position = 0
    for match in _FIELD.finditer(template):
        if match.group(1) is None:
            raise TemplateError(
                f"template {template!a} has an unmatched {match.group(0)!r}"
                f" at character {match.start() + 1}"
            )
        name = match.group(1)
        if not _PLACEHOLDER.fullmatch(name):
            raise TemplateError(
                f"template {template!a} has {match.group(0)!a}; placeholders are plain"
                " names such as {version}, without conversions or format specs"
            )
        if name not in PLACEHOLDERS:
            raise TemplateError(
                f"template {template!a} uses unknown placeholder {{{name}}};"
                f" known: {', '.join('{' + known + '}' for known in PLACEHOLDERS)}"
            )
        text = _literal(template, template[position : match.start()])
        if names and not text:
            # Without text between them, "{name}{version}" cannot be read back unambiguously.
            raise TemplateError(
                f"template {template!a} puts {{{names[-1]}}} and {{{name}}} next to each"
                " other; separate them with literal text such as '/'"
            )
        literals.append(text)
        names.append(name)
        position = match.end()
    if not names:
        raise TemplateError(
            f"template {template!a} has no placeholder, so every promotion would write the"
            " same value; use one such as {version} or {tag}"
        )
    literals.append(_literal(template, template[position:]))
    return _Parsed(tuple(literals), tuple(names))


def _parsed(template: object) -> _Parsed:
    if not isinstance(template, str):
        raise TemplateError(f"a template is a string, not a {type(template).__name__}")
    return _parse(template)


def validate_template(template: str) -> None:
    """Raise TemplateError unless `template` can be rendered and read back."""
    _parsed(template)


def template_placeholders(template: str) -> frozenset[str]:
    """The placeholder names `template` uses, so config can check a pipeline provides them."""
    return frozenset(_parsed(template).names)


def render(template: str, values: TemplateValues) -> str:
    """Fill `template` with already-validated identifiers."""
    parsed = _parsed(template)
    parts = [parsed.literals[0]]
    for name, literal in zip(parsed.names, parsed.literals[1:], strict=True):
        value = values.get(name)
        if value is None:
            raise TemplateError(
                f"template {template!a} needs {{{name}}}, but no {PLACEHOLDERS[name]}"
                " is known for this promotion"
            )
        parts += [value, literal]
    return "".join(parts)


def _readings(
    parsed: _Parsed, rendered: str, position: int, index: int, found: dict[str, str]
) -> Iterator[dict[str, str]]:
    """Every way to read `rendered[position:]` as placeholders `index`… and their literals."""
    if index == len(parsed.names):
        if position == len(rendered):
            yield dict(found)
        return
    name = parsed.names[index]
    after = parsed.literals[index + 1]
    last = index == len(parsed.names) - 1
    if last:
        ends = [len(rendered) - len(after)] if rendered.endswith(after) else []
    else:
        ends = [
            end for end in range(position + 1, len(rendered)) if rendered.startswith(after, end)
        ]
    for end in ends:
        piece = rendered[position:end]
        if not piece or found.get(name, piece) != piece:
            continue
        try:
            validate(PLACEHOLDERS[name], piece)
        except InvalidIdentifier:
            continue
        yield from _readings(parsed, rendered, end + len(after), index + 1, {**found, name: piece})


def extract(template: str, rendered: str) -> dict[str, str] | None:
    """Read identifiers back from a rendered value, or None if it does not fit the template.

    `extract("models:/{name}/{version}", "models:/churn/7")` is `{"name": "churn",
    "version": "7"}`. Every piece must be a valid identifier of its kind; a value
    that splits more than one way raises TemplateError rather than guess.
    """
    parsed = _parsed(template)
    if len(rendered) > _MAX_RENDERED_CHARS or not rendered.startswith(parsed.literals[0]):
        return None
    readings = _readings(parsed, rendered, len(parsed.literals[0]), 0, {})
    first = next(readings, None)
    if first is None:
        return None
    second = next(readings, None)
    if second is not None:
        raise TemplateError(
            f"{rendered!a} reads two ways under template {template!a}: {first} and {second};"
            " put a separator between placeholders that neither value can contain"
        )
    return first
