"""Text from MLflow or registries made safe inside a Markdown table cell of a PR body."""

from __future__ import annotations

import unicodedata

_MAX_CELL = 200


def cell(value: object) -> str:
    """One line, no table or HTML syntax, no @-mentions, bounded: shown, never interpreted."""
    text = "".join(
        " " if unicodedata.category(char)[0] in "CZ" and char != " " else char
        for char in str(value)
    )
    for bad, good in (("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("`", "'"), ("@", "@\u200b")):
        text = text.replace(bad, good)
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"
