"""Strict validation of identifiers taken from payloads, comments and config."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

_SHOWN_CHARS: Final = 60
_MAX_PATH_CHARS: Final = 1024
_MAX_SEGMENT_CHARS: Final = 255


class IdentifierKind(StrEnum):
    """What an identifier names; the value is how messages call it."""

    MODEL_NAME = "model name"
    MODEL_VERSION = "model version"
    MODEL_ALIAS = "model alias"
    RUN_ID = "run id"
    IMAGE_REPOSITORY = "image repository"
    IMAGE_TAG = "image tag"
    DIGEST = "image digest"
    STAGE = "stage name"
    PIPELINE = "pipeline name"
    REPO_PATH = "repository file path"


def _shown(value: object) -> str:
    """Quote a rejected value so that control, invisible and look-alike characters show."""
    if not isinstance(value, str):
        return f"a {type(value).__name__}"
    # !a escapes every non-ASCII character, so a Cyrillic "а" reads as \u0430.
    if len(value) <= _SHOWN_CHARS:
        return f"{value!a}"
    return f"{value[:_SHOWN_CHARS]!a}… ({len(value)} characters)"


class InvalidIdentifier(ValueError):
    """A value does not have the shape its kind allows; nothing was done with it."""

    def __init__(self, kind: IdentifierKind, value: object, reason: str) -> None:
        self.kind = kind
        self.value = value
        self.reason = reason
        super().__init__(
            f"invalid {kind}: {_shown(value)} {reason}; allowed: {_SPECS[kind].allowed}"
        )


@dataclass(frozen=True)
class _Spec:
    """How one kind of identifier is checked and described."""

    regex: re.Pattern[str]
    max_chars: int
    charset: str
    allowed: str
    extra: Callable[[str], str | None] | None = None


def _no_double_dot(value: str) -> str | None:
    return "contains '..'" if ".." in value else None


def _canonical_version(value: str) -> str | None:
    # Only digits get here; "007" and "7" would name one version in two ways.
    if int(value) == 0:
        return "must be a positive integer"
    return "has a leading zero" if value.startswith("0") else None


# MLflow reserves these alias names for itself (mlflow.utils.validation).
_RESERVED_ALIAS = re.compile(r"latest|v\d+|version\d+", re.ASCII | re.IGNORECASE)


def _not_reserved_alias(value: str) -> str | None:
    return "is reserved by MLflow" if _RESERVED_ALIAS.fullmatch(value) else None


def _lowercase_path(value: str) -> str | None:
    components = value.split("/")
    # As in distribution's reference parser: a first component with '.' or ':' or
    # "localhost" is a registry host, where capitals are allowed.
    if len(components) > 1 and (
        "." in components[0] or ":" in components[0] or components[0] == "localhost"
    ):
        components = components[1:]
    if any(char.isupper() for char in "".join(components)):
        return "has capital letters in its path"
    return None


_ALNUM: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_LOWER_ALNUM: Final = "abcdefghijklmnopqrstuvwxyz0123456789"

# The CNCF distribution reference grammar (distribution/reference/regexp.go), without
# the bracketed IPv6 host form: brackets are YAML flow syntax and no registry we serve needs it.
_DOMAIN_COMPONENT: Final = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN: Final = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
_PATH_COMPONENT: Final = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY: Final = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"


def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


_SPECS: Final[dict[IdentifierKind, _Spec]] = {
    IdentifierKind.MODEL_NAME: _Spec(
        _compiled(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"),
        128,
        _ALNUM + "._-",
        "1-128 of A-Z a-z 0-9 . _ - starting with a letter or digit, without '..'",
        _no_double_dot,
    ),
    IdentifierKind.MODEL_VERSION: _Spec(
        _compiled(r"[1-9][0-9]{0,9}"),
        10,
        "0123456789",
        "a positive integer of at most 10 digits, without leading zeros",
        _canonical_version,
    ),
    IdentifierKind.MODEL_ALIAS: _Spec(
        _compiled(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,254}"),
        255,
        _ALNUM + "_-",
        "1-255 of A-Z a-z 0-9 _ - not starting with '-', other than latest, vN, versionN",
        _not_reserved_alias,
    ),
    IdentifierKind.RUN_ID: _Spec(
        _compiled(r"[a-f0-9]{32}"), 32, "abcdef0123456789", "32 lowercase hexadecimal digits"
    ),
    IdentifierKind.IMAGE_REPOSITORY: _Spec(
        _compiled(_REPOSITORY),
        255,
        _ALNUM + "._-/:",
        "[host[:port]/]path with lowercase components a-z 0-9 separated by . _ __ or dashes,"
        " joined by '/', at most 255 characters",
        _lowercase_path,
    ),
    IdentifierKind.IMAGE_TAG: _Spec(
        _compiled(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}"),
        128,
        _ALNUM + "._-",
        "1-128 of A-Z a-z 0-9 _ . - not starting with '.' or '-'",
    ),
    IdentifierKind.DIGEST: _Spec(
        _compiled(r"sha256:[a-f0-9]{64}"),
        71,
        "sha256:abcdef0123456789",
        "sha256: followed by 64 lowercase hexadecimal digits",
    ),
    IdentifierKind.STAGE: _Spec(
        _compiled(r"[a-z0-9][a-z0-9-]{0,62}"),
        63,
        _LOWER_ALNUM + "-",
        "1-63 of a-z 0-9 - starting with a letter or digit",
    ),
    IdentifierKind.PIPELINE: _Spec(
        _compiled(r"[a-z0-9][a-z0-9-]{0,62}"),
        63,
        _LOWER_ALNUM + "-",
        "1-63 of a-z 0-9 - starting with a letter or digit",
    ),
    IdentifierKind.REPO_PATH: _Spec(
        # Segments are checked one by one after normalisation, in validate_repo_path.
        _compiled(r"[A-Za-z0-9._@+=/-]+"),
        _MAX_PATH_CHARS,
        _ALNUM + "._@+=-/",
        "a relative path of A-Z a-z 0-9 . _ @ + = - segments joined by '/',"
        " without '..' or '.git' segments",
    ),
}


def _hidden_character(value: str) -> str | None:
    """Name the first character that would hide or inject something, whatever the kind."""
    for char in value:
        if char.isascii() and char.isprintable():
            continue
        code = f"U+{ord(char):04X}"
        category = unicodedata.category(char)
        if char in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029":
            return "contains a line break"
        if category == "Cc":
            return f"contains control character {code}"
        name = unicodedata.name(char, "unnamed")
        if category == "Cf":
            # Zero-width and bidirectional-override characters hide what a reviewer reads.
            return f"contains invisible formatting character {code} ({name})"
        return f"contains non-ASCII character {code} ({name})"
    return None


def _disallowed_character(value: str, charset: str) -> str | None:
    for char in value:
        if char in charset:
            continue
        if char.isspace():
            return "contains whitespace"
        return f"contains {char!r}, which is not allowed here"
    return None


def _check(kind: IdentifierKind, value: object) -> str:
    spec = _SPECS[kind]
    if not isinstance(value, str):
        raise InvalidIdentifier(kind, value, "is not a string")
    if not value:
        raise InvalidIdentifier(kind, value, "is empty")
    problem = _hidden_character(value)
    if problem is None and len(value) > spec.max_chars:
        problem = f"is {len(value)} characters long, more than {spec.max_chars}"
    if problem is None:
        problem = _disallowed_character(value, spec.charset)
    if problem is None and spec.extra is not None:
        problem = spec.extra(value)
    if problem is None and not spec.regex.fullmatch(value):
        problem = "does not have the allowed shape"
    if problem is not None:
        raise InvalidIdentifier(kind, value, problem)
    return value


def validate(kind: IdentifierKind, value: object) -> str:
    """Return `value` unchanged if it is a valid identifier of `kind`, else raise."""
    if kind is IdentifierKind.REPO_PATH:
        return validate_repo_path(value)
    return _check(kind, value)


def validate_model_name(value: object) -> str:
    """An MLflow registered-model name such as `churn` or `ml.prod.churn_model`."""
    return _check(IdentifierKind.MODEL_NAME, value)


def validate_model_version(value: object) -> str:
    """An MLflow model version: a positive decimal integer as a string, `"7"`."""
    return _check(IdentifierKind.MODEL_VERSION, value)


def validate_model_alias(value: object) -> str:
    """An MLflow model alias such as `champion`."""
    return _check(IdentifierKind.MODEL_ALIAS, value)


def validate_run_id(value: object) -> str:
    """An MLflow run id (32 hexadecimal digits)."""
    return _check(IdentifierKind.RUN_ID, value)


def validate_image_repository(value: object) -> str:
    """An image repository such as `ghcr.io/acme/api` or `registry:5000/team/api`."""
    return _check(IdentifierKind.IMAGE_REPOSITORY, value)


def validate_image_tag(value: object) -> str:
    """An image tag such as `1.10.0` or `v2-rc1`."""
    return _check(IdentifierKind.IMAGE_TAG, value)


def validate_digest(value: object) -> str:
    """An image manifest digest, `sha256:` and 64 hexadecimal digits."""
    return _check(IdentifierKind.DIGEST, value)


def validate_stage_name(value: object) -> str:
    """A promotion stage name such as `staging`."""
    return _check(IdentifierKind.STAGE, value)


def validate_pipeline_name(value: object) -> str:
    """A promotion pipeline name such as `churn-model`."""
    return _check(IdentifierKind.PIPELINE, value)


def validate_repo_path(value: object) -> str:
    """A file path inside a repository, returned normalised (`./a//b.yaml` → `a/b.yaml`)."""
    kind = IdentifierKind.REPO_PATH
    if isinstance(value, str):
        if "\\" in value:
            raise InvalidIdentifier(kind, value, "contains a backslash; use '/' separators")
        if value.startswith("/"):
            raise InvalidIdentifier(kind, value, "is absolute; give a path inside the repository")
        if value.endswith("/"):
            raise InvalidIdentifier(kind, value, "ends with '/'; give a file, not a directory")
    path = _check(kind, value)
    segments = [segment for segment in path.split("/") if segment not in ("", ".")]
    for segment in segments:
        if segment == "..":
            raise InvalidIdentifier(kind, value, "has a '..' segment")
        if segment.lower() == ".git":
            raise InvalidIdentifier(kind, value, "points into the .git directory")
        if len(segment) > _MAX_SEGMENT_CHARS:
            raise InvalidIdentifier(
                kind, value, f"has a segment longer than {_MAX_SEGMENT_CHARS} characters"
            )
    if not segments:
        raise InvalidIdentifier(kind, value, "names the repository root, not a file")
    return "/".join(segments)
