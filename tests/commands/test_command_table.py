"""The commands the issue asks for are declared, with usage and help (README: test_readme)."""

from __future__ import annotations

from bot.commands import commands
from bot.pipeline.dispatch import discover

REQUIRED = {
    "help",
    "hold",
    "lgtm",
    "approve",
    "retest",
    "label",
    "remove-label",
    "assign",
    "unassign",
    "cc",
    "uncc",
    "close",
    "reopen",
}


def test_every_command_of_the_issue_is_declared_with_help() -> None:
    """The full command set exists, each with usage and help text; /unhold is an alias."""
    discover()
    assert REQUIRED <= set(commands.specs)
    for spec in commands.specs.values():
        assert spec.usage.startswith(f"/{spec.name}") and spec.help
    hold = commands.lookup("unhold")
    assert hold is not None and hold.name == "hold"
