"""`/approve`: an approver lets the change merge (the `approved` label)."""

from __future__ import annotations

from bot.commands import Invocation, command
from handlers.approval import APPROVE_PERMISSION, toggle_review_label


@command(
    "approve",
    usage="/approve [cancel]",
    help="Approve the change (the `approved` label); `/approve cancel` takes it back. "
    "Approvers are `commands.permissions.approve` in the config.",
    permission=APPROVE_PERMISSION,
    not_by_author=True,
    gitlab_refusal="`/approve` is GitLab's own quick action: approve in GitLab's UI; "
    "ferrybot counts approvals from approvers",
)
async def approve(inv: Invocation) -> str | None:
    """Add or remove the approved label and record the approver in the approval comment."""
    await toggle_review_label(inv, inv.config.commands.approved_label, approving=True)
    return None
