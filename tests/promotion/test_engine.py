"""The engine on its own against the fake: one commit for several files, and a moved branch."""

from __future__ import annotations

from typing import Any, cast

import aiohttp
import gidgethub.aiohttp
import pytest
import structlog

from bot.context import Context
from bot.pipeline.retry import TransientError
from bot.promotion.candidate import Candidate
from bot.promotion.engine import Outcome, PromotionRequest, promote
from bot.publisher import Publisher
from bot.registry.client import ImageRef
from schemas.config import BotConfig
from schemas.envelope import Envelope, Source
from tests.commands.harness import RecordingPublisher
from tests.fakegithub.server import FakeGitHub
from tests.promotion.setup import OWNER, REPO, gitops_repo, gitops_text
from tests.support.bot import INSTALLATION_ID

KUSTOMIZATION = "deploy/kustomization.yaml"
VALUES = "deploy/values.yaml"
DIGEST = "sha256:" + "d" * 64
BRANCH = "ferrybot/promote/app/prod"


class MovesBranchOnce(gidgethub.aiohttp.GitHubAPI):
    """A client during whose first PR write someone else's promotion moves the branch."""

    def __init__(self, fake: FakeGitHub, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fake = fake
        self.moved = False

    async def _request(
        self, method: str, url: str, headers: Any, body: bytes = b""
    ) -> tuple[int, Any, bytes]:
        answer = await super()._request(method, url, headers, body)
        if method == "POST" and url.endswith("/pulls") and not self.moved:
            self.moved = True
            self.fake.commit_files(OWNER, REPO, BRANCH, {VALUES: "other: promotion\n"}, "other")
        return answer


def _config() -> BotConfig:
    writes = [
        {"kind": "kustomize", "file": KUSTOMIZATION, "image": "reg.io/team/app"},
        {"kind": "helm", "file": VALUES, "path": "image.tag", "value": "{tag}"},
    ]
    return BotConfig.model_validate(
        {
            "pipelines": [
                {
                    "name": "app",
                    "image": {"repository": "team/app", "pin_digest": True},
                    "stages": [{"name": "prod", "repo": f"{OWNER}/{REPO}", "writes": writes}],
                }
            ]
        }
    )


async def test_two_files_one_commit_and_a_moved_branch_is_redone(
    fake_github: FakeGitHub,
) -> None:
    """Kustomize and Helm edits land in one commit; a branch moved mid-way → retry fixes it."""
    files = {
        KUSTOMIZATION: gitops_text("kustomization.yaml", REGISTRY="reg.io"),
        VALUES: gitops_text("helm-values.yaml", REGISTRY="reg.io"),
    }
    gitops_repo(fake_github, files)
    config = _config()
    pipeline = config.pipelines[0]
    candidate = Candidate(image=ImageRef("team/app", "1.4.0", DIGEST))
    request = PromotionRequest(pipeline, pipeline.stages[0], candidate, "registry", "test")
    envelope = Envelope(
        id="d-1",
        source=Source.REGISTRY,
        event="manifest",
        action="push",
        subject="image/team/app",
        payload={},
    )
    token = fake_github.issue_token(INSTALLATION_ID).value
    async with aiohttp.ClientSession() as session:
        gh = MovesBranchOnce(fake_github, session, "t", oauth_token=token, base_url=fake_github.url)
        ctx = Context(
            envelope=envelope,
            gh=gh,
            config=config,
            log=structlog.get_logger(),
            dry_run=False,
            publisher=cast(Publisher, RecordingPublisher()),
        )
        with pytest.raises(TransientError, match="moved"):
            await promote(ctx, request)
        again = await promote(ctx, request)
    assert again.outcome is Outcome.UPDATED
    head = fake_github.resolve(OWNER, REPO, BRANCH)
    commit = fake_github.state.git.commits[head or ""]
    assert list(commit.parents) == [fake_github.resolve(OWNER, REPO, "main")]
    branch_files = fake_github.files_at(OWNER, REPO, BRANCH)
    assert branch_files[VALUES] == files[VALUES].replace("tag: 1.3.0", "tag: 1.4.0")
    assert f"digest: {DIGEST}" in branch_files[KUSTOMIZATION]
    assert len(fake_github.pulls(OWNER, REPO)) == 1


async def test_a_repeated_promotion_writes_nothing_and_the_first_reads_nothing_twice(
    fake_github: FakeGitHub,
) -> None:
    """First run: each commit and ref read once before it changes; the same request again:
    reads only, no blob, tree, commit, ref or pull-request write."""
    files = {
        KUSTOMIZATION: gitops_text("kustomization.yaml", REGISTRY="reg.io"),
        VALUES: gitops_text("helm-values.yaml", REGISTRY="reg.io"),
    }
    gitops_repo(fake_github, files)
    config = _config()
    pipeline = config.pipelines[0]
    candidate = Candidate(image=ImageRef("team/app", "1.4.0", DIGEST))
    request = PromotionRequest(pipeline, pipeline.stages[0], candidate, "registry", "test")
    envelope = Envelope(
        id="d-2",
        source=Source.REGISTRY,
        event="manifest",
        action="push",
        subject="image/x",
        payload={},
    )
    token = fake_github.issue_token(INSTALLATION_ID).value
    async with aiohttp.ClientSession() as session:
        gh = gidgethub.aiohttp.GitHubAPI(session, "t", oauth_token=token, base_url=fake_github.url)
        ctx = Context(
            envelope=envelope,
            gh=gh,
            config=config,
            log=structlog.get_logger(),
            dry_run=False,
            publisher=cast(Publisher, RecordingPublisher()),
        )
        first = await promote(ctx, request)
        first_calls = list(fake_github.requests)
        again = await promote(ctx, request)
        again_calls = fake_github.requests[len(first_calls) :]
    assert first.outcome is Outcome.OPENED and again.outcome is Outcome.UNCHANGED
    reads = [path for method, path, _ in first_calls if method == "GET"]
    commit_reads = [path for path in reads if "/git/commits/" in path]
    assert len(commit_reads) == len(set(commit_reads))
    assert [m for m, _, _ in again_calls if m != "GET"] == []
