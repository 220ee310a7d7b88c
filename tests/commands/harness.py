"""Run ferrybot's handlers in-process against the fake GitHub, without a broker: fast tests."""

from __future__ import annotations

import copy
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
import gidgethub.aiohttp
import pytest_asyncio
import structlog

from bot.context import Context
from bot.pipeline.dispatch import discover, registry
from bot.promotion.sources import ArtifactSources
from bot.publisher import Publisher
from schemas.audit import AuditRecord
from schemas.config import BotConfig
from schemas.envelope import Envelope, Source
from schemas.notification import Notification
from tests.fakegithub.server import FakeGitHub
from tests.fakegithub.state import Issue
from tests.support.bot import APP_ID, INSTALLATION_ID
from tests.support.payloads import load_webhook

OWNER, REPO = "acme", "app"
_deliveries = itertools.count(1)


@dataclass
class RecordingPublisher:
    """Stands in for the Kafka publisher: keeps what handlers would have sent."""

    notifications: list[Notification] = field(default_factory=list)
    audits: list[AuditRecord] = field(default_factory=list)

    async def notify(self, notification: Notification) -> None:
        self.notifications.append(notification)

    async def audit(self, record: AuditRecord) -> None:
        self.audits.append(record)


@dataclass
class Bot:
    """The handlers, an installation client on the fake, and the config they read."""

    fake: FakeGitHub
    session: aiohttp.ClientSession
    config: BotConfig = field(default_factory=BotConfig)
    publisher: RecordingPublisher = field(default_factory=RecordingPublisher)
    sources: ArtifactSources | None = None

    async def deliver(self, event: str, payload: dict[str, Any], delivery: str = "") -> None:
        """Run every handler that wants the event, as the worker does (without retries)."""
        envelope = Envelope(
            id=delivery or f"delivery-{next(_deliveries)}",
            source=Source.GITHUB,
            event=event,
            action=payload.get("action"),
            subject=f"github/{OWNER}/{REPO}",
            installation_id=INSTALLATION_ID,
            payload=payload,
        )
        await self.deliver_envelope(envelope)

    async def deliver_envelope(self, envelope: Envelope) -> None:
        """Run the handlers of any envelope, with the installation's client."""
        token = self.fake.issue_token(INSTALLATION_ID).value
        gh = gidgethub.aiohttp.GitHubAPI(
            self.session, "ferrybot-tests", oauth_token=token, base_url=self.fake.url
        )
        for handler in registry.for_envelope(envelope):
            ctx = Context(
                envelope=envelope,
                gh=gh,
                config=self.config,
                log=structlog.get_logger().bind(handler=handler.name),
                dry_run=False,
                publisher=cast(Publisher, self.publisher),
                bot_login=self.fake.state.apps[APP_ID].bot_login,
                sources=self.sources,
            )
            await handler.func(ctx)

    def writes(self) -> list[tuple[str, str]]:
        """Every write request the bot made, as (method, path)."""
        return [(m, p) for m, p, _ in self.fake.requests if m in ("POST", "PATCH", "PUT", "DELETE")]


@pytest_asyncio.fixture
async def bot(fake_github: FakeGitHub) -> AsyncIterator[Bot]:
    """A repo `acme/app` with the App installed, and the bot's handlers ready to run."""
    fake_github.add_app(APP_ID, "ferrybot")
    fake_github.add_repo(OWNER, REPO, files={"README.md": "# app\n"})
    fake_github.add_installation(INSTALLATION_ID, APP_ID, [f"{OWNER}/{REPO}"])
    discover()
    async with aiohttp.ClientSession() as session:
        yield Bot(fake_github, session)


def _user(login: str) -> dict[str, Any]:
    kind = "Bot" if login.endswith("[bot]") else "User"
    return {"login": login, "id": abs(hash(login)) % 10**8, "type": kind}


def _repository(payload: dict[str, Any]) -> None:
    repository = payload["repository"]
    repository["name"] = REPO
    repository["full_name"] = f"{OWNER}/{REPO}"
    repository["owner"]["login"] = OWNER


def comment_payload(
    pr: Issue, comment_id: int, body: str, author: str, action: str = "created"
) -> dict[str, Any]:
    """GitHub's recorded issue_comment example, re-pointed at a comment on a PR or issue."""
    payload = copy.deepcopy(load_webhook("issue_comment.created.0", INSTALLATION_ID))
    payload["action"] = action
    _repository(payload)
    payload["issue"]["number"] = pr.number
    if pr.pull is not None:
        payload["issue"]["pull_request"] = {
            "url": f"https://api.github.com/repos/{OWNER}/{REPO}/pulls/{pr.number}"
        }
    payload["comment"].update(id=comment_id, body=body, user=_user(author))
    payload["sender"] = _user(author)
    return payload


def pull_payload(pr: Issue, event: str = "pull_request.opened.0", **fields: Any) -> dict[str, Any]:
    """A recorded pull_request example re-pointed at a PR in the fake (head, labels, body)."""
    payload = copy.deepcopy(load_webhook(event, INSTALLATION_ID))
    _repository(payload)
    assert pr.pull is not None
    payload["number"] = pr.number
    pull = payload["pull_request"]
    pull.update(number=pr.number, title=pr.title, body=pr.body, user=_user(pr.user))
    pull["head"]["sha"] = pr.pull.head_sha
    pull["labels"] = [{"name": name} for name in pr.labels]
    pull.update(fields)
    if "sender" not in fields:
        payload["sender"] = _user(pr.user)
    return payload


async def comment(bot: Bot, pr: Issue, body: str, author: str, delivery: str = "") -> int:
    """Post `body` as `author` on the PR or issue in the fake; deliver its issue_comment.created."""
    made = bot.fake.add_comment(OWNER, REPO, pr.number, body, user=author)
    await bot.deliver(
        "issue_comment", comment_payload(pr, made.id, body, author), delivery=delivery
    )
    return made.id
