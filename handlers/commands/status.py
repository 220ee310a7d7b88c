"""`/status [<pipeline>]`: what each stage runs now and its open promotion PR or MR."""

from __future__ import annotations

from bot.commands import Invocation, command
from bot.ledger.report import ledger_report, status_table
from bot.promotion.branches import promotion_branch
from bot.promotion.commanded import find_pipeline
from bot.promotion.engine import gitops_forge, stage_files
from bot.promotion.plan import read_deployed
from schemas.commands_config import PermissionLevel
from schemas.pipelines import Pipeline


@command(
    "status",
    usage="/status [<pipeline>]",
    help="A table of pipelines and stages: the version each runs now and its open promotion "
    "PR or MR.",
    permission=PermissionLevel.READ,
    on_issues=True,
    gitlab_refusal=None,
)
async def status_command(inv: Invocation) -> str | None:
    """Read every stage's files (git is the source of truth) and its promotion branch's PR."""
    if len(inv.args) > 1:
        return "use `/status` or `/status <pipeline>`"
    pipelines: list[Pipeline] = (
        [find_pipeline(inv, inv.args[0])] if inv.args else list(inv.config.pipelines)
    )
    if not pipelines:
        return "no promotion pipelines are configured."
    ledger = inv.ctx.ledger
    if ledger is not None:
        # The ledger knows what was rolled out (and its health), not only what git asks for.
        report = await ledger_report(ledger)
        table = status_table(report, [p.name for p in pipelines])
        if table is not None:
            return table
    lines = ["| pipeline | stage | version now | open promotion |", "|---|---|---|---|"]
    for pipeline in pipelines:
        for stage in pipeline.stages:
            forge = await gitops_forge(inv.ctx, stage)
            _, files = await stage_files(forge, stage)
            deployed = read_deployed(stage, files)
            pull = await forge.open_change(stage.repo, promotion_branch(pipeline.name, stage.name))
            shown = pull.reference if pull is not None else "—"
            lines.append(f"| {pipeline.name} | {stage.name} | {deployed.label} | {shown} |")
    return "\n".join(lines)
