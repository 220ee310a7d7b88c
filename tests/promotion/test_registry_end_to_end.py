"""A real Docker registry's notifications → kustomize and Helm promotion PRs; pulls do nothing."""

from __future__ import annotations

from pathlib import Path

from schemas.envelope import Envelope
from tests.fakegithub.server import FakeGitHub
from tests.promotion.setup import OWNER, REPO, audit_records, gitops_repo, gitops_text
from tests.support.bot import bot_settings, eventually, running_bot
from tests.support.registry import REGISTRY_TOKEN, DockerRegistry
from tests.support.topics import read_topic

KUSTOMIZATION = "apps/app/staging/kustomization.yaml"
VALUES = "charts/app/values-prod.yaml"
ZERO = "sha256:" + "0" * 64


def _pipelines(host: str) -> list[dict[str, object]]:
    def pipeline(name: str, pin: bool, write: dict[str, str]) -> dict[str, object]:
        return {
            "name": name,
            "image": {"repository": "team/app", "semver": ">=1.0.0", "pin_digest": pin},
            "stages": [{"name": "staging", "repo": f"{OWNER}/{REPO}", "writes": [write]}],
        }

    return [
        pipeline(
            "app", True, {"kind": "kustomize", "file": KUSTOMIZATION, "image": f"{host}/team/app"}
        ),
        pipeline(
            "app-helm",
            False,
            {"kind": "helm", "file": VALUES, "path": "image.tag", "value": "{tag}"},
        ),
    ]


async def test_pushed_tag_is_confirmed_and_promoted_and_pulls_do_nothing(
    fake_github: FakeGitHub, kafka_bootstrap: str, docker_registry: DockerRegistry, tmp_path: Path
) -> None:
    """0.9.0 is outside >=1.0.0; 1.4.0 → newTag+digest and Helm tag PRs; a pull changes nothing."""
    host = docker_registry.host
    kustomization = gitops_text("kustomization.yaml", REGISTRY=host)
    values = gitops_text("helm-values.yaml", REGISTRY=host)
    app = gitops_repo(fake_github, {KUSTOMIZATION: kustomization, VALUES: values})
    settings = bot_settings(
        kafka_bootstrap,
        fake_github,
        app,
        tmp_path,
        http_port=docker_registry.notify_port,
        registry_urls={"distribution": docker_registry.url},
        registry_webhook_tokens={"distribution": REGISTRY_TOKEN},
        bot={"pipelines": _pipelines(host)},
    )
    async with running_bot(settings):
        docker_registry.push("team/app", "0.9.0")
        docker_registry.push("team/app", "1.4.0")
        await eventually(lambda: len(fake_github.pulls(OWNER, REPO)) == 2, what="two PRs")
        digest = docker_registry.digest("team/app", "1.4.0")
        app_branch, helm_branch = (
            "ferrybot/promote/app/staging",
            "ferrybot/promote/app-helm/staging",
        )
        assert fake_github.file_at(OWNER, REPO, app_branch, KUSTOMIZATION) == kustomization.replace(
            'newTag: "1.3.0"', 'newTag: "1.4.0"'
        ).replace(ZERO, digest)
        assert fake_github.file_at(OWNER, REPO, helm_branch, VALUES) == values.replace(
            "tag: 1.3.0", "tag: 1.4.0"
        )
        titles = sorted(p.title for p in fake_github.pulls(OWNER, REPO))
        assert titles == [
            "promote app 1.3.0 → 1.4.0 to staging",
            "promote app-helm 1.3.0 → 1.4.0 to staging",
        ]
        body = next(
            p.body for p in fake_github.pulls(OWNER, REPO) if p.title.startswith("promote app ")
        )
        assert body is not None and f"- Digest: `{digest}`" in body

        docker_registry.pull("team/app", "1.4.0")
        # A later push on the same subject is handled after the pull's events (one partition).
        docker_registry.push("team/app", "1.4.1", content="second")
        await eventually(
            lambda: all(
                p.title.endswith("1.4.1 to staging") for p in fake_github.pulls(OWNER, REPO)
            ),
            what="PRs updated to 1.4.1",
        )
        records = await audit_records(settings, kafka_bootstrap, expect=6)
        events = await read_topic(settings, kafka_bootstrap, settings.topic_events, expect=1)
    envelopes = [Envelope.from_bytes(r.value or b"") for r in events]
    names = {e.name for e in envelopes}
    assert {"manifest.push", "blob.push", "manifest.pull", "blob.pull"} <= names
    acted_on = {r.delivery_id for r in records}
    ignored = {e.id for e in envelopes if e.name != "manifest.push"}
    assert not acted_on & ignored
    assert len(fake_github.pulls(OWNER, REPO)) == 2
    skipped = [r for r in records if r.action == "promotion.skipped"]
    assert sorted(r.subject for r in skipped) == [
        "pipeline/app-helm/staging",
        "pipeline/app/staging",
    ]
    assert all("0.9.0 is not selected" in r.reason for r in skipped)
    promoted = [r for r in records if r.action != "promotion.skipped"]
    assert sorted((r.details["pipeline"], r.action) for r in promoted) == [
        ("app", "promotion.opened"),
        ("app", "promotion.updated"),
        ("app-helm", "promotion.opened"),
        ("app-helm", "promotion.updated"),
    ]
