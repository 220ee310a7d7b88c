"""The README's command table and `/help` come from the commands' declarations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.commands import commands
from bot.dispatch import discover

ROOT = Path(__file__).resolve().parents[2]
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


def test_command_table_is_current() -> None:
    """Every command's usage, help and default permission in the README is generated."""
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "command_table.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_every_command_of_the_issue_is_declared_with_help() -> None:
    """The full command set exists, each with usage and help text; /unhold is an alias."""
    discover()
    assert REQUIRED <= set(commands.specs)
    for spec in commands.specs.values():
        assert spec.usage.startswith(f"/{spec.name}") and spec.help
    hold = commands.lookup("unhold")
    assert hold is not None and hold.name == "hold"
