"""Regenerate README.md's slash-command table from the commands' own declarations."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.commands import commands  # noqa: E402
from bot.dispatch import discover  # noqa: E402
from schemas.commands_config import PermissionLevel  # noqa: E402

README = ROOT / "README.md"
START, END = "<!-- commands:start -->", "<!-- commands:end -->"


def command_table() -> str:
    """The Markdown table of every declared command, with its built-in permission."""
    discover()
    rows = ["| command | what it does | who may run it (default) |", "|---|---|---|"]
    for spec in commands.sorted():
        usage = f"`{spec.usage}`" + "".join(f", `/{alias}`" for alias in spec.aliases)
        who = (
            "anyone"
            if spec.permission is PermissionLevel.NONE
            else f"{spec.permission.value} role or higher"
        )
        if spec.not_by_author:
            who += ", not the PR's author"
        text = spec.help.replace("|", "\\|")
        rows.append(f"| {usage} | {text} | {who} |")
    return "\n".join(rows)


def render(text: str) -> str:
    """README text with the command table brought up to date; only the marked part changes."""
    if START not in text or END not in text:
        raise SystemExit(f"README.md lacks the {START} / {END} markers")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{command_table()}\n{END}{tail}"


def main() -> int:
    """Rewrite the table, or with --check fail when it is stale."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if README.md is stale")
    args = parser.parse_args()
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if wanted != current:
            print("README.md command table is stale: run scripts/command_table.py")
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
