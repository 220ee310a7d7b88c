"""`/lgtm`: a reviewer says the change looks good; the label goes when the tree changes."""

from __future__ import annotations

from bot.commands import CommandRefused, Invocation, command
from bot.commands.changes import set_change_labels
from handlers.approval import toggle_review_label
from schemas.commands_config import PermissionLevel


@command(
    "lgtm",
    usage="/lgtm [cancel]",
    help="Mark the change reviewed (the `lgtm` label); `/lgtm cancel` takes it back. "
    "A push that changes the files removes it.",
    permission=PermissionLevel.WRITE,
    not_by_author=True,
    gitlab_refusal=None,
)
async def lgtm(inv: Invocation) -> str | None:
    """Add or remove the lgtm label and record the reviewer in the approval comment.

    On GitLab the label is set through the port; `ferrybot/approval` there counts GitLab's
    own approvals, so the label records the review without standing in for one.
    """
    change = inv.change
    if change is not None:
        if inv.args not in ((), ("cancel",)):
            raise CommandRefused("use `/lgtm` or `/lgtm cancel`, with nothing after it")
        label = inv.config.commands.lgtm_label
        await set_change_labels(inv, change, [label], on=not inv.args)
        return None
    await toggle_review_label(inv, inv.config.commands.lgtm_label, approving=False)
    return None
