"""The processes a benchmark round measures: ferrybot's roles, the naive baseline, Probot."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.pipeline.broker import free_port

BENCH = Path(__file__).resolve().parent
PROBOT_DIR = BENCH / ".probot"
PROBOT_VERSION = "14"
SECRET = "bench-secret-0123456789"


def private_key_pem() -> str:
    """A fresh RSA key for the App JWTs (the minimal GitHub does not check them)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def ferrybot_env(github_url: str, port: int, state: Path, **extra: str) -> dict[str, str]:
    """Environment for a ferrybot process against the minimal GitHub, pacing off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FERRYBOT_")}
    env.update(
        {
            "FERRYBOT_GITHUB_API_URL": github_url,
            "FERRYBOT_GITHUB_APP_ID": "1",
            "FERRYBOT_GITHUB_PRIVATE_KEY": private_key_pem(),
            "FERRYBOT_GITHUB_WEBHOOK_SECRETS": SECRET,
            "FERRYBOT_HTTP_PORT": str(port),
            "FERRYBOT_LOG_LEVEL": "warning",
            "FERRYBOT_LOG_FORMAT": "json",
            "FERRYBOT_STATE_DIR": str(state),
            "FERRYBOT_RECONCILE_ENABLED": "false",
            "FERRYBOT_GITHUB_WRITES_PER_MINUTE": "0",
            # The bench measures the call-saving mode; the default looks every create up.
            "FERRYBOT_CHECK_RUN_TRUST_NEW_HEADS": "true",
            "FERRYBOT_GITHUB_WRITES_PER_HOUR": "0",
            **extra,
        }
    )
    return env


@contextlib.asynccontextmanager
async def process(
    argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run a process for the block's duration, then SIGTERM it (SIGKILL after 20 s)."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def ferrybot(command: str, config: Path | None = None) -> list[str]:
    """`python -m bot <command> [--config FILE]`."""
    args = [sys.executable, "-m", "bot"]
    if config is not None:
        args += ["--config", str(config)]
    return [*args, command]


def baseline(port: int, bootstrap: str) -> list[str]:
    """The naive aiohttp + aiokafka ingress."""
    return [
        sys.executable,
        "-m",
        "bench.baseline",
        "--port",
        str(port),
        "--bootstrap",
        bootstrap,
        "--secret",
        SECRET,
    ]


def install_probot() -> Path:
    """Probot 14 from npm into bench/.probot (once), with the policy app beside it."""
    if not (PROBOT_DIR / "node_modules" / "probot" / "package.json").exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed to install Probot for the comparison")
        subprocess.run(
            [npm, "install", "--prefix", str(PROBOT_DIR), f"probot@{PROBOT_VERSION}"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    # Node resolves `probot` from the script's own folder, so the app runs from there.
    shutil.copy(BENCH / "probot" / "server.mjs", PROBOT_DIR / "server.mjs")
    return PROBOT_DIR / "server.mjs"


def probot_env(github_host: str, port: int, throttle: bool) -> dict[str, str]:
    """Environment for the Probot app against the minimal GitHub (GHE host, plain HTTP)."""
    return {
        **os.environ,
        "APP_ID": "1",
        "PRIVATE_KEY": private_key_pem(),
        "WEBHOOK_SECRET": SECRET,
        "GHE_HOST": github_host,
        "GHE_PROTOCOL": "http",
        "PORT": str(port),
        "PROBOT_THROTTLE": "on" if throttle else "off",
        "LOG_LEVEL": os.environ.get("PROBOT_LOG_LEVEL", "warn"),
    }


async def wait_listening(port: int, path: str | None = None, within: float = 60.0) -> None:
    """Until 127.0.0.1:port accepts connections (and answers `path`, when given)."""
    deadline = asyncio.get_running_loop().time() + within
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                if path is None:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.close()
                    return
                async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                    await response.read()
                    return
            except (aiohttp.ClientError, OSError):
                if asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"nothing listening on {port} after {within}s") from None
                await asyncio.sleep(0.1)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


__all__ = ["free_port"]
