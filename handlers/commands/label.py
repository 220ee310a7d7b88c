"""`/label` and `/remove-label`: add or remove existing repository labels."""

from __future__ import annotations

from bot.commands import CommandRefused, Invocation, command
from bot.commands.changes import set_change_labels
from bot.commands.labels import add_labels, remove_label, repository_labels
from bot.commands.parser import is_label
from bot.commands.rechecks import refresh_label_checks
from bot.commands.wording import Typed
from handlers.policy import SIZE_PREFIX
from schemas.commands_config import PermissionLevel
from schemas.config import BotConfig


def reserved_by(label: str, config: BotConfig, *, adding: bool) -> str | None:
    """What to use instead of `/label` (or `/remove-label`) for a label ferrybot manages.

    Review and hold labels are what `ferrybot/approval` and `ferrybot/policy` judge by; if
    `/label` could set them, the PR's author could approve their own change.
    """
    name = label.lower()
    commands = config.commands
    for managed, command_name in (
        (commands.lgtm_label, "lgtm"),
        (commands.approved_label, "approve"),
        (commands.hold_label, "hold"),
    ):
        if name == managed.lower():
            use = f"/{command_name}" if adding else f"/{command_name} cancel"
            return f"`{managed}` is set by a command of its own: use `{use}`"
    if config.policy.size_labels and name.startswith(SIZE_PREFIX):
        return f"`{SIZE_PREFIX}*` labels are set by `ferrybot/policy` from the changed lines"
    promotion = {
        item.lower(): item
        for pipeline in config.pipelines
        for stage in pipeline.stages
        for item in stage.labels
    }
    if name in promotion:
        return (
            f"`{promotion[name]}` marks the promotion pull requests ferrybot opens: "
            "use `/promote` or `/rollback`"
        )
    return None


async def _known_labels(inv: Invocation) -> list[str]:
    if not inv.args:
        raise CommandRefused(f"name at least one label: `/{inv.command.name} LABEL...`")
    bad = [arg for arg in inv.args if not is_label(arg)]
    if bad:
        raise CommandRefused(Typed(bad[0]), " is not a label name")
    adding = inv.command.name == "label"
    for arg in inv.args:
        if (why := reserved_by(arg, inv.config, adding=adding)) is not None:
            raise CommandRefused(why)
    known = await repository_labels(inv.ctx.gh, inv.state.owner, inv.state.repo)
    missing = [arg for arg in inv.args if arg.lower() not in known]
    if missing:
        # Creating labels from a comment would let any typo become a repository label.
        raise CommandRefused(
            "this repository has no label ",
            Typed(missing[0]),
            "; create it on GitHub first, or check the spelling",
        )
    return [known[arg.lower()] for arg in inv.args]


def _labels_on_change(inv: Invocation, present: set[str]) -> list[str]:
    """The arguments as labels on the merge request (removing one not there is a typo)."""
    if not inv.args:
        raise CommandRefused(f"name at least one label: `/{inv.command.name} LABEL...`")
    on_change = {name.lower(): name for name in present}
    names = []
    for arg in inv.args:
        if not is_label(arg):
            raise CommandRefused(Typed(arg), " is not a label name")
        if (why := reserved_by(arg, inv.config, adding=False)) is not None:
            raise CommandRefused(why)
        if arg.lower() not in on_change:
            raise CommandRefused("this merge request has no label ", Typed(arg))
        names.append(on_change[arg.lower()])
    return names


@command(
    "label",
    usage="/label LABEL...",
    help="Add one or more labels that exist in the repository (not the review, hold, size or "
    "promotion labels ferrybot manages: their own commands set those).",
    permission=PermissionLevel.TRIAGE,
    gitlab_refusal="`/label` is GitLab's own quick action, which GitLab runs itself "
    "(it adds any project label, so ferrybot re-checks the labels it manages)",
)
async def label(inv: Invocation) -> str | None:
    """Add the labels, then re-run the checks that read labels (one may be blocking)."""
    names = await _known_labels(inv)
    state = inv.state
    await add_labels(inv.ctx.gh, state.owner, state.repo, state.number, names)
    state.labels.update(names)
    await refresh_label_checks(inv.ctx, state, inv.config)
    return None


@command(
    "remove-label",
    usage="/remove-label LABEL...",
    help="Remove one or more labels.",
    permission=PermissionLevel.TRIAGE,
    gitlab_refusal=None,
)
async def remove_labels(inv: Invocation) -> str | None:
    """Remove the labels, then re-run the checks that read labels."""
    change = inv.change
    if change is not None:
        await set_change_labels(inv, change, _labels_on_change(inv, change.labels), on=False)
        return None
    names = await _known_labels(inv)
    state = inv.state
    for name in names:
        await remove_label(inv.ctx.gh, state.owner, state.repo, state.number, name)
        state.labels.discard(name)
    await refresh_label_checks(inv.ctx, state, inv.config)
    return None
