"""`/hold`: block merging with the hold label until `/hold cancel` (or `/unhold`)."""

from __future__ import annotations

from bot.commands import CommandRefused, Invocation, command
from bot.commands.labels import add_labels, remove_label
from bot.commands.rechecks import refresh_label_checks
from schemas.commands_config import PermissionLevel


@command(
    "hold",
    usage="/hold [cancel]",
    help="Add the hold label, which blocks merging; `/hold cancel` or `/unhold` removes it.",
    permission=PermissionLevel.TRIAGE,
    aliases=("unhold",),
)
async def hold(inv: Invocation) -> str | None:
    """Add or remove the hold label and re-run every check that reads labels."""
    cancel = inv.command.name == "unhold" or inv.args == ("cancel",)
    if inv.args not in ((), ("cancel",)) or (inv.command.name == "unhold" and inv.args):
        raise CommandRefused("use `/hold`, `/hold cancel` or `/unhold`, with nothing after it")
    label = inv.config.commands.hold_label
    state = inv.state
    if cancel:
        await remove_label(inv.ctx.gh, state.owner, state.repo, state.number, label)
        state.labels.discard(label)
    else:
        await add_labels(inv.ctx.gh, state.owner, state.repo, state.number, [label])
        state.labels.add(label)
    await refresh_label_checks(inv.ctx, state, inv.config)
    return None
