"""`ferrybot setup mlflow` against a real MLflow server: created, then updated, and it delivers."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.mlflow.webhooks import webhook_events
from bot.pipeline.broker import free_port
from bot.settings import load_settings
from bot.signatures import verify_mlflow_signature
from tests.support.bot import eventually
from tests.support.mlflow import MlflowServer

SECRET = "mlflow-setup-secret"
NAME = "ferrybot-setup-test"


def _config(path: Path, model: str, **trigger: Any) -> Path:
    stage = {
        "name": "staging",
        "repo": "acme/gitops",
        "writes": [
            {
                "kind": "yaml",
                "file": "a.yaml",
                "path": "spec.x",
                "value": "models:/{name}/{version}",
            }
        ],
    }
    pipeline = {"name": model, "model": {"name": model, **trigger}, "stages": [stage]}
    # JSON is YAML: the settings file needs no YAML writer.
    path.write_text(json.dumps({"bot": {"pipelines": [pipeline]}}))
    return path


def _setup(config: Path, mlflow: MlflowServer, url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("FERRYBOT_")}
    env |= {
        "FERRYBOT_MLFLOW_TRACKING_URL": mlflow.url,
        "FERRYBOT_MLFLOW_WEBHOOK_SECRETS": f"old-secret-rotated-out,{SECRET}",
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(config),
            "setup",
            "mlflow",
            "--url",
            url,
            "--name",
            NAME,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _ours(mlflow: MlflowServer) -> list[dict[str, Any]]:
    return [w for w in mlflow.call("GET", "webhooks").get("webhooks", []) if w["name"] == NAME]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """An HTTP receiver standing in for the ingress: records each delivery and its signature."""
    received: list[dict[str, Any]] = []

    async def record(request: web.Request) -> web.Response:
        body = await request.read()
        signed = verify_mlflow_signature(
            body,
            request.headers.get("X-MLflow-Signature"),
            request.headers.get("X-MLflow-Delivery-Id", ""),
            request.headers.get("X-MLflow-Timestamp", ""),
            [SECRET],
        )
        received.append({"path": request.path, "signed": signed, "body": json.loads(body)})
        return web.json_response({}, status=202)

    app = web.Application()
    app.router.add_post("/webhooks/mlflow", record)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        await runner.cleanup()


async def test_setup_creates_then_updates_one_webhook_that_delivers(
    mlflow_server: MlflowServer,
    receiver: tuple[str, list[dict[str, Any]]],
    tmp_path: Path,
) -> None:
    """First run creates, second updates the same webhook's events; a real alias event arrives."""
    url, received = receiver
    model = "setup-churn"
    first = await asyncio.to_thread(
        _setup, _config(tmp_path / "a.yaml", model, alias="champion"), mlflow_server, url
    )
    try:
        assert first.returncode == 0, first.stderr
        [hook] = _ours(mlflow_server)
        assert first.stdout == (
            f"created MLflow webhook {NAME} (id {hook['webhook_id']}): {url}/webhooks/mlflow "
            "for model_version_alias.created\n"
        )
        second = await asyncio.to_thread(
            _setup,
            _config(tmp_path / "b.yaml", model, alias="champion", tag={"validation": "passed"}),
            mlflow_server,
            url,
        )
        assert second.returncode == 0, second.stderr
        assert second.stdout.startswith(f"updated MLflow webhook {NAME} (id {hook['webhook_id']})")
        [updated] = _ours(mlflow_server)
        assert updated["webhook_id"] == hook["webhook_id"]
        assert sorted((e["entity"], e["action"]) for e in updated["events"]) == [
            ("MODEL_VERSION_ALIAS", "CREATED"),
            ("MODEL_VERSION_TAG", "SET"),
        ]
        assert SECRET not in first.stdout + first.stderr + second.stdout + second.stderr

        mlflow_server.create_model(model)
        version = mlflow_server.create_version(model, {"auc": 0.9})
        mlflow_server.set_alias(model, "champion", version)
        await eventually(lambda: bool(received), within=30)
        [delivery] = received
        assert delivery["signed"]  # signed with the newest of the configured secrets
        assert (delivery["body"]["entity"], delivery["body"]["action"]) == (
            "model_version_alias",
            "created",
        )
        assert delivery["body"]["data"]["name"] == model
    finally:
        for leftover in _ours(mlflow_server):
            mlflow_server.delete_webhook(leftover["webhook_id"])


def test_setup_mlflow_without_a_secret_changes_nothing(
    mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    """No FERRYBOT_MLFLOW_WEBHOOK_SECRETS: exit 2 naming it, and no webhook is created."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("FERRYBOT_")}
    env["FERRYBOT_MLFLOW_TRACKING_URL"] = mlflow_server.url
    config = _config(tmp_path / "a.yaml", "setup-nosecret", alias="champion")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(config),
            "setup",
            "mlflow",
            "--url",
            "http://127.0.0.1:9",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith(
        "ferrybot: FERRYBOT_MLFLOW_WEBHOOK_SECRETS is not set"
    )
    assert len(result.stderr.splitlines()) == 1
    assert _ours(mlflow_server) == []


def test_setup_mlflow_with_mlflow_down_is_one_line(tmp_path: Path) -> None:
    """MLflow not listening: exit 1 and one line naming the URL tried, no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("FERRYBOT_")}
    tracking = f"http://127.0.0.1:{free_port()}"
    env |= {"FERRYBOT_MLFLOW_TRACKING_URL": tracking, "FERRYBOT_MLFLOW_WEBHOOK_SECRETS": SECRET}
    config = _config(tmp_path / "a.yaml", "setup-down", alias="champion")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(config),
            "setup",
            "mlflow",
            "--url",
            "http://x",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"ferrybot: cannot reach MLflow at {tracking}/api/2.0/mlflow/webhooks: ClientConnectorError"
    ]


@pytest.mark.parametrize(
    ("trigger", "events"),
    [
        ({"alias": "champion"}, [("MODEL_VERSION_ALIAS", "CREATED")]),
        ({"alias": None, "tag": {"validation": "passed"}}, [("MODEL_VERSION_TAG", "SET")]),
        ({"alias": None, "on_created": True}, [("MODEL_VERSION", "CREATED")]),
        (
            {"alias": "champion", "tag": {"ok": "yes"}, "on_created": True},
            [
                ("MODEL_VERSION", "CREATED"),
                ("MODEL_VERSION_ALIAS", "CREATED"),
                ("MODEL_VERSION_TAG", "SET"),
            ],
        ),
    ],
    ids=["alias", "tag", "on-created", "all"],
)
def test_each_trigger_subscribes_to_its_event(
    trigger: dict[str, Any], events: list[tuple[str, str]], tmp_path: Path
) -> None:
    """alias → model_version_alias.created, tag → model_version_tag.set, on_created → created."""
    settings = load_settings(_config(tmp_path / "a.yaml", "m", **trigger))
    assert webhook_events(settings.bot.pipelines) == events
