"""Regenerate README.md's generated tables: settings, slash-commands, CEL variables, metrics."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cel.environment import Environment  # noqa: E402
from bot.cel.environments import ATTESTATION, GATE, PULL_REQUEST, documented  # noqa: E402
from bot.commands import commands  # noqa: E402
from bot.metrics.definitions import catalogue  # noqa: E402
from bot.pipeline.dispatch import discover  # noqa: E402
from bot.settings import Settings  # noqa: E402
from schemas.commands_config import PermissionLevel  # noqa: E402

README = ROOT / "README.md"


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


def command_table() -> str:
    """The Markdown table of every declared command, with its built-in permission."""
    discover()
    rows = [
        "| command | what it does | who may run it (default) | where |",
        "|---|---|---|---|",
    ]
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
        rows.append(f"| {usage} | {text} | {who} | {spec.where} |")
    return "\n".join(rows)


def cel_table(*environments: Environment) -> str:
    """The Markdown table of the variables CEL rules of these environments may read."""
    rows = ["| variable | type | meaning |", "|---|---|---|"]
    for environment in environments or (GATE, PULL_REQUEST):
        for path, kind, meaning in documented(environment):
            text = meaning.replace("|", "\\|")
            rows.append(f"| `{path}` | {kind} | {text} |")
    return "\n".join(rows)


def metrics_table() -> str:
    """The Markdown table of every metric, as a query names it, from its one definition."""
    rows = ["| metric | type | labels | what it counts |", "|---|---|---|---|"]
    for metric in catalogue():
        labels = ", ".join(f"`{label}`" for label in metric.labels)
        text = metric.help.replace("|", "\\|")
        rows.append(f"| `{metric.name}` | {metric.kind} | {labels} | {text} |")
    return "\n".join(rows)


TABLES = {
    "settings": settings_table,
    "commands": command_table,
    "cel": cel_table,
    "metrics": metrics_table,
    "cel-attestation": lambda: cel_table(ATTESTATION),
}


def render(text: str) -> str:
    """README text with every generated table brought up to date; nothing else changes."""
    for name, table in TABLES.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if start not in text or end not in text:
            raise SystemExit(f"README.md lacks the {start} / {end} markers")
        head, _, rest = text.partition(start)
        _, _, tail = rest.partition(end)
        text = f"{head}{start}\n{table()}\n{end}{tail}"
    return text


def main() -> int:
    """Rewrite the tables, or with --check fail when one is stale."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if README.md is stale")
    args = parser.parse_args()
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if wanted != current:
            print("README.md's generated tables are stale: run scripts/readme_tables.py")
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
