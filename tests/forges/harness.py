"""Run ferrybot's GitLab handlers in-process against the fake GitLab, without a broker."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
import gidgethub.aiohttp
import pytest_asyncio
import structlog

from bot.context import Context
from bot.forges.directory import Forges
from bot.forges.gitlab.adapter import GitLabForge, GitLabMemory
from bot.forges.gitlab.client import GitLabClient
from bot.forges.gitlab.subjects import project_subject
from bot.pipeline.dispatch import discover, registry
from bot.publisher import Publisher
from schemas.config import BotConfig
from schemas.envelope import Envelope, Source
from tests.commands.harness import RecordingPublisher
from tests.fakegitlab.server import FakeGitLab

PROJECT = "acme/platform/app"
TOKEN = "glpat-ferrybot-harness-token"
_deliveries = itertools.count(1)


@dataclass
class GitLabBot:
    """The handlers and the GitLab adapter on the fake, with the config they read."""

    fake: FakeGitLab
    session: aiohttp.ClientSession
    config: BotConfig = field(default_factory=BotConfig)
    publisher: RecordingPublisher = field(default_factory=RecordingPublisher)
    memory: GitLabMemory = field(default_factory=GitLabMemory)

    async def deliver(self, event: str, payload: dict[str, Any]) -> None:
        """Run every handler that wants the hook, as the worker does (without retries)."""
        attributes = payload.get("object_attributes") or {}
        holder = (
            attributes
            if payload.get("object_kind") == "merge_request"
            else payload.get("merge_request") or {}
        )
        envelope = Envelope(
            id=f"gitlab:harness-{next(_deliveries)}",
            source=Source.GITLAB,
            event=event,
            action=attributes.get("action"),
            subject=project_subject(payload["project"]["path_with_namespace"], holder.get("iid")),
            payload=payload,
        )
        forge = GitLabForge(GitLabClient(self.session, url=self.fake.url, token=TOKEN), self.memory)
        # GitHub is never called for GitLab events; the client only fills the Context's field.
        gh = gidgethub.aiohttp.GitHubAPI(self.session, "ferrybot-tests")
        for handler in registry.for_envelope(envelope):
            ctx = Context(
                envelope=envelope,
                gh=gh,
                config=self.config,
                log=structlog.get_logger().bind(handler=handler.name),
                dry_run=False,
                publisher=cast(Publisher, self.publisher),
                forge=forge,
                forges=Forges(forge),
            )
            await handler.func(ctx)

    def writes(self) -> list[tuple[str, str]]:
        """Every write request the bot made, as (method, path)."""
        return [(m, p) for m, p, _ in self.fake.requests if m not in ("GET", "HEAD")]


@pytest_asyncio.fixture
async def gitlab_bot(fake_gitlab: FakeGitLab) -> AsyncIterator[GitLabBot]:
    """Project `acme/platform/app` with ferrybot as a Developer, and the handlers ready."""
    fake_gitlab.add_user("ferrybot")
    fake_gitlab.add_token(TOKEN, "ferrybot")
    fake_gitlab.add_project(PROJECT, files={"README.md": "# app\n"})
    fake_gitlab.add_member(PROJECT, "ferrybot", 30)
    discover()
    async with aiohttp.ClientSession() as session:
        yield GitLabBot(fake_gitlab, session)
