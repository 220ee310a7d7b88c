"""`/lgtm`: a reviewer says the change looks good; the label goes when the tree changes."""

from __future__ import annotations

from bot.commands import Invocation, command
from handlers.approval import toggle_review_label
from schemas.commands_config import PermissionLevel


@command(
    "lgtm",
    usage="/lgtm [cancel]",
    help="Mark the change reviewed (the `lgtm` label); `/lgtm cancel` takes it back. "
    "A push that changes the files removes it.",
    permission=PermissionLevel.WRITE,
    not_by_author=True,
)
async def lgtm(inv: Invocation) -> str | None:
    """Add or remove the lgtm label and record the reviewer in the approval comment."""
    await toggle_review_label(inv, inv.config.commands.lgtm_label, approving=False)
    return None
