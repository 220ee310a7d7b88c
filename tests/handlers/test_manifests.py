"""`ferrybot/manifests`: changed YAML validated offline against Kubernetes schemas."""

from __future__ import annotations

import pytest

from handlers.manifest_validation import validate_manifest
from schemas.commands_config import ManifestsConfig
from schemas.trust import SecretsConfig
from tests.commands.harness import OWNER, REPO, Bot, bot, pull_payload

__all__ = ["bot"]
CHECK = "ferrybot/manifests"

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (DEPLOYMENT.format(replicas=2), None, ""),
        (DEPLOYMENT.format(replicas='"two"'), 6, "spec.replicas"),
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate key"),
        ("a: [1,\n", 2, "not valid YAML"),
        (
            "---\nkind: Service\napiVersion: v1\nmetadata: {name: s}\nspec: {ports: nope}\n",
            5,
            "spec.ports",
        ),
        ("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n", None, ""),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: "
            + "[" * 3000
            + "]" * 3000,
            4,
            "nests deeper than 100 levels",
        ),
        (
            "---\nkind: x\n---\n"
            + "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 6)),
            4,
            "holds more than 200000 values",
        ),
    ],
    ids=[
        "valid",
        "wrong-type",
        "duplicate-key",
        "broken",
        "second-document",
        "custom-resource",
        "3000-levels",
        "alias-bomb",
    ],
)
def test_findings_point_at_the_line(text: str, line: int | None, words: str) -> None:
    """Each failure carries the 1-based line of the offending key and says what is wrong."""
    failures = [f for f in validate_manifest(text, "1.31", strict=True) if f.level == "failure"]
    if line is None:
        assert failures == []
        return
    (finding,) = failures
    assert finding.line == line
    assert words in finding.message


def test_strict_refuses_unknown_fields() -> None:
    """A misspelt field is an error under `strict`, accepted otherwise."""
    text = DEPLOYMENT.format(replicas=1).replace("image:", "imagee: x\n          image:")
    assert validate_manifest(text, "1.31", strict=True)
    assert not validate_manifest(text, "1.31", strict=False)


async def test_check_run_with_annotations_on_a_fork_pr(bot: Bot) -> None:
    """A fork's PR: bad files annotated, files outside the paths ignored, fork never read."""
    bot.config = bot.config.model_copy(
        update={"manifests": ManifestsConfig(repositories=[f"{OWNER}/{REPO}"], paths=["deploy/"])}
    )
    pr = bot.fake.add_pull(
        OWNER,
        REPO,
        head="bump",
        title="feat: bump",
        user="contrib",
        fork=True,
        files={
            "deploy/web.yaml": DEPLOYMENT.format(replicas='"two"'),
            "deploy/ok.yml": DEPLOYMENT.format(replicas=3),
            "docs/notes.yaml": "a: 1\na: 2\n",
        },
    )
    assert pr.pull is not None
    await bot.deliver("pull_request", pull_payload(pr))
    (run,) = bot.fake.check_runs(OWNER, REPO, pr.pull.head_sha, CHECK)
    assert run.conclusion == "failure"
    assert run.output["title"] == "1 of 2 manifest files have problems"
    (note,) = run.output["annotations"]
    assert note["path"] == "deploy/web.yaml" and note["start_line"] == 6
    assert not [p for _, p, _ in bot.fake.requests if p.startswith("/repos/contrib/")]


async def test_other_repositories_are_not_checked(bot: Bot) -> None:
    """A repository not in `manifests.repositories` gets no run and no extra request."""
    bot.config = bot.config.model_copy(update={"secrets": SecretsConfig(enabled=False)})
    pr = bot.fake.add_pull(OWNER, REPO, head="x", title="feat: x", files={"a.yaml": "a: [\n"})
    assert pr.pull is not None
    await bot.deliver("pull_request", pull_payload(pr))
    assert bot.fake.check_runs(OWNER, REPO, pr.pull.head_sha, CHECK) == []
    assert not [p for _, p, _ in bot.fake.requests if p.endswith("/files")]
