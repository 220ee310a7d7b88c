"""`ferrybot/approval` on GitLab: `/lgtm` (a label only ferrybot's counts) and the forge's own
approvals, counted only from allowed non-authors.

On GitLab, `/approve` is GitLab's own quick action and never reaches ferrybot, and labels can be
set by anyone with a quick action: approvals are read from the approvals API and the `lgtm`
label counts only when ferrybot added it last (resource label events), on every MR event.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.checks import CheckResult, Conclusion
from bot.commands.rechecks import change_recheck
from bot.context import Context
from bot.forges.port import ChangeRequest, Forge
from bot.pipeline.dispatch import on
from handlers.approval import APPROVE_PERMISSION, CHECK_NAME
from schemas.commands_config import CommandGrant
from schemas.config import BotConfig
from schemas.envelope import Source


@dataclass(frozen=True)
class CountedApprovals:
    """The approvals that count, and each one that does not with the reason."""

    counted: list[str]
    ignored: list[tuple[str, str]]


async def count_approvals(
    forge: Forge, change: ChangeRequest, config: BotConfig
) -> CountedApprovals:
    """Sort the change's approvals into those of allowed approvers and the rest."""
    grant = config.commands.permissions.get("approve", CommandGrant())
    minimum = grant.level if grant.level is not None else APPROVE_PERMISSION
    named = {user.lower() for user in grant.users}
    counted: list[str] = []
    ignored: list[tuple[str, str]] = []
    for person in await forge.approvers(change):
        if person.login.lower() == change.author.lower():
            ignored.append((person.login, "opened the merge request"))
        elif person.login.lower() in named:
            counted.append(person.login)
        elif (await forge.permission(change.project, person)).rank >= minimum.rank:
            counted.append(person.login)
        else:
            ignored.append((person.login, f"has less than the {minimum.value} role"))
    return CountedApprovals(counted, ignored)


def evaluate_review_approval(
    change: ChangeRequest, approvals: CountedApprovals, trusted: frozenset[str], config: BotConfig
) -> CheckResult:
    """Success with `/lgtm` (its label set by ferrybot), one counted approval and no blocking
    label; else what is still needed. `trusted`: the labels ferrybot itself put on last."""
    needed = []
    lgtm = config.commands.lgtm_label
    ask = "`/lgtm` from a reviewer with the Developer role (not the author)"
    if lgtm in change.labels and lgtm not in trusted:
        # A quick action (`/label ~lgtm`) or the UI can add it too: only ferrybot's counts.
        needed.append(f"{ask}: the `{lgtm}` label was not set by ferrybot")
    elif lgtm not in change.labels:
        needed.append(ask)
    if not approvals.counted:
        needed.append("an approval from an approver (not the author)")
    for label in sorted(change.labels & set(config.policy.blocking_labels)):
        needed.append(f"the `{label}` label removed")
    # Logins in code spans: GitLab would notify a plain @mention on every edit of the note.
    lines = [f"- `{login}`'s approval does not count: {why}" for login, why in approvals.ignored]
    if not needed:
        who = ", ".join(f"`{login}`" for login in approvals.counted)
        summary = "\n".join([f"Approved by {who}.", *lines])
        return CheckResult(CHECK_NAME, Conclusion.SUCCESS, "Approved", summary)
    summary = "\n".join(["Still needed:", "", *(f"- {item}" for item in needed), *lines])
    return CheckResult(CHECK_NAME, Conclusion.FAILURE, "Not ready to merge", summary)


@on(
    "merge_request.open",
    "merge_request.reopen",
    "merge_request.update",
    "merge_request.approved",
    "merge_request.unapproved",
    "merge_request.approval",
    "merge_request.unapproval",
    source=Source.GITLAB,
    coalesce=True,
)
async def review_approval_check(ctx: Context) -> None:
    """Publish the approval verdict from the merge request's approvals as they are now."""
    await publish_review_approval(ctx, await ctx.change())


@change_recheck(CHECK_NAME)
async def publish_review_approval(ctx: Context, change: ChangeRequest) -> None:
    """Publish the approval verdict for `change` from its approvals through the event's forge."""
    forge = ctx.change_forge
    config = (await ctx.project_config(change.project)).config
    approvals = await count_approvals(forge, change, config)
    trusted = await forge.labels_set_by_ferrybot(change)
    result = evaluate_review_approval(change, approvals, trusted, config)
    await forge.set_check(change, result)
    ctx.log.debug("approval.published", conclusion=result.conclusion.value, sha=change.head_sha)
