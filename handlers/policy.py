"""`ferrybot/policy`: blocking labels and the title convention, as a check run on the head SHA."""

from __future__ import annotations

import re

from bot.checks import CheckResult, Conclusion, publish_check
from bot.context import Context
from bot.dispatch import on
from schemas.config import PolicyConfig
from schemas.github import PullRequestEvent

CHECK_NAME = "ferrybot/policy"


def evaluate_policy(title: str, labels: list[str], policy: PolicyConfig) -> CheckResult:
    """The policy verdict for a pull request's title and labels, saying what to change."""
    problems: list[str] = []
    blocking = [label for label in labels if label in policy.blocking_labels]
    for label in blocking:
        problems.append(f"- Remove the `{label}` label when the pull request is ready to merge.")
    if not re.match(policy.title_pattern, title):
        problems.append(
            f"- Rename the pull request: the title does not follow the convention. "
            f"{policy.title_hint}"
        )
    if not problems:
        return CheckResult(
            CHECK_NAME,
            Conclusion.SUCCESS,
            "Policy satisfied",
            "Title and labels follow the policy.",
        )
    what = []
    if blocking:
        what.append("blocking label" + ("s" if len(blocking) > 1 else ""))
    if len(problems) > len(blocking):
        what.append("title convention")
    return CheckResult(
        CHECK_NAME,
        Conclusion.FAILURE,
        "Policy not met: " + " and ".join(what),
        "To pass this check:\n\n" + "\n".join(problems),
    )


@on(
    "pull_request.opened",
    "pull_request.reopened",
    "pull_request.synchronize",
    "pull_request.edited",
    "pull_request.labeled",
    "pull_request.unlabeled",
)
async def policy_check(ctx: Context) -> None:
    """Publish the policy verdict on the pull request's head commit."""
    event = ctx.event(PullRequestEvent)
    pr = event.pull_request
    result = evaluate_policy(pr.title, pr.label_names, ctx.config.policy)
    await publish_check(
        ctx.gh, event.repository.owner_login, event.repository.name, pr.head.sha, result
    )
    ctx.log.info("policy.published", conclusion=result.conclusion.value, sha=pr.head.sha)
