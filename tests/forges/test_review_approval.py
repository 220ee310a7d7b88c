"""`ferrybot/approval` on GitLab: `/lgtm` by ferrybot's hand, and GitLab's own approvals from
allowed non-authors."""

from __future__ import annotations

import pytest

from tests.fakegitlab.server import FakeGitLab
from tests.forges.harness import PROJECT, GitLabBot, gitlab_bot

__all__ = ["gitlab_bot"]

APPROVAL = "ferrybot/approval"


def approval_rows(fake: FakeGitLab, sha: str) -> list[dict[str, object]]:
    """The approval status rows on a commit, oldest first."""
    return [s for s in fake.statuses(PROJECT, sha) if s["name"] == APPROVAL]


def label_by(fake: FakeGitLab, iid: int, labels: list[str], who: str) -> None:
    """Set the MR's labels as `who` would (ferrybot through the API, a person by a quick action)."""
    project = fake.state.project(PROJECT)
    fake.set_labels(project, project.merge_request(iid), labels, fake.add_user(who))


@pytest.mark.parametrize(
    ("approver", "access_level", "conclusion", "why"),
    [
        ("alice", 40, "failed", "`alice`'s approval does not count: opened the merge request"),
        ("dave", 30, "failed", "`dave`'s approval does not count: has less than the maintain"),
        ("rita", 20, "failed", "`rita`'s approval does not count: has less than the maintain"),
        ("mia", 40, "success", "Approved by `mia`."),
        ("olga", 50, "success", "Approved by `olga`."),
    ],
    ids=["author-maintainer", "developer", "reporter", "maintainer", "owner"],
)
async def test_an_approval_counts_only_from_an_allowed_non_author(
    gitlab_bot: GitLabBot, approver: str, access_level: int, conclusion: str, why: str
) -> None:
    """The author's own approval never counts, nor one below the maintain role."""
    fake = gitlab_bot.fake
    mr = fake.add_merge_request(PROJECT, source_branch="feat", author="alice", title="feat: x")
    fake.add_user(approver)
    fake.add_member(PROJECT, approver, access_level)
    fake.approve(PROJECT, mr.iid, user=approver)
    label_by(fake, mr.iid, ["lgtm"], "ferrybot")  # a reviewer's /lgtm, already handled

    await gitlab_bot.deliver(
        "merge_request", fake.merge_request_hook(PROJECT, mr.iid, "approved", user=approver)
    )

    [row] = approval_rows(fake, mr.sha)
    assert row["status"] == conclusion
    [note] = fake.notes(PROJECT, mr.iid)
    assert why in note["body"]


async def test_an_approval_taken_back_or_a_hold_label_blocks_again(gitlab_bot: GitLabBot) -> None:
    """Approved → success; a hold label (a quick action's) → failed; unapproved → still failed."""
    fake = gitlab_bot.fake
    mr = fake.add_merge_request(PROJECT, source_branch="feat", author="alice", title="feat: x")
    fake.add_user("mia")
    fake.add_member(PROJECT, "mia", 40)
    fake.approve(PROJECT, mr.iid, user="mia")
    label_by(fake, mr.iid, ["lgtm"], "ferrybot")
    hook = fake.merge_request_hook(PROJECT, mr.iid, "approved", user="mia")
    await gitlab_bot.deliver("merge_request", hook)
    await gitlab_bot.deliver("merge_request", hook)  # a redelivery writes nothing more

    project = fake.state.project(PROJECT)
    label_by(fake, mr.iid, ["lgtm", "do-not-merge/hold", "approved"], "alice")
    await gitlab_bot.deliver(
        "merge_request", fake.merge_request_hook(PROJECT, mr.iid, "update", user="alice")
    )
    label_by(fake, mr.iid, ["lgtm", "approved"], "alice")
    project.merge_request(mr.iid).approved_by.clear()
    await gitlab_bot.deliver(
        "merge_request", fake.merge_request_hook(PROJECT, mr.iid, "unapproved", user="mia")
    )

    # The second failure says the same ("Not ready to merge"): GitLab is not written to again.
    assert [row["status"] for row in approval_rows(fake, mr.sha)] == ["success", "failed"]
    [note] = fake.notes(PROJECT, mr.iid)
    assert "an approval from an approver (not the author)" in note["body"]
    assert "do-not-merge/hold" not in note["body"].split("ferrybot/approval")[1]


@pytest.mark.parametrize(
    ("who", "trusted"),
    [("ferrybot", True), ("alice", False), ("dave", False)],
    ids=["set-by-ferrybot", "the-author-by-quick-action", "a-developer-by-hand"],
)
async def test_the_lgtm_label_counts_only_when_ferrybot_set_it(
    gitlab_bot: GitLabBot, who: str, trusted: bool
) -> None:
    """`/label ~lgtm` (a quick action) or the UI cannot stand in for ferrybot's `/lgtm`."""
    fake = gitlab_bot.fake
    mr = fake.add_merge_request(PROJECT, source_branch="feat", author="alice", title="feat: x")
    fake.add_user("mia")
    fake.add_member(PROJECT, "mia", 40)
    fake.approve(PROJECT, mr.iid, user="mia")
    label_by(fake, mr.iid, ["lgtm"], who)

    await gitlab_bot.deliver(
        "merge_request", fake.merge_request_hook(PROJECT, mr.iid, "update", user=who)
    )

    [row] = approval_rows(fake, mr.sha)
    assert row["status"] == ("success" if trusted else "failed")
    if not trusted:
        [note] = fake.notes(PROJECT, mr.iid)
        assert "the `lgtm` label was not set by ferrybot" in note["body"]
