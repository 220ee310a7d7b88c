"""The path syntax of edits: `spec.containers[name=api].image`, `images[0]`, `a["x.io/y"]`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from bot.gitops.edits import EditError

_MAX_PATH_CHARS: Final = 512
_KEY: Final = r"[A-Za-z0-9_-]+"
_MATCH_VALUE: Final = r"[A-Za-z0-9_./:@+-]+"
# No escapes inside quotes: printable ASCII other than the quote and the backslash.
_QUOTED: Final = r'"[ !#-\[\]-~]+"'
_SEGMENT = re.compile(
    rf"""
    (?P<dot>\.)?(?P<key>{_KEY})
    | \[(?P<index>[0-9]+)\]
    | \[(?P<quoted_key>{_QUOTED})\]
    | \[(?P<match_key>{_KEY})=(?:(?P<match_value>{_MATCH_VALUE})|(?P<quoted_value>{_QUOTED}))\]
    """,
    re.VERBOSE | re.ASCII,
)


@dataclass(frozen=True)
class Key:
    """A mapping key."""

    name: str


@dataclass(frozen=True)
class Index:
    """A sequence position, counted from 0."""

    position: int


@dataclass(frozen=True)
class Match:
    """The one sequence item that is a mapping whose `key` holds `value`."""

    key: str
    value: str


Segment = Key | Index | Match


def _quoted(text: str) -> str:
    return f'"{text}"'


def format_segment(segment: Segment, *, first: bool = False) -> str:
    """One segment as the path syntax writes it."""
    match segment:
        case Key(name) if re.fullmatch(_KEY, name, re.ASCII):
            return name if first else f".{name}"
        case Key(name):
            return f"[{_quoted(name)}]"
        case Index(position):
            return f"[{position}]"
        case Match(key, value) if re.fullmatch(_MATCH_VALUE, value, re.ASCII):
            return f"[{key}={value}]"
        case Match(key, value):
            return f"[{key}={_quoted(value)}]"


@dataclass(frozen=True)
class YamlPath:
    """A parsed path; `str()` gives it back in the path syntax."""

    segments: tuple[Segment, ...]

    def __str__(self) -> str:
        return "".join(
            format_segment(segment, first=number == 0)
            for number, segment in enumerate(self.segments)
        )

    def __truediv__(self, segment: Segment) -> YamlPath:
        return YamlPath((*self.segments, segment))

    def prefix(self, length: int) -> YamlPath:
        """The first `length` segments."""
        return YamlPath(self.segments[:length])


ROOT: Final = YamlPath(())


def parse_path(text: str, *, source: str = "config") -> YamlPath:
    """Parse a path from config, raising EditError that points at the bad character."""
    if not text or len(text) > _MAX_PATH_CHARS:
        raise EditError(source, None, f"a YAML path has 1 to {_MAX_PATH_CHARS} characters")
    segments: list[Segment] = []
    position = 0
    while position < len(text):
        found = _SEGMENT.match(text, position)
        if found is None or (
            found.group("key") is not None and bool(found.group("dot")) != bool(segments)
        ):
            raise EditError(
                source,
                ascii(text),
                f"cannot read the path at character {position + 1}; write keys as"
                ' a.b, indexes as [0], list items as [name=api], odd keys as ["x.io/y"]',
            )
        if found.group("key") is not None:
            segments.append(Key(found.group("key")))
        elif found.group("index") is not None:
            segments.append(Index(int(found.group("index"))))
        elif found.group("quoted_key") is not None:
            segments.append(Key(found.group("quoted_key")[1:-1]))
        else:
            value = found.group("match_value") or found.group("quoted_value")[1:-1]
            segments.append(Match(found.group("match_key"), value))
        position = found.end()
    return YamlPath(tuple(segments))
