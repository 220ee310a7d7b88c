"""`/lgtm`: a reviewer says the change looks good; the label goes when the tree changes."""

from __future__ import annotations

from bot.commands import CommandRefused, Invocation, command
from bot.commands.labels import add_labels, remove_label
from handlers.approval import update_approvals
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
    if inv.args not in ((), ("cancel",)):
        raise CommandRefused("use `/lgtm` or `/lgtm cancel`, with nothing after it")
    state, label = inv.state, inv.config.commands.lgtm_label
    if inv.args:
        await remove_label(inv.ctx.gh, state.owner, state.repo, state.number, label)
        state.labels.discard(label)
        await update_approvals(inv.ctx, state, inv.config)
    else:
        await add_labels(inv.ctx.gh, state.owner, state.repo, state.number, [label])
        state.labels.add(label)
        await update_approvals(inv.ctx, state, inv.config, lgtm=inv.actor)
    return None
