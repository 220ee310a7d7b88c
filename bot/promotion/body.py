"""The promotion PR's title and body: what changes, and for models the registry facts."""

from __future__ import annotations

from bot.promotion.candidate import Candidate
from bot.promotion.markdown import cell
from bot.promotion.plan import Deployed, FileEdit
from schemas.pipelines import Pipeline, Stage

MARKER = "<!-- ferrybot:promotion -->"


def promotion_title(pipeline: Pipeline, stage: Stage, deployed: Deployed, to: Candidate) -> str:
    """`promote <pipeline> <from> → <to> to <stage>`."""
    return f"promote {pipeline.name} {deployed.label} → {to.label} to {stage.name}"


def promotion_body(
    pipeline: Pipeline,
    stage: Stage,
    candidate: Candidate,
    edits: list[FileEdit],
    reason: str,
    model_url: str | None,
    verification: list[str] | None = None,
) -> str:
    """Markdown: the change table, the model's registry facts, the image's tag and digest.

    Deterministic for the same promotion, so a redelivered trigger leaves the body as it is.
    """
    lines = [
        MARKER,
        f"Promotes **{pipeline.name}** to **{stage.name}** (`{stage.repo}`, base "
        f"`{stage.branch}`).",
        "",
        f"Why: {cell(reason)}",
        "",
        "| file | path | old | new |",
        "|---|---|---|---|",
    ]
    for edit in edits:
        for change in edit.changes:
            old = f"`{cell(change.old)}`" if change.old is not None else "(added)"
            lines.append(f"| `{edit.path}` | `{change.path}` | {old} | `{cell(change.new)}` |")
    if candidate.model is not None:
        model = candidate.model
        lines += ["", "### Model", ""]
        name = f"{model.name} version {model.version}"
        lines.append(f"- Registered model: [{name}]({model_url})" if model_url else f"- {name}")
        if model.run_id:
            lines.append(f"- Run: `{cell(model.run_id)}`")
        if candidate.alias:
            lines.append(f"- Alias: `{cell(candidate.alias)}`")
        if candidate.metrics:
            lines += ["", "| metric | value |", "|---|---|"]
            lines += [f"| {cell(k)} | {v:.6g} |" for k, v in sorted(candidate.metrics.items())]
        if model.tags:
            lines += ["", "| tag | value |", "|---|---|"]
            lines += [f"| {cell(t.key)} | {cell(t.value)} |" for t in model.tags]
    if candidate.image is not None:
        image = candidate.image
        lines += ["", "### Image", "", f"- Tag: `{image.repository}:{image.tag}`"]
        lines.append(f"- Digest: `{image.digest}`")
    lines += verification or []
    lines += [
        "",
        "Merging this pull request deploys the change; ferrybot then opens the next stage's "
        "promotion when that stage is automatic. Comment `/rollback "
        f"{pipeline.name} in {stage.name}` after the merge to go back.",
    ]
    return "\n".join(lines) + "\n"
