"""Text ferrybot writes into GitLab notes: quick actions neutralised, sizes bounded."""

from __future__ import annotations

import re

# GitLab runs quick actions in every note, the API's included, on lines that start with `/`
# outside code blocks: a label or a title quoted at the start of a line must never become
# `/merge` or `/approve` run as ferrybot.
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")

# GitLab refuses note bodies over 1,000,000 characters; each check's section is kept far below.
NOTE_LIMIT = 1_000_000
SECTION_LIMIT = 60_000


def without_quick_actions(text: str) -> str:
    """`text` with every line GitLab would read as a quick action escaped (`\\/merge`)."""
    lines = []
    fence: str | None = None
    for line in text.split("\n"):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1).startswith(fence):
                fence = None
        elif opened:
            fence = opened.group(1)[:3]
        elif line.startswith("/"):
            line = "\\" + line  # Markdown shows `\/` as `/`; GitLab no longer sees a command
        lines.append(line)
    return "\n".join(lines)
