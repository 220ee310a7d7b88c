"""`ferrybot config validate FILE` and `ferrybot config schema`: config checked offline."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bot.cli.report import report
from bot.commands import commands
from bot.pipeline.dispatch import discover
from bot.repo_config import merge_overrides, parse_repo_file
from bot.settings import Settings, SettingsError, load_settings
from schemas.config import BotConfig


def add_config_parser(commands: Any) -> None:
    """Add `config validate` and `config schema` to the CLI's sub-commands."""
    config = commands.add_parser("config", help="validate a config file or export its schema")
    jobs = config.add_subparsers(dest="config_command", required=True)
    validate = jobs.add_parser("validate", help="check a settings file as start-up would")
    validate.add_argument("file", type=Path, help="YAML settings file")
    validate.add_argument(
        "--repo-file",
        type=Path,
        help="also check a repository's .github/ferrybot.yml against FILE's allowed_overrides",
    )
    schema = jobs.add_parser("schema", help="print the JSON Schema of the settings file")
    schema.add_argument(
        "--repo-file",
        action="store_true",
        help="the schema of a repository's .github/ferrybot.yml (the `bot:` section) instead",
    )


def run_config(args: argparse.Namespace) -> int:
    """Run `config validate` or `config schema`; 0 when valid, 2 when not."""
    if args.config_command == "schema":
        model: type[BaseModel] = BotConfig if args.repo_file else Settings
        print(json.dumps(json_schema(model), indent=2))
        return 0
    try:
        settings = load_settings(args.file)
        _known_commands(settings.bot)
        if args.repo_file is not None:
            _validate_repo_file(settings.bot, args.repo_file)
    except SettingsError as exc:
        report(str(exc))
        return 2
    checked = f"{args.file}" + (f" and {args.repo_file}" if args.repo_file else "")
    print(f"ok: {checked}")
    return 0


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema, marked as draft 2020-12 for editors (yaml-language-server)."""
    schema = model.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _known_commands(config: BotConfig) -> None:
    # A misspelt command name would leave its built-in default in force without a word.
    discover()
    unknown = sorted(set(config.commands.permissions) - set(commands.specs))
    if unknown:
        raise SettingsError(
            "bot.commands.permissions names unknown commands: "
            + ", ".join(unknown)
            + "; known: "
            + ", ".join(sorted(commands.specs))
        )


def _validate_repo_file(central: BotConfig, path: Path) -> None:
    if not path.is_file():
        raise SettingsError(f"{path}: no such file")
    try:
        # Loaded as the bot loads it, so a file that passes here is one the bot accepts.
        data = parse_repo_file(path.read_text(encoding="utf-8"), str(path))
        merge_overrides(central, data, central.repo_config.allowed_overrides, str(path))
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
