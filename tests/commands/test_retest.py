"""`/retest`: ferrybot's checks again on the head, and other apps' failed suites re-requested."""

from __future__ import annotations

from tests.commands.harness import OWNER, REPO, Bot, bot, comment

__all__ = ["bot"]
CI_APP = 9001


async def test_retest_reruns_own_checks_and_rerequests_failed_suites(bot: Bot) -> None:
    """Our own runs appear (secrets too); CI's failed suite is re-requested, the green not."""
    pr = bot.fake.add_pull(OWNER, REPO, head="t", title="feat: t", user="author")
    assert pr.pull is not None
    sha = pr.pull.head_sha
    bot.fake.add_app(CI_APP, "ci")
    failed = bot.fake.add_check_run(OWNER, REPO, sha, "unit", app_id=CI_APP, conclusion="failure")
    bot.fake.add_app(CI_APP + 1, "lint")
    green = bot.fake.add_check_run(OWNER, REPO, sha, "lint", app_id=CI_APP + 1)
    bot.fake.set_permission(OWNER, REPO, "dev", "write")
    for _ in range(2):  # our own runs exist the second time: still never re-requested
        await comment(bot, pr, "/retest", "dev")
    names = sorted(run.name for run in bot.fake.check_runs(OWNER, REPO, sha))
    assert names == ["ferrybot/approval", "ferrybot/policy", "ferrybot/secrets", "lint", "unit"]
    suites = bot.fake.state.check_suites
    assert suites[failed.suite_id].rerequested == 2
    assert suites[green.suite_id].rerequested == 0
    ours = {run.suite_id for run in bot.fake.check_runs(OWNER, REPO, sha) if run.app_id != CI_APP}
    assert all(suites[suite].rerequested == 0 for suite in ours)
