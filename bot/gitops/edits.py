"""What a YAML edit reports: the new text and its changes, or an error a person can act on."""

from __future__ import annotations

from dataclasses import dataclass


class EditError(Exception):
    """An edit was refused; the message names the file, the YAML path and what was found."""

    def __init__(self, source: str, path: str | None, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = problem
        where = source if path is None else f"{source}: {path}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Change:
    """One scalar that reads differently after the edit; `old` is None where it was added."""

    path: str
    old: str | None
    new: str


@dataclass(frozen=True)
class EditResult:
    """The edited text and every value that changed in it."""

    text: str
    changes: tuple[Change, ...] = ()

    @property
    def changed(self) -> bool:
        """False when every value already had the requested content (a no-op)."""
        return bool(self.changes)

    def then(self, next_result: EditResult) -> EditResult:
        """Chain a further edit made on this result's text, keeping both change lists."""
        return EditResult(next_result.text, self.changes + next_result.changes)
