"""OpenSSF model signing on a model logged to a real MLflow server: signed, tampered, unsigned."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import gidgethub.abc
import gidgethub.aiohttp
import model_signing
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from model_signing import hashing

from bot.mlflow.client import MlflowClient
from bot.promotion.sources import ArtifactSources
from bot.promotion.supply_chain import model_directory
from bot.registry.client import RegistryClient
from bot.trust.models import verify_model
from schemas.config import BotConfig
from schemas.mlflow import ModelVersion
from schemas.trust import ModelPolicy
from tests.commands.harness import OWNER, REPO, Bot, bot, comment
from tests.promotion.setup import kserve_manifest
from tests.support.bot import INSTALLATION_ID
from tests.support.mlflow import MlflowServer

__all__ = ["bot"]
_names = itertools.count(1)
POLICY = ModelPolicy(mode="key", key="models")


def key_pair(home: Path, name: str) -> tuple[Path, str]:
    """An ECDSA P-256 key file for model-signing and its public PEM for the config."""
    private = ec.generate_private_key(ec.SECP256R1())
    path = home / f"{name}.pem"
    path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, public.decode()


def sign_model(directory: Path, private_key: Path) -> None:
    """What a training job does: `model-signing sign key` with the signature in the model."""
    (
        model_signing.signing.Config()
        .use_elliptic_key_signer(private_key=private_key)
        .set_hashing_config(hashing.Config().set_ignored_paths(paths=["model.sig"]))
        .sign(directory, directory / "model.sig")
    )


def log_model(server: MlflowServer, name: str) -> tuple[str, Path]:
    """A run whose artifacts hold a model directory, registered as version 1 of `name`."""
    run = server.call("POST", "runs/create", {"experiment_id": "0"})["run"]["info"]
    root = Path(str(run["artifact_uri"]).removeprefix("file://"))
    directory = root / "model"
    (directory / "data").mkdir(parents=True)
    (directory / "MLmodel").write_text("flavors:\n  sklearn: {pickled_model: model.pkl}\n")
    (directory / "model.pkl").write_bytes(bytes(range(256)) * 64)
    (directory / "data" / "vocab.txt").write_text("churn\nstay\n")
    server.create_model(name)
    created = server.call(
        "POST",
        "model-versions/create",
        {"name": name, "source": f"runs:/{run['run_id']}/model", "run_id": run["run_id"]},
    )
    return created["model_version"]["version"], directory


@pytest_asyncio.fixture
async def mlflow(mlflow_server: MlflowServer) -> AsyncIterator[MlflowClient]:
    """ferrybot's MLflow client on the real server."""
    async with aiohttp.ClientSession() as session:
        yield MlflowClient(session, mlflow_server.url)


async def _verify(
    mlflow: MlflowClient, name: str, version: str, public_pem: str
) -> tuple[bool, str, str | None]:
    found = await mlflow.model_version(name, version)
    assert isinstance(found, ModelVersion)
    directory = await model_directory(mlflow, found)
    assert directory is not None
    verdict = await verify_model(directory, POLICY, {"models": public_pem})
    return verdict.passed, verdict.detail, verdict.manifest_digest


async def test_signed_model_verifies_and_names_its_manifest(
    mlflow_server: MlflowServer, mlflow: MlflowClient, tmp_path: Path
) -> None:
    """The files the version's source points at match the signed manifest; its digest is kept."""
    name = f"signed{next(_names)}"
    version, directory = log_model(mlflow_server, name)
    private, public = key_pair(tmp_path, "k")
    sign_model(directory, private)
    passed, detail, digest = await _verify(mlflow, name, version, public)
    assert passed, detail
    assert digest is not None and digest.startswith("sha256:") and len(digest) == 71
    again = await _verify(mlflow, name, version, public)
    assert again[2] == digest


async def test_tampered_file_fails(
    mlflow_server: MlflowServer, mlflow: MlflowClient, tmp_path: Path
) -> None:
    """A file changed after signing fails, naming the file."""
    name = f"tampered{next(_names)}"
    version, directory = log_model(mlflow_server, name)
    private, public = key_pair(tmp_path, "k")
    sign_model(directory, private)
    (directory / "data" / "vocab.txt").write_text("churn\nstay\nbackdoor\n")
    passed, detail, digest = await _verify(mlflow, name, version, public)
    assert not passed and digest is None
    assert "vocab.txt" in detail


async def test_added_file_fails(
    mlflow_server: MlflowServer, mlflow: MlflowClient, tmp_path: Path
) -> None:
    """A file added after signing fails."""
    name = f"added{next(_names)}"
    version, directory = log_model(mlflow_server, name)
    private, public = key_pair(tmp_path, "k")
    sign_model(directory, private)
    (directory / "extra.py").write_text("import os\n")
    passed, detail, _ = await _verify(mlflow, name, version, public)
    assert not passed and "extra.py" in detail


