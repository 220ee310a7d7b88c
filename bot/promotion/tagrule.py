"""Which pushed tags trigger an image pipeline: a semver range and/or a regular expression."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

from schemas.pipelines import ImageArtifact

# SemVer 2.0 core with an optional leading `v`; pre-releases sort before their release.
_SEMVER = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?")
_CLAUSE = re.compile(r"(>=|<=|>|<|==)\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")
Version = tuple[int, int, int]
_OPERATORS: dict[str, Callable[[Version, Version], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}

Key = tuple[int, int, int, int, tuple[str, ...]]


def semver_key(tag: str) -> Key | None:
    """A sortable key for a semver tag, or None when the tag is not semver."""
    match = _SEMVER.fullmatch(tag)
    if match is None:
        return None
    major, minor, patch, pre = match.groups()
    # A release (no pre-release) sorts after every pre-release of the same version.
    return (int(major), int(minor), int(patch), 0 if pre else 1, tuple((pre or "").split(".")))


def in_range(tag: str, constraint: str) -> bool:
    """True when the semver tag satisfies every comma-separated clause such as `>=1.0.0`."""
    key = semver_key(tag)
    # As npm's semver does by default, a pre-release never satisfies a range.
    if key is None or key[3] == 0:
        return False
    for clause in constraint.split(","):
        match = _CLAUSE.fullmatch(clause.strip())
        if match is None:
            return False
        op, major, minor, patch = match.groups()
        bound = (int(major), int(minor or 0), int(patch or 0))
        if not _OPERATORS[op]((key[0], key[1], key[2]), bound):
            return False
    return True


def tag_triggers(image: ImageArtifact, tag: str) -> bool:
    """True when a push of `tag` should promote this pipeline's image."""
    if image.semver is not None and not in_range(tag, image.semver):
        return False
    return image.tag_pattern is None or re.fullmatch(image.tag_pattern, tag) is not None
