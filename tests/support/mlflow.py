"""Pytest plugin: one real MLflow server per session (its own virtualenv), driven over REST."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.pipeline.broker import free_port

MLFLOW_ENV = "FERRYBOT_TEST_MLFLOW"
DEFAULT_MLFLOW = Path(__file__).resolve().parents[2] / ".venv-mlflow" / "bin" / "mlflow"
# A fixed key: without one, webhook secrets cannot be decrypted after a restart (TESTBED.md).
FERNET_KEY = "FzQkW8leAxlblJaQocVlTKn8UNWGMPvEanXPXKLbT3Y="


@dataclass
class MlflowServer:
    """A running MLflow tracking server and a small REST driver for tests."""

    url: str
    process: subprocess.Popen[bytes]

    def call(self, method: str, endpoint: str, body: dict[str, Any] | None = None) -> Any:
        """Call /api/2.0/mlflow/<endpoint>; raise AssertionError with MLflow's answer on error."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/api/2.0/mlflow/{endpoint}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"MLflow {method} {endpoint}: {exc.code} {exc.read()!r}") from None
        return json.loads(text) if text else {}

    def create_model(self, name: str) -> None:
        """Register a model name."""
        self.call("POST", "registered-models/create", {"name": name})

    def create_version(self, name: str, metrics: dict[str, float]) -> str:
        """A run logging `metrics`, registered as a new version of `name`; returns the version."""
        run = self.call("POST", "runs/create", {"experiment_id": "0"})["run"]["info"]["run_id"]
        now = int(time.time() * 1000)
        for key, value in metrics.items():
            self.call(
                "POST",
                "runs/log-metric",
                {"run_id": run, "key": key, "value": value, "timestamp": now, "step": 0},
            )
        created = self.call(
            "POST",
            "model-versions/create",
            {"name": name, "source": f"runs:/{run}/model", "run_id": run},
        )
        version: str = created["model_version"]["version"]
        return version

    def set_alias(self, name: str, alias: str, version: str) -> None:
        """Point an alias at a version (fires model_version_alias.created)."""
        self.call(
            "POST", "registered-models/alias", {"name": name, "alias": alias, "version": version}
        )

    def add_webhook(self, name: str, url: str, secret: str, events: list[tuple[str, str]]) -> str:
        """A webhook with a secret for `(entity, action)` events; returns its id."""
        body = {
            "name": name,
            "url": url,
            "secret": secret,
            "events": [{"entity": e.upper(), "action": a.upper()} for e, a in events],
        }
        webhook_id: str = self.call("POST", "webhooks", body)["webhook"]["webhook_id"]
        return webhook_id

    def delete_webhook(self, webhook_id: str) -> None:
        """Remove a webhook so that later tests' events do not go to a stopped bot."""
        self.call("DELETE", f"webhooks/{webhook_id}")


def _executable() -> Path | None:
    configured = os.environ.get(MLFLOW_ENV)
    if configured:
        return Path(configured)
    return DEFAULT_MLFLOW if DEFAULT_MLFLOW.exists() else None


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """One MLflow server for the session, with webhooks allowed to reach 127.0.0.1."""
    executable = _executable()
    if executable is None:
        pytest.skip(f"no MLflow: run `make test`, or set {MLFLOW_ENV} to an mlflow executable")
    home = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
        "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
        "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": FERNET_KEY,
        "MLFLOW_WEBHOOK_CACHE_TTL": "0",
    }
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(
        [
            str(executable),
            "server",
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{home}/mlflow.db",
            "--default-artifact-root",
            str(home / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = MlflowServer(f"http://127.0.0.1:{port}", process)
    try:
        _wait_healthy(server, home / "server.log")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_healthy(server: MlflowServer, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"mlflow server exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"mlflow server not healthy within 90 s:\n{log.read_text()[-3000:]}")
