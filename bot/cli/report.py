"""One way to report a failure: one `ferrybot: ` line per problem on stderr, no traceback."""

from __future__ import annotations

import sys


def report(message: str) -> None:
    """Print each line of `message` as its own `ferrybot: ` line on stderr."""
    for line in message.splitlines() or [message]:
        print(f"ferrybot: {line}", file=sys.stderr)
