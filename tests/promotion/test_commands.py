"""`/promote`, `/rollback` and `/status` on a pull request, through the command framework."""

from __future__ import annotations

from schemas.config import BotConfig
from tests.commands.harness import OWNER, REPO, Bot, bot, comment
from tests.promotion.setup import gitops_text

__all__ = ["bot"]  # the fixture, imported for pytest

STAGING = "deploy/staging/kustomization.yaml"
PROD = "deploy/prod/kustomization.yaml"
IMAGE = "registry.example.com/team/app"
OLD = "sha256:" + "1" * 64
NEW = "sha256:" + "2" * 64
ZERO = "sha256:" + "0" * 64


def _kustomization(tag: str, digest: str) -> str:
    text = gitops_text("kustomization.yaml", REGISTRY="registry.example.com")
    return text.replace('newTag: "1.3.0"', f'newTag: "{tag}"').replace(ZERO, digest)


def _config() -> BotConfig:
    def stage(name: str, file: str, **extra: object) -> dict[str, object]:
        write = {"kind": "kustomize", "file": file, "image": IMAGE}
        return {"name": name, "repo": f"{OWNER}/{REPO}", "writes": [write], **extra}

    return BotConfig.model_validate(
        {
            "pipelines": [
                {
                    "name": "app",
                    "image": {"repository": "team/app", "pin_digest": True},
                    "stages": [
                        stage("staging", STAGING),
                        stage("prod", PROD, auto=False, approvers=["dave", "erin"]),
                    ],
                }
            ]
        }
    )


def _replies(bot: Bot, number: int) -> str:
    return "\n".join(c.body for c in bot.fake.comments(OWNER, REPO, number) if c.user != "erin")


async def test_promote_rollback_and_status(bot: Bot) -> None:
    """Non-approver and author refused; an approver promotes prod; rollback; status table."""
    bot.config = _config()
    fake = bot.fake
    fake.commit_files(
        OWNER,
        REPO,
        "main",
        {STAGING: _kustomization("1.3.0", OLD), PROD: _kustomization("1.3.0", OLD)},
    )
    fake.commit_files(OWNER, REPO, "main", {STAGING: _kustomization("1.4.0", NEW)}, "staging 1.4.0")
    for login in ("erin", "dave", "mallory"):
        fake.set_permission(OWNER, REPO, login, "write")
    tracking = fake.add_pull(OWNER, REPO, head="release-1.4", title="release 1.4.0", user="erin")

    await comment(bot, tracking, "/promote app to prod", "mallory")
    await comment(bot, tracking, "/promote app to prod", "erin")
    assert [p.number for p in fake.pulls(OWNER, REPO)] == [tracking.number]
    replies = _replies(bot, tracking.number)
    assert "needs one of its approvers: `dave`, `erin`" in replies
    assert "you authored this change" in replies

    await comment(bot, tracking, "/promote app to prod", "dave")
    prod_pr = next(p for p in fake.pulls(OWNER, REPO) if p.title.endswith("to prod"))
    assert prod_pr.title == "promote app 1.3.0 → 1.4.0 to prod"
    assert fake.file_at(OWNER, REPO, "ferrybot/promote/app/prod", PROD) == _kustomization(
        "1.4.0", NEW
    )

    await comment(bot, tracking, "/rollback app in staging", "mallory")
    back = next(p for p in fake.pulls(OWNER, REPO) if p.title.endswith("to staging"))
    assert back.title == "promote app 1.4.0 → 1.3.0 to staging"
    assert fake.file_at(OWNER, REPO, "ferrybot/promote/app/staging", STAGING) == _kustomization(
        "1.3.0", OLD
    )

    await comment(bot, tracking, "/status app", "mallory")
    status = _replies(bot, tracking.number)
    assert f"| app | staging | 1.4.0 | {OWNER}/{REPO}#{back.number} |" in status
    assert f"| app | prod | 1.3.0 | {OWNER}/{REPO}#{prod_pr.number} |" in status
    actions = [a.action for a in bot.publisher.audits]
    assert actions.count("promotion.refused") == 2
    assert "promotion.opened" in actions


async def test_hostile_command_arguments_are_refused(bot: Bot) -> None:
    """Traversal, flow syntax and look-alikes in arguments change nothing and are quoted inertly."""
    bot.config = _config()
    bot.fake.commit_files(
        OWNER,
        REPO,
        "main",
        {STAGING: _kustomization("1.3.0", OLD), PROD: _kustomization("1.3.0", OLD)},
    )
    bot.fake.set_permission(OWNER, REPO, "dave", "write")
    tracking = bot.fake.add_pull(OWNER, REPO, head="x", title="x", user="erin")
    for text in (
        "/promote ../app to prod",
        "/promote app {a:b} to staging",
        "/promote app to pr\u043ed",
        "/rollback app in staging to 1.4.0\u200b",
        "/promote app",
    ):
        made = await comment(bot, tracking, text, "dave")
        reactions = [r.content for r in bot.fake.reactions(OWNER, REPO, comment_id=made)]
        assert reactions == ["confused"], text
    assert [p.number for p in bot.fake.pulls(OWNER, REPO)] == [tracking.number]
    assert not [m for m, p, _ in bot.fake.requests if m == "POST" and "/git/" in p]


async def test_team_approver_may_promote(bot: Bot) -> None:
    """A member of an approver team promotes; the reply names the PR."""
    config = _config().model_dump()
    config["pipelines"][0]["stages"][1].update(approvers=[], approver_teams=["acme/release"])
    bot.config = BotConfig.model_validate(config)
    files = {STAGING: _kustomization("1.4.0", NEW), PROD: _kustomization("1.3.0", OLD)}
    bot.fake.commit_files(OWNER, REPO, "main", files)
    bot.fake.set_permission(OWNER, REPO, "tina", "write")
    bot.fake.add_team_member("acme", "release", "tina")
    tracking = bot.fake.add_pull(OWNER, REPO, head="y", title="y", user="erin")
    await comment(bot, tracking, "/promote app to prod", "tina")
    prod = [p for p in bot.fake.pulls(OWNER, REPO) if p.title.endswith("to prod")]
    assert [p.title for p in prod] == ["promote app 1.3.0 → 1.4.0 to prod"]
    assert f"opened {OWNER}/{REPO}#{prod[0].number} for `prod`" in _replies(bot, tracking.number)
