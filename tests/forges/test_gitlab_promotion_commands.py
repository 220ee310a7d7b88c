"""`/promote`, `/rollback`, `/status` and `/retrain` in GitLab merge-request notes."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.config import BotConfig
from tests.fakegitlab.server import FakeGitLab
from tests.fakegitlab.state import DEVELOPER, GUEST, MAINTAINER, REPORTER
from tests.forges.harness import PROJECT, GitLabBot, gitlab_bot
from tests.forges.test_gitlab_commands import replies, say
from tests.promotion.test_commands import IMAGE, NEW, OLD, PROD, STAGING, _kustomization

__all__ = ["gitlab_bot"]

GITOPS = "acme/platform/gitops"
TRAINING = "acme/ml/app-training"
AUTHOR = "alice"
ROLES = {"gina": GUEST, "rita": REPORTER, "mallory": DEVELOPER, "dave": DEVELOPER, AUTHOR: 30}


def _config(**prod: Any) -> BotConfig:
    def stage(name: str, file: str, **extra: Any) -> dict[str, Any]:
        write = {"kind": "kustomize", "file": file, "image": IMAGE}
        return {"name": name, "forge": "gitlab", "repo": GITOPS, "writes": [write], **extra}

    return BotConfig.model_validate(
        {
            "pipelines": [
                {
                    "name": "app",
                    "image": {"repository": "team/app", "pin_digest": True},
                    "retrain": {"forge": "gitlab", "repo": TRAINING, "ref": "main"},
                    "stages": [
                        stage("staging", STAGING),
                        stage("prod", PROD, auto=False, **prod),
                    ],
                }
            ]
        }
    )


def _setup(bot: GitLabBot, **prod: Any) -> int:
    """staging runs 1.4.0, prod 1.3.0; the MR the notes are written on, by the author."""
    fake = bot.fake
    bot.config = _config(**prod)
    files = {STAGING: _kustomization("1.3.0", OLD), PROD: _kustomization("1.3.0", OLD)}
    fake.add_project(GITOPS, files=files)
    fake.push(GITOPS, "main", {STAGING: _kustomization("1.4.0", NEW)}, author="gitops-owner")
    fake.add_member(GITOPS, "ferrybot", DEVELOPER)
    fake.add_project(TRAINING, files={".gitlab-ci.yml": "train:\n  script: [train]\n"})
    # A pipeline on a protected branch needs a user allowed to merge there: a Maintainer.
    fake.add_member(TRAINING, "ferrybot", MAINTAINER)
    for login, level in ROLES.items():
        fake.add_member(PROJECT, login, level)
    return fake.add_merge_request(PROJECT, source_branch="rel", author=AUTHOR, title="1.4.0").iid


def _promotions(fake: FakeGitLab, stage: str) -> list[dict[str, Any]]:
    return [
        mr
        for mr in fake.merge_requests(GITOPS)
        if mr["source_branch"] == f"ferrybot/promote/app/{stage}" and mr["state"] == "opened"
    ]


def _reply(bot: GitLabBot, iid: int) -> str:
    return replies(bot.fake, iid)[-1]


async def test_promote_rollback_and_status_in_notes(gitlab_bot: GitLabBot) -> None:
    """Guest, non-approver and author refused; an approver promotes prod; a redelivery writes
    nothing; a Developer rolls staging back; `/status` names each stage's MR as GitLab does."""
    fake = gitlab_bot.fake
    iid = _setup(gitlab_bot, approvers=[AUTHOR, "dave"])

    await say(gitlab_bot, iid, "gina", "/promote app to staging")
    assert "needs the Developer role (or higher) on this project" in _reply(gitlab_bot, iid)
    await say(gitlab_bot, iid, "mallory", "/promote app to prod")
    assert "needs one of its approvers: `alice`, `dave`" in _reply(gitlab_bot, iid)
    await say(gitlab_bot, iid, AUTHOR, "/promote app to prod")
    assert "you authored this change" in _reply(gitlab_bot, iid)
    assert fake.merge_requests(GITOPS) == []

    note = fake.add_note(PROJECT, iid, author="dave", body="/promote app to prod")
    payload = fake.note_hook(PROJECT, iid, note)
    await gitlab_bot.deliver("note", payload)
    [prod] = _promotions(fake, "prod")
    assert prod["title"] == "promote app 1.3.0 → 1.4.0 to prod"
    assert f"/promote by dave on {PROJECT}!{iid}" in prod["description"]
    assert fake.file(GITOPS, "ferrybot/promote/app/prod", PROD) == _kustomization("1.4.0", NEW)
    assert fake.awards(PROJECT, iid, note["id"]) == [("ferrybot", "thumbsup")]
    assert f"opened {GITOPS}!{prod['iid']} for `prod`" in _reply(gitlab_bot, iid)
    before = gitlab_bot.writes()
    await gitlab_bot.deliver("note", payload)
    assert gitlab_bot.writes() == before, "a redelivered note writes nothing"

    await say(gitlab_bot, iid, "mallory", "/rollback app in staging")
    [back] = _promotions(fake, "staging")
    assert back["title"] == "promote app 1.4.0 → 1.3.0 to staging"
    assert fake.file(GITOPS, "ferrybot/promote/app/staging", STAGING) == _kustomization(
        "1.3.0", OLD
    )

    await say(gitlab_bot, iid, "rita", "/status app")
    status = _reply(gitlab_bot, iid)
    assert f"| app | staging | 1.4.0 | {GITOPS}!{back['iid']} |" in status
    assert f"| app | prod | 1.3.0 | {GITOPS}!{prod['iid']} |" in status
    actions = [a.action for a in gitlab_bot.publisher.audits]
    assert actions.count("promotion.refused") == 2
    assert actions.count("promotion.opened") == 2


