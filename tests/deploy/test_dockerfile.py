"""deploy/Dockerfile keeps its promises: digest-pinned base, locked deps, non-root, healthcheck."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.env_names import unknown_variables
from bot.settings import Settings
from tests.deploy.dockerfile import Dockerfile, Stage, parse

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = parse(ROOT / "deploy" / "Dockerfile")


def _base(stage: Stage, image: Dockerfile) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: image.args[m.group(1)], stage.base)


def _final() -> Stage:
    return DOCKERFILE.stages[-1]


def test_every_stage_starts_from_a_digest_pinned_python() -> None:
    """Multi-stage, and each FROM is python:3.11-slim pinned by a sha256 digest."""
    assert len(DOCKERFILE.stages) >= 2
    for stage in DOCKERFILE.stages:
        assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", _base(stage, DOCKERFILE))


def test_dependencies_come_from_the_hashed_lock() -> None:
    """The build stage installs the lock with --require-hashes, then ferrybot without deps."""
    runs = [i.argument for i in DOCKERFILE.stages[0].all("RUN")]
    assert any("--require-hashes" in r and "requirements.lock" in r for r in runs)
    installs = [r for r in runs if " install " in r]
    assert all("--no-deps" in r for r in installs), installs
    copied = " ".join(i.argument for i in DOCKERFILE.stages[0].all("COPY"))
    assert "deploy/requirements.lock" in copied
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    for include in packages["packages"]["find"]["include"]:
        assert f"COPY {include.rstrip('*')} " in "\n".join(
            f"COPY {i.argument}" for i in DOCKERFILE.stages[0].all("COPY")
        )
    # The final image takes the built virtualenv, not the sources or pip's cache.
    assert [i.argument.split()[0] for i in _final().all("COPY")] == ["--from=build"]


def test_runs_as_a_numeric_non_root_user_with_home_and_state_dir() -> None:
    """USER is numeric and not 0; HOME and FERRYBOT_STATE_DIR are created for that uid."""
    [user] = _final().all("USER")
    uid, _, gid = user.argument.partition(":")
    assert uid.isdigit() and int(uid) > 0 and (not gid or gid.isdigit())
    env: dict[str, str] = {}
    for instruction in _final().all("ENV"):
        env |= instruction.env()
    setup = " ".join(i.argument for i in _final().all("RUN"))
    assert f"--uid {uid}" in setup and f"--home-dir {env['HOME']} --create-home" in setup
    assert f"-o {uid}" in setup and env["FERRYBOT_STATE_DIR"] in setup
    [workdir] = _final().all("WORKDIR")
    assert workdir.argument == env["FERRYBOT_STATE_DIR"]
    ferrybot_env = {k: v for k, v in env.items() if k.startswith("FERRYBOT_")}
    assert unknown_variables(Settings, ferrybot_env) == []
    Settings(**{k.removeprefix("FERRYBOT_").lower(): v for k, v in ferrybot_env.items()})


def test_healthcheck_runs_the_copied_script_and_the_default_command_is_run() -> None:
    """HEALTHCHECK runs deploy/healthcheck.py as copied; ENTRYPOINT ferrybot, CMD run."""
    [health] = _final().all("HEALTHCHECK")
    command = health.argument.split(" CMD ", 1)[1]
    script = command.strip().strip("[]").split(", ")[-1].strip('"')
    copied = [i.argument.split() for i in DOCKERFILE.stages[0].all("COPY")]
    assert ["deploy/healthcheck.py", script] in copied
    assert [i.exec_form() for i in _final().all("ENTRYPOINT")] == [["ferrybot"]]
    assert [i.exec_form() for i in _final().all("CMD")] == [["run"]]