async def test_wrong_key_fails(
    mlflow_server: MlflowServer, mlflow: MlflowClient, tmp_path: Path
) -> None:
    """A signature by another key than the configured one fails."""
    name = f"wrongkey{next(_names)}"
    version, directory = log_model(mlflow_server, name)
    private, _ = key_pair(tmp_path, "signer")
    _, other = key_pair(tmp_path, "configured")
    sign_model(directory, private)
    passed, detail, digest = await _verify(mlflow, name, version, other)
    assert not passed and digest is None, detail


async def test_unsigned_model_fails_closed(
    mlflow_server: MlflowServer, mlflow: MlflowClient, tmp_path: Path
) -> None:
    """No `model.sig` is a failure that says so."""
    name = f"unsigned{next(_names)}"
    version, _ = log_model(mlflow_server, name)
    _, public = key_pair(tmp_path, "k")
    passed, detail, _ = await _verify(mlflow, name, version, public)
    assert not passed and detail == "the model is not signed: no `model.sig`"


async def test_remote_artifact_store_fails_closed(mlflow: MlflowClient) -> None:
    """A source ferrybot cannot read locally (s3://) gives no directory, so no pass."""
    version = ModelVersion(name="m", version="1", source="s3://bucket/models/m/1")
    assert await model_directory(mlflow, version) is None


ISVC = "models/isvc.yaml"


def _model_config(name: str, public_pem: str) -> BotConfig:
    write = {
        "kind": "yaml",
        "file": ISVC,
        "path": "spec.predictor.model.storageUri",
        "value": "models:/{name}/{version}",
    }
    stage = {
        "name": "prod",
        "repo": f"{OWNER}/{REPO}",
        "writes": [write],
        "supply_chain": {"model": {"mode": "key", "key": "models"}},
    }
    return BotConfig.model_validate(
        {
            "trust": {"keys": {"models": public_pem}},
            "pipelines": [{"name": name, "model": {"name": name}, "stages": [stage]}],
        }
    )


async def test_promote_verifies_the_model_before_the_pr_and_records_its_manifest(
    bot: Bot, mlflow_server: MlflowServer, mlflow: MlflowClient, tmp_path: Path
) -> None:
    """`/promote` of a signed version: ready PR with the manifest digest; a tampered one: draft."""
    name = f"promoted{next(_names)}"
    version, directory = log_model(mlflow_server, name)
    private, public = key_pair(tmp_path, "k")
    sign_model(directory, private)
    bot.config = _model_config(name, public)
    bot.fake.commit_files(OWNER, REPO, "main", {ISVC: kserve_manifest(name, "0")})
    bot.fake.set_permission(OWNER, REPO, "dev", "write")

    token = bot.fake.issue_token(INSTALLATION_ID).value
    gh = gidgethub.aiohttp.GitHubAPI(bot.session, "t", oauth_token=token, base_url=bot.fake.url)

    async def github_for(owner: str, repo: str) -> gidgethub.abc.GitHubAPI:
        return gh

    bot.sources = ArtifactSources(
        mlflow=mlflow, registry=RegistryClient(bot.session, {}), github_for=github_for
    )
    tracking = bot.fake.add_pull(OWNER, REPO, head="t", title="chore: track", user="erin")
    await comment(bot, tracking, f"/promote {name} {version} to prod", "dev")
    (pull,) = [p for p in bot.fake.pulls(OWNER, REPO) if p.title.startswith("promote")]
    assert pull.pull is not None and not pull.pull.draft
    verified = await verify_model(directory, POLICY, {"models": public})
    assert f"- Verified model manifest: `{verified.manifest_digest}`" in (pull.body or "")
    opened = [a for a in bot.publisher.audits if a.action == "promotion.opened"]
    assert opened[0].details["supply_chain"]["model_manifest_digest"] == verified.manifest_digest

    (directory / "model.pkl").write_bytes(b"swapped after signing")
    bot.fake.state.repo(OWNER, REPO).issue(pull.number).state = "closed"
    tracking = bot.fake.add_pull(OWNER, REPO, head="t2", title="chore: track", user="erin")
    await comment(bot, tracking, f"/promote {name} {version} to prod", "dev")
    drafts = [p for p in bot.fake.pulls(OWNER, REPO, "open") if p.title.startswith("promote")]
    assert [p.pull.draft for p in drafts if p.pull is not None] == [True]
    replies = "\n".join(c.body for c in bot.fake.comments(OWNER, REPO, tracking.number))
    # The reason quotes file names from the model's artifacts, so it is escaped as inert code.
    assert "failed supply-chain verification for `prod` (opened as draft" in replies
    assert "Hash mismatch for &#39;model&#46;pkl&#39;" in replies
