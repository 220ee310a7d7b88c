"""The one error a CEL rule raises at load: what is wrong, and where (line and column)."""

from __future__ import annotations


class CelError(ValueError):
    """A rule that cannot be used, with its 1-based position in the expression."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.reason = message
        self.line = line
        self.column = column


def position(source: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset."""
    before = source[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1
