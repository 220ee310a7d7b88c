"""The registry client: digest by HEAD, the bearer-token challenge, and GitHub Packages events."""

from __future__ import annotations

import base64
import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
import gidgethub.aiohttp
import pytest
import pytest_asyncio
import structlog
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from bot.context import Context
from bot.pipeline.dispatch import discover, registry
from bot.pipeline.retry import PermanentError, TransientError
from bot.promotion.sources import ArtifactSources
from bot.publisher import Publisher
from bot.registry.client import RegistryClient
from schemas.config import BotConfig
from schemas.envelope import Envelope, Source
from tests.commands.harness import RecordingPublisher
from tests.fakegithub.server import FakeGitHub
from tests.promotion.setup import OWNER, REPO, gitops_repo, gitops_text
from tests.support.bot import INSTALLATION_ID
from tests.support.payloads import load_webhook

DIGEST = "sha256:" + "c" * 64


@dataclass
class TokenRegistry:
    """A registry that, like Docker Hub, wants a bearer token from its token service."""

    tags: dict[str, str] = field(default_factory=lambda: {"team/app:1.4.0": DIGEST})
    token_calls: int = 0
    realm: str = ""
    fail_next: int = 0

    async def manifest(self, request: web.Request) -> web.Response:
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=503)
        name, ref = request.match_info["name"], request.match_info["ref"]
        if request.headers.get("Authorization") != f"Bearer tok-{name}":
            challenge = f'Bearer realm="{self.realm}",service="reg",scope="repository:{name}:pull"'
            return web.Response(status=401, headers={"WWW-Authenticate": challenge})
        assert "application/vnd.oci.image.index.v1+json" in request.headers["Accept"]
        digest = self.tags.get(f"{name}:{ref}")
        if digest is None:
            return web.Response(status=404)
        return web.Response(headers={"Docker-Content-Digest": digest})

    async def token(self, request: web.Request) -> web.Response:
        self.token_calls += 1
        expected = "Basic " + base64.b64encode(b"robot:s3cret-pass").decode()
        if request.headers.get("Authorization") != expected:
            return web.Response(status=401)
        scope = request.query["scope"]
        assert request.query["service"] == "reg"
        return web.json_response({"token": f"tok-{scope.split(':')[1]}", "expires_in": 300})


@pytest_asyncio.fixture
async def token_registry() -> AsyncIterator[tuple[TokenRegistry, str]]:
    fake = TokenRegistry()
    app = web.Application()
    app.router.add_route("HEAD", "/v2/{name:.+}/manifests/{ref}", fake.manifest)
    app.router.add_get("/token", fake.token)
    server = TestServer(app)
    await server.start_server()
    fake.realm = str(server.make_url("/token"))
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


def _client(session: aiohttp.ClientSession, url: str) -> RegistryClient:
    return RegistryClient(session, {"hub": url}, {"hub": SecretStr("robot:s3cret-pass")})


async def test_bearer_challenge_then_digest_and_cached_token(
    token_registry: tuple[TokenRegistry, str],
) -> None:
    """401 + challenge → token (with credentials) → digest; the token is reused; 404 → None."""
    fake, url = token_registry
    async with aiohttp.ClientSession() as session:
        client = _client(session, url)
        found = await client.resolve("hub", "team/app", "1.4.0")
        assert found is not None and found.digest == DIGEST
        assert await client.resolve("hub", "team/app", "9.9.9") is None
    assert fake.token_calls == 1


async def test_registry_failures_are_typed(token_registry: tuple[TokenRegistry, str]) -> None:
    """5xx is transient; an unknown registry and an unsafe token realm are permanent."""
    fake, url = token_registry
    async with aiohttp.ClientSession() as session:
        client = _client(session, url)
        fake.fail_next = 1
        with pytest.raises(TransientError):
            await client.resolve("hub", "team/app", "1.4.0")
        with pytest.raises(PermanentError, match="FERRYBOT_REGISTRY_URLS"):
            await client.resolve("elsewhere", "team/app", "1.4.0")
        fake.realm = "http://evil.example/token"
        with pytest.raises(PermanentError, match="unsafe token service"):
            await client.resolve("hub", "team/app", "1.4.0")


def _container_package(tag: str) -> dict[str, Any]:
    """GitHub's recorded package.published example, as a container image push."""
    payload = copy.deepcopy(load_webhook("package.published.1", INSTALLATION_ID))
    package = payload["package"]
    package.update(package_type="CONTAINER", name="app")
    package["owner"]["login"] = "team"
    package["package_version"]["container_metadata"]["tag"] = {"name": tag, "digest": DIGEST}
    return payload


async def test_github_package_published_promotes_after_confirmation(
    fake_github: FakeGitHub, token_registry: tuple[TokenRegistry, str]
) -> None:
    """A ghcr container tag is confirmed in the registry, then promoted like any push."""
    _, url = token_registry
    values = "charts/app/values.yaml"
    gitops_repo(fake_github, {values: gitops_text("helm-values.yaml", REGISTRY="ghcr.io")})
    write = {"kind": "helm", "file": values, "path": "image.tag", "value": "{tag}"}
    config = BotConfig.model_validate(
        {
            "pipelines": [
                {
                    "name": "app",
                    "image": {"repository": "team/app", "registry": "ghcr"},
                    "stages": [{"name": "prod", "repo": f"{OWNER}/{REPO}", "writes": [write]}],
                }
            ]
        }
    )
    discover()
    token = fake_github.issue_token(INSTALLATION_ID).value
    async with aiohttp.ClientSession() as session:
        gh = gidgethub.aiohttp.GitHubAPI(session, "t", oauth_token=token, base_url=fake_github.url)

        async def github_for(owner: str, repo: str) -> gidgethub.abc.GitHubAPI:
            return gh

        sources = ArtifactSources(
            mlflow=None,
            registry=RegistryClient(
                session, {"ghcr": url}, {"ghcr": SecretStr("robot:s3cret-pass")}
            ),
            github_for=github_for,
        )
        for tag, delivery in (("1.4.0", "p-1"), ("", "p-2"), ("9.9.9", "p-3")):
            envelope = Envelope(
                id=delivery,
                source=Source.GITHUB,
                event="package",
                action="published",
                subject="image/team/app",
                installation_id=INSTALLATION_ID,
                payload=_container_package(tag),
            )
            for handler in registry.for_envelope(envelope):
                ctx = Context(
                    envelope=envelope,
                    gh=gh,
                    config=config,
                    log=structlog.get_logger(),
                    dry_run=False,
                    publisher=cast(Publisher, RecordingPublisher()),
                    sources=sources,
                )
                await handler.func(ctx)
    pulls = fake_github.pulls(OWNER, REPO)
    assert [p.title for p in pulls] == ["promote app 1.3.0 → 1.4.0 to prod"]
