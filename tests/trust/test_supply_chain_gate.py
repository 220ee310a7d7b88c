"""`ferrybot/supply-chain` on promotion PRs: `/promote` of a real registry image, signed or not."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import gidgethub.abc
import gidgethub.aiohttp
import pytest
import pytest_asyncio

from bot.promotion.sources import ArtifactSources
from bot.registry.client import RegistryClient
from bot.trust.cache import VerdictCache, cache_key
from schemas.config import BotConfig
from tests.commands.harness import OWNER, REPO, Bot, bot, comment
from tests.promotion.merging import promotion_pull_payload
from tests.promotion.setup import gitops_text
from tests.support.bot import INSTALLATION_ID, GitHubApp
from tests.support.cosign import RegistryWriter, SigningKey
from tests.support.registry import DockerRegistry

__all__ = ["bot"]
CHECK = "ferrybot/supply-chain"
FILE = "deploy/staging/kustomization.yaml"
ZERO = "sha256:" + "0" * 64
_names = itertools.count(1)


@dataclass
class Gate:
    """A bot whose pipeline promotes an image of the real registry to a gated stage."""

    bot: Bot
    repository: str
    digest: str
    key: SigningKey
    writer: RegistryWriter


def _config(host: str, repository: str, key: SigningKey, on_failure: str) -> BotConfig:
    write = {"kind": "kustomize", "file": FILE, "image": f"{host}/{repository}"}
    return BotConfig.model_validate(
        {
            "trust": {"keys": {"release": key.public_pem}},
            "pipelines": [
                {
                    "name": "app",
                    "image": {"repository": repository, "pin_digest": True},
                    "stages": [
                        {
                            "name": "staging",
                            "repo": f"{OWNER}/{REPO}",
                            "writes": [write],
                            "supply_chain": {
                                "image": {"keys": ["release"]},
                                "on_failure": on_failure,
                            },
                        }
                    ],
                }
            ],
        }
    )


@pytest_asyncio.fixture
async def gate(bot: Bot, docker_registry: DockerRegistry) -> AsyncIterator[Gate]:
    """An image `gate/appN:1.4.0` in the registry and a GitOps file running 1.3.0."""
    repository = f"gate/app{next(_names)}"
    docker_registry.push(repository, "1.4.0", content=repository)
    digest = docker_registry.digest(repository, "1.4.0")
    key = SigningKey.generate()
    bot.config = _config(docker_registry.host, repository, key, "draft")
    text = gitops_text("kustomization.yaml", REGISTRY=docker_registry.host)
    text = text.replace("team/app", repository)
    bot.fake.commit_files(OWNER, REPO, "main", {FILE: text}, "staging runs 1.3.0")
    bot.fake.set_permission(OWNER, REPO, "dev", "write")
    token = bot.fake.issue_token(INSTALLATION_ID).value
    async with aiohttp.ClientSession() as session:
        gh = gidgethub.aiohttp.GitHubAPI(session, "t", oauth_token=token, base_url=bot.fake.url)

        async def github_for(owner: str, repo: str) -> gidgethub.abc.GitHubAPI:
            return gh

        bot.sources = ArtifactSources(
            mlflow=None,
            registry=RegistryClient(session, {"distribution": docker_registry.url}),
            github_for=github_for,
        )
        yield Gate(bot, repository, digest, key, RegistryWriter(docker_registry.url))


def _promotion(gate: Gate) -> tuple[int, bool, str]:
    (pull,) = [p for p in gate.bot.fake.pulls(OWNER, REPO) if p.title.startswith("promote app")]
    assert pull.pull is not None
    return pull.number, pull.pull.draft, pull.body or ""


async def test_unsigned_image_opens_a_draft_and_promote_refuses(gate: Gate) -> None:
    """No signature: a draft PR with a failing check, a chat message and audit, a refusal."""
    bot = gate.bot
    tracking = bot.fake.add_pull(OWNER, REPO, head="t", title="chore: track", user="erin")
    await comment(bot, tracking, "/promote app 1.4.0 to staging", "dev")
    number, draft, body = _promotion(gate)
    assert draft
    assert "`ferrybot/supply-chain` failed: image signature: no signature found" in body
    head = bot.fake.resolve(OWNER, REPO, "ferrybot/promote/app/staging")
    assert head is not None
    (run,) = bot.fake.check_runs(OWNER, REPO, head, CHECK)
    assert run.conclusion == "failure"
    assert "| image signature | ❌ fail | no signature found" in run.output["summary"]
    replies = [c.body for c in bot.fake.comments(OWNER, REPO, tracking.number)]
    assert any(
        "failed supply-chain verification" in r
        and f"draft {OWNER}/{REPO}#{number}" in r
        and "no signature found" in r
        for r in replies
    ), replies
    kinds = [n.kind.value for n in bot.publisher.notifications]
    assert "supply_chain_failed" in kinds
    failed = [a for a in bot.publisher.audits if a.action == "supply_chain.failed"]
    assert failed and "no signature found" in failed[0].reason


async def test_signed_image_opens_a_ready_pr_with_the_verified_digest(gate: Gate) -> None:
    """A signature by the configured key: a normal PR, a green check, the digest recorded."""
    bot = gate.bot
    gate.writer.sign_legacy(gate.repository, gate.digest, gate.key)
    tracking = bot.fake.add_pull(OWNER, REPO, head="t", title="chore: track", user="erin")
    await comment(bot, tracking, "/promote app 1.4.0 to staging", "dev")
    _, draft, body = _promotion(gate)
    assert not draft
    assert f"- Verified image manifest: `{gate.digest}`" in body
    head = bot.fake.resolve(OWNER, REPO, "ferrybot/promote/app/staging")
    assert head is not None
    (run,) = bot.fake.check_runs(OWNER, REPO, head, CHECK)
    assert run.conclusion == "success"
    opened = [a for a in bot.publisher.audits if a.action == "promotion.opened"]
    assert opened[0].details["supply_chain"]["image_digest"] == gate.digest
    assert "supply_chain_failed" not in [n.kind.value for n in bot.publisher.notifications]


async def test_skip_opens_nothing(gate: Gate, docker_registry: DockerRegistry) -> None:
    """With `on_failure: skip` a failed verification opens no PR; the command says why."""
    bot = gate.bot
    bot.config = _config(docker_registry.host, gate.repository, gate.key, "skip")
    tracking = bot.fake.add_pull(OWNER, REPO, head="t", title="chore: track", user="erin")
    await comment(bot, tracking, "/promote app 1.4.0 to staging", "dev")
    assert [p.number for p in bot.fake.pulls(OWNER, REPO)] == [tracking.number]
    replies = "\n".join(c.body for c in bot.fake.comments(OWNER, REPO, tracking.number))
    assert "failed supply-chain verification" in replies and "draft" not in replies
    assert [a.action for a in bot.publisher.audits if a.action == "promotion.refused"]


async def test_a_push_to_the_promotion_branch_is_verified_again(
    gate: Gate, docker_registry: DockerRegistry
) -> None:
    """Someone pins another (unsigned) digest on the PR branch: the check fails on that head."""
    bot = gate.bot
    gate.writer.sign_legacy(gate.repository, gate.digest, gate.key)
    tracking = bot.fake.add_pull(OWNER, REPO, head="t", title="chore: track", user="erin")
    await comment(bot, tracking, "/promote app 1.4.0 to staging", "dev")
    number, _, _ = _promotion(gate)
    docker_registry.push(gate.repository, "1.4.0-evil", content=gate.repository + "-evil")
    evil = docker_registry.digest(gate.repository, "1.4.0-evil")
    branch = "ferrybot/promote/app/staging"
    text = bot.fake.file_at(OWNER, REPO, branch, FILE)
    assert text is not None and gate.digest in text
    pushed = bot.fake.commit_files(OWNER, REPO, branch, {FILE: text.replace(gate.digest, evil)})
    app = GitHubApp(OWNER, REPO, "")
    payload = promotion_pull_payload(app, number, branch, pushed, "synchronize", "promote app")
    await bot.deliver("pull_request", payload)
    (run,) = bot.fake.check_runs(OWNER, REPO, pushed, CHECK)
    assert run.conclusion == "failure"
    assert "no signature found" in run.output["summary"]
    gate.writer.sign_legacy(gate.repository, evil, gate.key)
    await bot.deliver("pull_request", payload)
    (run,) = bot.fake.check_runs(OWNER, REPO, pushed, CHECK)
    assert run.conclusion == "success"


def test_config_refuses_unknown_keys_and_keyless_without_root() -> None:
    """A stage naming a key `trust.keys` lacks, or keyless signers without a root, is refused."""
    base = json.loads(_config("r", "a/b", SigningKey.generate(), "draft").model_dump_json())
    base["trust"]["keys"] = {}
    with pytest.raises(ValueError, match=r"names keys \['release'\]"):
        BotConfig.model_validate(base)
    image = base["pipelines"][0]["stages"][0]["supply_chain"]["image"]
    image["keys"] = []
    image["keyless"] = [{"issuer": "https://token.actions.githubusercontent.com", "subject": "x"}]
    with pytest.raises(ValueError, match="trusted_root"):
        BotConfig.model_validate(base)


def test_verdict_cache_is_per_digest_key_set_and_policy() -> None:
    """A verdict is found again only for the same digest, key set and policy, and expires."""
    cache: VerdictCache[str] = VerdictCache()
    key = cache_key("sha256:" + "1" * 64, "keys-a", "{}")
    cache.put(key, "verdict", 60)
    assert cache.get(key) == "verdict"
    assert cache.get(cache_key("sha256:" + "2" * 64, "keys-a", "{}")) is None
    assert cache.get(cache_key("sha256:" + "1" * 64, "keys-b", "{}")) is None
    assert cache.get(cache_key("sha256:" + "1" * 64, "keys-a", '{"sbom": true}')) is None
    cache.put(key, "old", -1)
    assert cache.get(key) == "verdict"
    expired = cache_key("sha256:" + "3" * 64, "k", "{}")
    cache.put(expired, "v", 1e-9)
    assert cache.get(expired) is None
