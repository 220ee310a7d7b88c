"""GitHub's documented limits on text ferrybot writes, and the one function that fits text to them.

GitHub truncates nothing: a comment, body, summary or description one character over its
limit is refused with 422, and the event that wrote it would go to the DLQ after its other
effects already happened. Everything ferrybot writes to GitHub goes through `fit`.
"""

from __future__ import annotations

from typing import Final

# Issue and pull request comments, pull request bodies (issues share the limits).
COMMENT_BODY: Final = 65_536
PULL_BODY: Final = 65_536
PULL_TITLE: Final = 256
# Check runs: output.summary and output.text; annotations per create/update request.
CHECK_SUMMARY: Final = 65_535
CHECK_TEXT: Final = 65_535
ANNOTATIONS_PER_REQUEST: Final = 50
# An annotation's message may be 64 KB: in characters, a quarter of that holds for any UTF-8.
ANNOTATION_MESSAGE: Final = 64 * 1024 // 4
ANNOTATION_TITLE: Final = 255
# Commit status description.
STATUS_DESCRIPTION: Final = 140

ELLIPSIS: Final = "…"


def fit(text: str, limit: int, *, keep: str = "") -> str:
    """`text` followed by `keep`, within `limit` characters.

    Text that fits is returned as it is. Otherwise whole lines are kept while they fit and
    the rest is counted on a last line, `… N more lines`, after a blank line (so it never
    becomes a row of a Markdown table); a single line is cut and ends with `…`. `keep` (a
    hidden marker, a closing tag) is never cut.
    """
    if len(text) + len(keep) <= limit:
        return text + keep
    budget = limit - len(keep)
    if budget <= 0:
        raise ValueError(f"what must be kept ({len(keep)} characters) exceeds the limit {limit}")
    lines = text.split("\n")
    if len(lines) == 1:
        return text[: budget - len(ELLIPSIS)] + ELLIPSIS + keep
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        cost = len(line) + (1 if kept else 0)
        if used + cost + len(_more(len(lines) - index - 1)) > budget:
            break
        kept.append(line)
        used += cost
    omitted = len(lines) - len(kept)
    if not kept:
        # Not even the first line fits beside the count: cut it, and count the others.
        note = _more(omitted - 1)
        room = budget - len(note) - len(ELLIPSIS)
        if room < 0:
            return text[: budget - len(ELLIPSIS)] + ELLIPSIS + keep
        return lines[0][:room] + ELLIPSIS + note + keep
    return "\n".join(kept) + _more(omitted) + keep


def _more(count: int) -> str:
    """The line that stands for `count` lines left out, with its blank line before it."""
    if count == 0:
        return ""
    return f"\n\n{ELLIPSIS} {count} more line{'s' if count != 1 else ''}"
