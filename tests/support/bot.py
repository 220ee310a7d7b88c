"""Run the real bot against the suite's broker and fake GitHub, and drive it with webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cli.send import SendResult, send_github
from bot.pipeline.broker import free_port
from bot.pipeline.runtime import Components, serve
from bot.settings import Settings
from tests.fakegithub.server import FakeGitHub
from tests.support.broker import bus_settings
from tests.support.payloads import load_webhook

WEBHOOK_SECRET = "webhook-secret-for-tests"
APP_ID = 4242
INSTALLATION_ID = 77


@dataclass(frozen=True)
class GitHubApp:
    """An App and installation registered in the fake, and the bot settings that use it."""

    owner: str
    repo: str
    private_key: str


def install_app(fake: FakeGitHub, owner: str = "acme", repo: str = "app") -> GitHubApp:
    """Create the repo, the App and its installation in the fake GitHub."""
    app = fake.add_app(APP_ID, "ferrybot")
    fake.add_repo(owner, repo, files={"README.md": "# app\n"})
    fake.add_installation(INSTALLATION_ID, APP_ID, [f"{owner}/{repo}"])
    return GitHubApp(owner, repo, app.private_key_pem)


def bot_settings(
    bootstrap: str, fake: FakeGitHub, app: GitHubApp, state_dir: Path, **overrides: Any
) -> Settings:
    """Settings for a bot process using App auth against the fake."""
    values: dict[str, Any] = {
        "github_api_url": fake.url,
        "github_app_id": APP_ID,
        "github_private_key": app.private_key,
        "github_webhook_secrets": WEBHOOK_SECRET,
        "http_port": free_port(),
        "state_dir": state_dir,
        **overrides,
    }
    return bus_settings(bootstrap, **values)


def pull_request_payload(
    app: GitHubApp,
    number: int,
    head_sha: str,
    action: str = "opened",
    title: str = "feat: add the thing",
    labels: tuple[str, ...] = (),
    live: bool = False,
) -> dict[str, Any]:
    """GitHub's recorded pull_request.opened example, re-pointed at a PR in the fake.

    `live` stamps the pull request as updated now, as GitHub does in the event a change
    causes; without it the payload reads as an old event redelivered.
    """
    payload = copy.deepcopy(load_webhook("pull_request.opened.0", INSTALLATION_ID))
    payload["action"] = action
    payload["number"] = number
    repository = payload["repository"]
    repository["name"] = app.repo
    repository["full_name"] = f"{app.owner}/{app.repo}"
    repository["owner"]["login"] = app.owner
    pull = payload["pull_request"]
    pull["number"] = number
    pull["title"] = title
    pull["head"]["sha"] = head_sha
    pull["labels"] = [{"name": name} for name in labels]
    if live:
        pull["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return payload


async def deliver(
    settings: Settings, event: str, payload: dict[str, Any], delivery: str | None = None
) -> SendResult:
    """Sign and POST a delivery to the bot's ingress, as GitHub would."""
    url = f"http://{settings.http_host}:{settings.http_port}/webhooks/github"
    body = json.dumps(payload).encode()
    return await send_github(body, event, url, WEBHOOK_SECRET, delivery or str(uuid.uuid4()))


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings, components: Components | None = None, stop_within: float = 60.0
) -> AsyncIterator[None]:
    """The bot's `serve` in this event loop, stopped (gracefully) within `stop_within` s."""
    stop, started = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(settings, components, stop=stop, started=started))
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, stop_within)


async def eventually(check: Callable[[], bool], within: float = 30.0, what: str = "") -> None:
    """Wait until `check()` is true, failing with `what` after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {within}s: {what or check}")
        await asyncio.sleep(0.05)