@pytest.mark.parametrize(
    ("membership", "visible", "allowed"),
    [
        ("acme/ml/release", True, True),
        ("acme/ml", True, True),
        ("acme/ml/release", False, False),
        (None, True, False),
    ],
    ids=["direct-member", "member-of-a-parent-group", "group-hidden-from-ferrybot", "outsider"],
)
async def test_a_gitlab_group_as_approver_team(
    gitlab_bot: GitLabBot, membership: str | None, visible: bool, allowed: bool
) -> None:
    """`approver_teams` on GitLab are groups: inherited membership counts; a group ferrybot's
    user cannot see, like a non-member, grants nothing."""
    fake = gitlab_bot.fake
    iid = _setup(gitlab_bot, approver_teams=["acme/ml/release"])
    fake.add_group_member("acme/ml/release", "rel-lead", MAINTAINER)
    if membership is not None:
        fake.add_group_member(membership, "tina", DEVELOPER)
    if visible:
        fake.add_group_member("acme", "ferrybot", REPORTER)
    fake.add_member(PROJECT, "tina", DEVELOPER)

    await say(gitlab_bot, iid, "tina", "/promote app to prod")

    opened = _promotions(fake, "prod")
    reply = _reply(gitlab_bot, iid)
    if allowed:
        assert [mr["title"] for mr in opened] == ["promote app 1.3.0 → 1.4.0 to prod"]
        assert f"opened {GITOPS}!{opened[0]['iid']} for `prod`" in reply
    else:
        assert opened == []
        assert "needs one of its approvers: members of `acme/ml/release`" in reply


async def test_a_group_grants_a_command(gitlab_bot: GitLabBot) -> None:
    """A command grant's `teams` are GitLab groups too: a Reporter in the group may `/lgtm`."""
    fake = gitlab_bot.fake
    iid = _setup(gitlab_bot)
    gitlab_bot.config = BotConfig.model_validate(
        {"commands": {"permissions": {"lgtm": {"teams": ["acme/reviewers"]}}}}
    )
    fake.add_group_member("acme/reviewers", "rita", REPORTER)
    fake.add_group_member("acme", "ferrybot", REPORTER)

    await say(gitlab_bot, iid, "rita", "/lgtm")
    await say(gitlab_bot, iid, "gina", "/lgtm")

    assert "lgtm" in fake.labels(PROJECT, iid)
    [refusal] = replies(fake, iid)
    assert refusal.startswith("@gina:")
    assert (
        "needs the Developer role (or higher) on this project or membership in the group "
        "`acme/reviewers`"
    ) in refusal


async def test_retrain_in_a_note_runs_one_pipeline(gitlab_bot: GitLabBot) -> None:
    """`/retrain app` runs the training project's pipeline once, whatever is redelivered."""
    fake = gitlab_bot.fake
    iid = _setup(gitlab_bot)
    note = fake.add_note(PROJECT, iid, author="dave", body="/retrain app")
    payload = fake.note_hook(PROJECT, iid, note)

    await gitlab_bot.deliver("note", payload)
    await gitlab_bot.deliver("note", payload)

    [run] = fake.pipelines(TRAINING)
    variables = {v["key"]: v["value"] for v in run["variables"]}
    assert variables["FERRYBOT_VERSION"] == "1.3.0" and variables["FERRYBOT_STAGE"] == "prod"
    assert f"dispatched training of `app` in {TRAINING}" in _reply(gitlab_bot, iid)
    [audit] = [a for a in gitlab_bot.publisher.audits if a.action == "retrain.dispatched"]
    assert audit.reason is not None and audit.reason.startswith(f"/retrain on {PROJECT}!{iid}")


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("approvers", "jane_doe", True),
        ("approvers", "j.doe", True),
        ("approvers", "ends.", False),
        ("approvers", "-lead", False),
        ("approvers", "a" * 256, False),
        ("approver_teams", "acme/ml/release", True),
        ("approver_teams", "release", False),
        ("approver_teams", "acme/../admins", False),
        ("team_reviewers", "release", True),
        ("team_reviewers", "acme/release", False),
    ],
)
def test_gitlab_usernames_and_groups_in_the_config(field: str, value: str, valid: bool) -> None:
    """GitLab usernames (`_`, `.`) and nested groups validate; a lone approver team (which no
    membership lookup could ask about) and a path with `..` do not."""
    prod = {field: [value]}
    if valid:
        assert getattr(_config(**prod).pipelines[0].stages[1], field) == [value]
    else:
        with pytest.raises(ValueError, match=r"is not"):
            _config(**prod)
