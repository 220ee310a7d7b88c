"""What the image does, without a Docker engine: the lock installs, and `ferrybot run` starts
as the image's unprivileged user with the image's HOME and state directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.pipeline.broker import free_port
from tests.deploy.dockerfile import parse

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = parse(ROOT / "deploy" / "Dockerfile")
LOCK = ROOT / "deploy" / "requirements.lock"
# What the build stage copies into /src before `pip install --no-deps /src`.
SOURCES = ("pyproject.toml", "README.md", "bot", "handlers", "schemas")


def _image_uid() -> int:
    [user] = DOCKERFILE.stages[-1].all("USER")
    return int(user.argument.split(":")[0])


def _as_user(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def _interpreter_for(uid: int) -> str | None:
    """A Python 3.11 the unprivileged user can run (pyenv's under /root is not one)."""
    for candidate in (sys._base_executable, shutil.which("python3.11"), "/usr/bin/python3"):
        if not candidate or not Path(candidate).exists():
            continue
        try:
            probe = subprocess.run(
                [candidate, "-c", "import sys, venv; assert sys.version_info[:2] == (3, 11)"],
                preexec_fn=lambda: _as_user(uid),
                capture_output=True,
                check=False,
            )
        except PermissionError:
            continue
        if probe.returncode == 0:
            return candidate
    return None


@pytest.fixture(scope="module")
def image_venv() -> Iterator[Path]:
    """A fresh virtualenv built the way the image's build stage builds /opt/ferrybot."""
    if os.geteuid() != 0:
        pytest.skip("needs root: the test switches to the image's unprivileged uid")
    uid = _image_uid()
    python = _interpreter_for(uid)
    if python is None:
        pytest.skip(f"no Python 3.11 that uid {uid} may run (e.g. Debian's python3.11)")
    # Not under pytest's tmp dir: that is private to root, and the image's user must read it.
    top = Path(tempfile.mkdtemp(prefix="ferrybot-image-"))
    top.chmod(0o755)
    try:
        venv = top / "venv"
        subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        locked = subprocess.run(
            [*pip, "install", "--require-hashes", "--no-deps", "-r", str(LOCK)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert locked.returncode == 0, locked.stdout[-2000:] + locked.stderr[-3000:]
        src = top / "src"
        src.mkdir()
        for name in SOURCES:
            copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
            copy(ROOT / name, src / name)
        own = subprocess.run(
            [*pip, "install", "--no-deps", str(src)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert own.returncode == 0, own.stdout[-2000:] + own.stderr[-3000:]
        (top / "build-output.txt").write_text(own.stdout + own.stderr)
        yield venv
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_the_lock_is_complete_and_builds_without_warnings(image_venv: Path) -> None:
    """After the hashed lock and ferrybot --no-deps, pip check finds nothing missing."""
    check = subprocess.run(
        [str(image_venv / "bin" / "python"), "-m", "pip", "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout
    build = (image_venv.parent / "build-output.txt").read_text()
    # setuptools>=77 reads the SPDX `license` string; the old table form warned four times.
    assert "project.license" not in build and "License classifiers" not in build


def test_run_starts_as_the_image_user_and_passes_the_healthcheck(image_venv: Path) -> None:
    """As USER, with HOME and FERRYBOT_STATE_DIR as the image sets them: run starts, healthy."""
    uid = _image_uid()
    top = image_venv.parent
    home, state = top / "home", top / "state"
    for directory in (home, state):
        directory.mkdir()
        os.chown(directory, uid, uid)
        directory.chmod(0o750)
    port = free_port()
    env = {
        "PATH": f"{image_venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "FERRYBOT_STATE_DIR": str(state),
        "FERRYBOT_HTTP_PORT": str(port),
        "FERRYBOT_LOG_FORMAT": "json",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    log = (top / "run.log").open("wb")
    bot = subprocess.Popen(
        [str(image_venv / "bin" / "ferrybot"), "run"],
        env=env,
        cwd=state,
        preexec_fn=lambda: _as_user(uid),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    healthcheck = [str(image_venv / "bin" / "python"), str(ROOT / "deploy" / "healthcheck.py")]
    try:
        deadline = time.monotonic() + 90
        while b"ingress.listening" not in (top / "run.log").read_bytes():
            assert bot.poll() is None, (top / "run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (top / "run.log").read_text()[-3000:]
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            assert answer.status == 200
        passed = subprocess.run(
            healthcheck, env=env, preexec_fn=lambda: _as_user(uid), check=False, timeout=30
        )
        assert passed.returncode == 0
        # The embedded broker's binary was unpacked under the user's HOME, and the local
        # webhook secret written to the state directory, both owned by the image's user.
        brokers = list((home / ".calfkit" / "bin").glob("tansu-*"))
        assert brokers and all(path.stat().st_uid == uid for path in brokers)
        assert (state / "webhook-secret").stat().st_uid == uid
    finally:
        bot.terminate()
        assert bot.wait(60) == 0, (top / "run.log").read_text()[-3000:]
        log.close()
    failed = subprocess.run(healthcheck, env=env, check=False, timeout=30)
    assert failed.returncode == 1  # nothing answers any more: unhealthy
