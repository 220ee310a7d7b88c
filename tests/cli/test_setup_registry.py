"""`ferrybot setup registry`: a real Distribution registry configured with what it prints."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from ruamel.yaml import YAML

from bot.pipeline.broker import free_port
from tests.support.bot import eventually
from tests.support.registry import running_registry, skip_without_registry_tools

TOKEN = "registry-setup-token"


def _setup(env: dict[str, str], url: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("FERRYBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "setup", "registry", "--url", url],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_prints_every_configured_registry_and_names_the_missing_setting() -> None:
    """Harbor's policy and Docker Hub's secret URL from the settings; unset ones say what to set."""
    env = {
        "FERRYBOT_REGISTRY_WEBHOOK_TOKENS": json.dumps({"harbor": TOKEN}),
        "FERRYBOT_DOCKERHUB_URL_TOKEN": "hub-path-token-123",
    }
    result = _setup(env, "https://bot.example.com/")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert (
        '# Distribution: not enabled; set FERRYBOT_REGISTRY_WEBHOOK_TOKENS={"distribution"' in out
    )
    policy = json.loads(out.split("webhook/policies\n", 1)[1].split("\n}\n", 1)[0] + "\n}")
    assert policy["event_types"] == ["PUSH_ARTIFACT"]
    assert policy["targets"][0]["address"] == "https://bot.example.com/webhooks/registry/harbor"
    assert policy["targets"][0]["auth_header"] == f"Bearer {TOKEN}"
    assert "https://bot.example.com/webhooks/registry/docker-hub/hub-path-token-123\n" in out


async def test_distribution_snippet_delivers_pushes_and_ignores_pulls(tmp_path: Path) -> None:
    """The printed `notifications:` runs in docker-registry: push arrives authorized, pull never."""
    skip_without_registry_tools()
    received: list[tuple[str | None, list[dict[str, Any]]]] = []

    async def record(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        received.append((request.headers.get("Authorization"), body["events"]))
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/webhooks/registry/distribution", record)
    runner = web.AppRunner(app)
    await runner.setup()
    notify_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", notify_port).start()
    try:
        env = {"FERRYBOT_REGISTRY_WEBHOOK_TOKENS": json.dumps({"distribution": TOKEN})}
        result = await asyncio.to_thread(_setup, env, f"http://127.0.0.1:{notify_port}")
        assert result.returncode == 0, result.stderr
        snippet = result.stdout.split("\n\n# Harbor", 1)[0]
        config: dict[str, Any] = YAML(typ="safe").load(snippet)
        port = free_port()
        config |= {
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": str(tmp_path / "data")}},
            "http": {"addr": f"127.0.0.1:{port}"},
        }
        config["notifications"]["endpoints"][0] |= {"backoff": "1s", "timeout": "2s"}
        path = tmp_path / "config.yml"
        path.write_text(json.dumps(config))
        with running_registry(tmp_path, path, port, notify_port) as registry:
            await asyncio.to_thread(registry.push, "team/setup", "v1")
            await asyncio.to_thread(registry.pull, "team/setup", "v1")
            await asyncio.to_thread(registry.push, "team/setup", "v2")
            await eventually(
                lambda: any(e["target"].get("tag") == "v2" for _, es in received for e in es),
                within=30,
            )
    finally:
        await runner.cleanup()
    events = [event for _, batch in received for event in batch]
    assert {auth for auth, _ in received} == {f"Bearer {TOKEN}"}
    assert {event["action"] for event in events} == {"push"}
    assert [e["target"]["tag"] for e in events if e["target"].get("tag")] == ["v1", "v2"]
    assert all(e["target"]["mediaType"] != "application/octet-stream" for e in events)
