"""GitHub's documented limits on text ferrybot writes, and the one function that fits text to them.

GitHub truncates nothing: a comment, body, summary or description one character over its
limit is refused with 422, and the event that wrote it would go to the DLQ after its other
effects already happened. Everything ferrybot writes to GitHub goes through `fit`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

# Issue and pull request comments, pull request bodies and titles (issues share the limits),
# in characters.
COMMENT_BODY: Final = 65_536
PULL_BODY: Final = 65_536
PULL_TITLE: Final = 256
# Check runs: output.summary and output.text. Documented as characters, but GitHub counts
# UTF-8 bytes ("summary exceeds a maximum bytesize of 65535"): fit these with in_bytes.
CHECK_SUMMARY: Final = 65_535
CHECK_TEXT: Final = 65_535
# output.title has no documented limit; the 255 of an annotation's title is a safe one.
CHECK_TITLE: Final = 255
ANNOTATIONS_PER_REQUEST: Final = 50
# An annotation's message and raw_details may be "64 KB" (bytes; 64,000 holds whichever KB).
ANNOTATION_MESSAGE: Final = 64_000
ANNOTATION_TITLE: Final = 255
# Commit status description, in characters.
STATUS_DESCRIPTION: Final = 140

ELLIPSIS: Final = "…"


def fit(text: str, limit: int, *, keep: str = "", in_bytes: bool = False) -> str:
    """`text` followed by `keep`, within `limit` characters (UTF-8 bytes with `in_bytes`).

    Text that fits is returned as it is. Otherwise whole lines are kept while they fit and
    the rest is counted on a last line, `… N more lines`, after a blank line (so it never
    becomes a row of a Markdown table); a single line is cut and ends with `…`. `keep` (a
    hidden marker, a closing tag) is never cut.
    """
    size: Callable[[str], int] = _utf8_size if in_bytes else len
    if size(text) + size(keep) <= limit:
        return text + keep
    budget = limit - size(keep)
    if budget <= 0:
        raise ValueError(f"what must be kept ({size(keep)}) exceeds the limit {limit}")
    lines = text.split("\n")
    if len(lines) == 1:
        return _cut(text, budget, in_bytes) + keep
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        cost = size(line) + (1 if kept else 0)
        if used + cost + size(_more(len(lines) - index - 1)) > budget:
            break
        kept.append(line)
        used += cost
    omitted = len(lines) - len(kept)
    if not kept:
        # Not even the first line fits beside the count: cut it, and count the others.
        note = _more(omitted - 1)
        if size(note) + size(ELLIPSIS) > budget:
            return _cut(text, budget, in_bytes) + keep
        return _cut(lines[0], budget - size(note), in_bytes) + note + keep
    return "\n".join(kept) + _more(omitted) + keep


def _cut(line: str, budget: int, in_bytes: bool) -> str:
    """The start of `line` and `…`, within `budget`."""
    mark = ELLIPSIS if budget >= (_utf8_size(ELLIPSIS) if in_bytes else len(ELLIPSIS)) else ""
    room = budget - (_utf8_size(mark) if in_bytes else len(mark))
    if in_bytes:
        # A character split by the cut is dropped whole rather than sent half-encoded.
        return line.encode()[:room].decode("utf-8", "ignore") + mark
    return line[:room] + mark


def _utf8_size(text: str) -> int:
    return len(text.encode())


def _more(count: int) -> str:
    """The line that stands for `count` lines left out, with its blank line before it."""
    if count == 0:
        return ""
    return f"\n\n{ELLIPSIS} {count} more line{'s' if count != 1 else ''}"
