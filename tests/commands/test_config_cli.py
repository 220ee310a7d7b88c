"""`ferrybot config validate` and `ferrybot config schema`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from bot.cli.main import main

SETTINGS = """\
bot:
  commands:
    permissions:
      approve: {users: [lead], teams: [acme/platform]}
  repo_config:
    allowed_overrides: [policy.required_labels]
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("settings", "repo_file", "code", "says"),
    [
        (SETTINGS, None, 0, "ok: "),
        (SETTINGS, "policy:\n  required_labels: ['kind/*']\n", 0, "ok: "),
        (SETTINGS, "policy:\n  title_pattern: '.*'\n", 2, "`policy.title_pattern`"),
        (SETTINGS, "policy: [\n", 2, "not valid YAML"),
        (SETTINGS, "policy: " + "[" * 2000 + "]" * 2000 + "\n", 2, "nests deeper than 32 levels"),
        (SETTINGS.replace("approve", "aprove"), None, 2, "unknown commands: aprove"),
        ("bot:\n  commands:\n    permissions:\n      lgtm: {level: boss}\n", None, 2, "lgtm.level"),
        ("bot:\n  policy:\n    size_thresholds: {S: 10}\n", None, 2, "starting at 0"),
    ],
    ids=[
        "ok",
        "repo-ok",
        "repo-key",
        "repo-yaml",
        "repo-deep",
        "command-typo",
        "bad-level",
        "sizes",
    ],
)
def test_validate(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    settings: str,
    repo_file: str | None,
    code: int,
    says: str,
) -> None:
    """Exit 0 with `ok:` for a good file; 2 with the offending key named otherwise."""
    argv = ["config", "validate", str(_write(tmp_path, "ferrybot.yaml", settings))]
    if repo_file is not None:
        argv += ["--repo-file", str(_write(tmp_path, "repo.yml", repo_file))]
    assert main(argv) == code
    out = capsys.readouterr()
    assert says in (out.out if code == 0 else out.err)


@pytest.mark.parametrize("flag", [[], ["--repo-file"]], ids=["settings", "repo-file"])
def test_schema_is_valid_json_schema(capsys: pytest.CaptureFixture[str], flag: list[str]) -> None:
    """The exported schema is itself a valid JSON Schema and describes the command keys."""
    assert main(["config", "schema", *flag]) == 0
    schema = json.loads(capsys.readouterr().out)
    Draft202012Validator.check_schema(schema)
    assert "CommandGrant" in schema["$defs"]
