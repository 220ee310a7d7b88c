"""Regenerate the generated tables in README.md (settings; commands once declared)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.settings import Settings  # noqa: E402

README = ROOT / "README.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
        return "" if value in ([], {}) else "(see below)"
    if field.default is None:
        return ""
    return f"`{field.default}`"


def settings_table() -> str:
    """The Markdown table of every top-level setting."""
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        if name == "bot":
            continue
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `FERRYBOT_{name.upper()}` | {_default(field)} | {description} |")
    return "\n".join(rows)


def replace_between(text: str, start: str, end: str, body: str) -> str:
    """Swap what lies between two marker lines."""
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{body}\n{end}{tail}"


def render(text: str) -> str:
    """README text with the settings table brought up to date."""
    return replace_between(text, START, END, settings_table())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if README.md is stale")
    args = parser.parse_args()
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if wanted != current:
            print("README.md settings table is stale: run scripts/readme_tables.py")
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
