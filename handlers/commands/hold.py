"""`/hold`: block merging with the hold label until `/hold cancel` (or `/unhold`)."""

from __future__ import annotations

from bot.commands import CommandRefused, Invocation, command
from bot.commands.changes import set_change_labels
from bot.commands.labels import add_labels, remove_label
from bot.commands.rechecks import refresh_label_checks
from schemas.commands_config import PermissionLevel

# ferrybot's hold thread on a GitLab merge request carries this.
HOLD_THREAD_MARKER = "<!-- ferrybot:hold -->"


@command(
    "hold",
    usage="/hold [cancel]",
    help="Add the hold label, which blocks merging; `/hold cancel` or `/unhold` removes it.",
    permission=PermissionLevel.TRIAGE,
    aliases=("unhold",),
    gitlab_refusal=None,
)
async def hold(inv: Invocation) -> str | None:
    """Add or remove the hold label and re-run every check that reads labels.

    On GitLab the hold also opens an unresolved thread (resolved again by the cancel), so
    "all threads must be resolved", a GitLab Free setting, blocks the merge too.
    """
    cancel = inv.command.name == "unhold" or inv.args == ("cancel",)
    if inv.args not in ((), ("cancel",)) or (inv.command.name == "unhold" and inv.args):
        raise CommandRefused("use `/hold`, `/hold cancel` or `/unhold`, with nothing after it")
    label = inv.config.commands.hold_label
    change = inv.change
    if change is not None:
        forge = inv.ctx.change_forge
        if cancel:
            await forge.resolve_threads(change.change, HOLD_THREAD_MARKER)
        else:
            await forge.open_thread(
                change.change,
                HOLD_THREAD_MARKER,
                f"**On hold** (`/hold` by `{inv.actor}`): this thread stays unresolved until "
                "`/hold cancel` or `/unhold`.",
            )
        await set_change_labels(inv, change, [label], on=not cancel)
        return None
    state = inv.state
    if cancel:
        await remove_label(inv.ctx.gh, state.owner, state.repo, state.number, label)
        state.labels.discard(label)
    else:
        await add_labels(inv.ctx.gh, state.owner, state.repo, state.number, [label])
        state.labels.add(label)
    await refresh_label_checks(inv.ctx, state, inv.config)
    return None
