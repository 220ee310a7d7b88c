"""One promotion: read the stage's files, edit, commit once, open or update the one PR."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

from bot.checks import Conclusion
from bot.context import Context
from bot.forges.github.gitops import GitHubGitOps
from bot.forges.port import ChangeProposal, ChangeRequest, GitOpsForge
from bot.gitops.edits import EditError
from bot.gitops.identifiers import InvalidIdentifier
from bot.gitops.templates import TemplateError
from bot.metrics.definitions import GATE_RESULTS, PROMOTIONS
from bot.mlflow.client import MlflowClient
from bot.pipeline.retry import PermanentError, TransientError
from bot.promotion.body import promotion_body, promotion_title
from bot.promotion.branches import promotion_branch
from bot.promotion.candidate import Candidate
from bot.promotion.gate import NOTHING_DEPLOYED, VersionFacts, gate_result, gate_rows
from bot.promotion.gitdata import RepoRef
from bot.promotion.plan import Deployed, plan_edits, read_deployed
from bot.promotion.pulls import PullRequestRef
from bot.promotion.supply_chain import SupplyChainResult, verify_candidate
from schemas.audit import AuditRecord
from schemas.forges import ForgeKind
from schemas.notification import Notification, NotificationKind, Severity
from schemas.pipelines import Pipeline, Stage


class Outcome(StrEnum):
    """What a promotion did."""

    OPENED = "opened"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ALREADY_DEPLOYED = "already_deployed"
    REFUSED = "refused"


@dataclass(frozen=True)
class PromotionRequest:
    """Promote `candidate` to `stage` of `pipeline`, because of `reason`, asked by `actor`."""

    pipeline: Pipeline
    stage: Stage
    candidate: Candidate
    actor: str
    reason: str
    rollback: bool = False


@dataclass(frozen=True)
class PromotionResult:
    """The PR (when one is open) and what the stage had before."""

    outcome: Outcome
    deployed: Deployed
    pull: PullRequestRef | None = None
    head_sha: str | None = None
    supply_chain: SupplyChainResult | None = None
    change: ChangeRequest | None = None


async def gitops_forge(ctx: Context, stage: Stage) -> GitOpsForge:
    """The stage's GitOps repository's forge: on GitHub its installation (not the event's)."""
    if stage.forge is ForgeKind.GITLAB:
        if ctx.forges is None:
            raise PermanentError(f"stage {stage.name} is on GitLab, but no GitLab client is set up")
        return ctx.forges.gitlab
    if ctx.sources is None:
        return GitHubGitOps(ctx.gh)
    repo = RepoRef.parse(stage.repo)
    return GitHubGitOps(await ctx.sources.github_for(repo.owner, repo.name))


async def stage_files(
    forge: GitOpsForge, stage: Stage, ref: str | None = None
) -> tuple[str, dict[str, str]]:
    """The stage's files at `ref` (default: its base branch head) and the commit read."""
    sha = ref or await forge.branch_head(stage.repo, stage.branch)
    if sha is None:
        raise PermanentError(f"{stage.repo} has no branch {stage.branch}; fix the stage's `branch`")
    files: dict[str, str] = {}
    for path in dict.fromkeys(w.file for w in stage.writes):
        text = await forge.read_file(stage.repo, path, sha)
        if text is None:
            raise PermanentError(
                f"{stage.repo}: {path} does not exist at {sha[:12]}; fix the pipeline's `file` "
                "or add the file to the repository"
            )
        files[path] = text
    return sha, files


async def promote(ctx: Context, request: PromotionRequest) -> PromotionResult:
    """Open or update the stage's promotion PR; idempotent for the same request."""
    pipeline, stage, candidate = request.pipeline, request.stage, request.candidate
    forge = await gitops_forge(ctx, stage)
    base_sha, files = await stage_files(forge, stage)
    deployed = read_deployed(stage, files)
    try:
        edits = plan_edits(pipeline, stage, candidate, files)
    except (EditError, TemplateError, InvalidIdentifier) as exc:
        await _failed(ctx, request, deployed, str(exc))
        raise PermanentError(f"promotion {pipeline.name} → {stage.name}: {exc}") from None
    branch = promotion_branch(pipeline.name, stage.name)
    if not edits:
        # A PR still proposing something else is stale now: the latest trigger wins.
        why = (
            f"Closed by ferrybot: `{stage.name}` already runs {deployed.label}, which is what "
            f"the latest trigger asks for ({request.reason})."
        )
        closed = await forge.close_change(stage.repo, branch, why)
        await _audit(ctx, request, Outcome.ALREADY_DEPLOYED, deployed, None, closed)
        PROMOTIONS.labels(pipeline.name, stage.name, Outcome.ALREADY_DEPLOYED).inc()
        ctx.log.info(
            "promotion.already_deployed", pipeline=pipeline.name, stage=stage.name, closed=closed
        )
        return PromotionResult(Outcome.ALREADY_DEPLOYED, deployed)

    supply = await verify_candidate(ctx, pipeline, stage, candidate, ctx.config.trust)
    if supply is not None and not supply.passed:
        await _supply_chain_failed(ctx, request, deployed, supply)
        assert stage.supply_chain is not None
        if stage.supply_chain.on_failure == "skip":
            await _audit(ctx, request, Outcome.REFUSED, deployed, None, supply=supply)
            PROMOTIONS.labels(pipeline.name, stage.name, Outcome.REFUSED).inc()
            return PromotionResult(Outcome.REFUSED, deployed, supply_chain=supply)
    title = promotion_title(pipeline, stage, deployed, candidate)
    head_sha, committed = await forge.commit_files(
        stage.repo,
        branch,
        (stage.branch, base_sha),
        {e.path: e.new_text for e in edits},
        f"{title}\n\n{request.reason}\n",
    )
    model_url = None
    if candidate.model is not None and ctx.sources is not None and ctx.sources.mlflow:
        model_url = ctx.sources.mlflow.version_url(candidate.model.name, candidate.model.version)
    body = promotion_body(
        pipeline,
        stage,
        candidate,
        edits,
        request.reason,
        model_url,
        supply.body_lines() if supply is not None else [],
    )
    proposal = ChangeProposal(
        source_branch=branch,
        target_branch=stage.branch,
        title=title,
        body=body,
        head_sha=head_sha,
        labels=tuple(stage.labels),
        reviewers=tuple(stage.reviewers),
        team_reviewers=tuple(stage.team_reviewers),
        assignees=tuple(stage.assignees),
        draft=supply is not None and not supply.passed,
    )
    proposed = await forge.open_or_update_change(stage.repo, proposal)
    change = proposed.change
    pull = PullRequestRef(change.number, change.url, proposed.created, proposed.updated)
    if supply is not None:
        await forge.set_check(change, supply.check(candidate))
    # Triggers for one stage can arrive on different partitions (an MLflow alias, a merge, a
    # command) and run at once; if another one moved the branch meanwhile, this PR body may
    # describe the other commit, so do it again: the last one to finish then wins whole.
    if not forge.dry_run and await forge.branch_head(stage.repo, branch) != head_sha:
        raise TransientError(f"{branch} moved while promoting; promoting again")
    if pull.created:
        outcome = Outcome.OPENED
    elif committed or pull.updated:
        outcome = Outcome.UPDATED
    else:
        outcome = Outcome.UNCHANGED
    result = PromotionResult(outcome, deployed, pull, head_sha, supply, change)
    await _audit(ctx, request, outcome, deployed, result, supply=supply)
    PROMOTIONS.labels(pipeline.name, stage.name, outcome).inc()
    ctx.log.info(
        "promotion.done",
        outcome=outcome.value,
        pipeline=pipeline.name,
        stage=stage.name,
        pull=pull.number,
        head=head_sha,
    )
    if outcome is not Outcome.UNCHANGED:
        await _announce(ctx, request, deployed, change)
    await run_model_gate(ctx, forge, pipeline, stage, candidate, deployed, change)
    return result


async def run_model_gate(
    ctx: Context,
    forge: GitOpsForge,
    pipeline: Pipeline,
    stage: Stage,
    candidate: Candidate,
    deployed: Deployed,
    change: ChangeRequest,
) -> Conclusion | None:
    """Publish `ferrybot/model-gate` on the PR head when the stage has a gate for a model."""
    if stage.gate is None or candidate.model is None:
        return None
    mlflow = ctx.sources.mlflow if ctx.sources is not None else None
    if mlflow is None:
        raise PermanentError("the model gate needs MLflow: set FERRYBOT_MLFLOW_TRACKING_URL")
    current = NOTHING_DEPLOYED
    if deployed.version is not None and pipeline.model is not None:
        found = await mlflow.model_version(pipeline.model.name, deployed.version)
        if found is not None:
            metrics = await mlflow.run_metrics(found.run_id) if found.run_id else {}
            params = await _params(mlflow, found.run_id, stage)
            current = VersionFacts(found.version, metrics, params, found.tag_map)
    facts = VersionFacts(
        candidate.model.version,
        candidate.metrics,
        await _params(mlflow, candidate.model.run_id, stage),
        candidate.model.tag_map,
    )
    rows = gate_rows(stage.gate, facts, current, stage.name, pipeline.name)
    result = gate_result(rows, candidate.model.version, deployed.version)
    head_sha = change.head_sha
    await forge.set_check(change, result)
    GATE_RESULTS.labels(pipeline.name, stage.name, result.conclusion.value).inc()
    subject = f"pipeline/{pipeline.name}/{stage.name}"
    await ctx.audit(
        AuditRecord(
            id=f"{ctx.envelope.id}:gate:{pipeline.name}:{stage.name}",
            delivery_id=ctx.envelope.id,
            actor="ferrybot",
            action=f"gate.{result.conclusion.value}",
            subject=subject,
            from_value=deployed.version,
            to_value=candidate.model.version,
            reason=result.title,
            details={"head_sha": head_sha, "rows": [asdict(row) for row in rows]},
        )
    )
    if result.conclusion is Conclusion.FAILURE:
        await ctx.notify(
            Notification(
                kind=NotificationKind.GATE_FAILED,
                severity=Severity.WARNING,
                subject=subject,
                title=f"{pipeline.name} {candidate.label} failed the {stage.name} model gate",
                text=result.summary,
                delivery_id=ctx.envelope.id,
                repository=stage.repo,
                pipeline=pipeline.name,
            )
        )
    ctx.log.info("gate.published", conclusion=result.conclusion.value, sha=head_sha)
    return result.conclusion


async def _params(mlflow: MlflowClient, run_id: str | None, stage: Stage) -> dict[str, str]:
    # Only CEL rules can read params: thresholds alone cost no extra request.
    if run_id is None or stage.gate is None or not stage.gate.rules:
        return {}
    return await mlflow.run_params(run_id)


async def _audit(
    ctx: Context,
    request: PromotionRequest,
    outcome: Outcome,
    deployed: Deployed,
    result: PromotionResult | None,
    closed: int | None = None,
    supply: SupplyChainResult | None = None,
) -> None:
    pipeline, stage = request.pipeline, request.stage
    details = artifact_details(request.candidate) | {
        "pipeline": pipeline.name,
        "stage": stage.name,
        "repo": stage.repo,
        "rollback": request.rollback,
    }
    if supply is not None:
        details["supply_chain"] = {
            "passed": supply.passed,
            "image_digest": supply.image_digest,
            "model_manifest_digest": supply.model_manifest_digest,
            "reason": supply.reason,
        }
    if closed is not None:
        details["closed_pull"] = closed
    if result is not None and result.pull is not None:
        details |= {"pull": result.pull.number, "url": result.pull.html_url}
        details["head_sha"] = result.head_sha
    await ctx.audit(
        AuditRecord(
            id=f"{ctx.envelope.id}:promotion:{pipeline.name}:{stage.name}",
            delivery_id=ctx.envelope.id,
            actor=request.actor,
            action=f"promotion.{outcome.value}",
            subject=f"pipeline/{pipeline.name}/{stage.name}",
            from_value=deployed.label,
            to_value=request.candidate.label,
            reason=request.reason,
            details=details,
        )
    )


def artifact_details(candidate: Candidate) -> dict[str, object]:
    """What the delivery ledger needs of the artifact: versions, digest and their times."""
    details: dict[str, object] = {}
    if candidate.model is not None:
        details |= {"model": candidate.model.name, "model_version": candidate.model.version}
    if candidate.image is not None:
        details |= {"image": candidate.image.repository, "tag": candidate.image.tag}
        details["digest"] = candidate.image.digest
    if candidate.created_at is not None:
        details["artifact_created_at"] = candidate.created_at.isoformat()
    if candidate.trained_at is not None:
        details["trained_at"] = candidate.trained_at.isoformat()
    return details


async def _announce(
    ctx: Context, request: PromotionRequest, deployed: Deployed, change: ChangeRequest
) -> None:
    pipeline, stage = request.pipeline, request.stage
    links = {change.short_reference: change.url} if change.url.startswith("http") else {}
    await ctx.notify(
        Notification(
            kind=NotificationKind.PROMOTION_OPENED,
            subject=f"pipeline/{pipeline.name}/{stage.name}",
            title=f"Promotion {change.noun}: {pipeline.name} {deployed.label} → "
            f"{request.candidate.label} to {stage.name}",
            text=request.reason,
            fields={"pipeline": pipeline.name, "stage": stage.name, "by": request.actor},
            links=links,
            delivery_id=ctx.envelope.id,
            repository=stage.repo,
            pipeline=pipeline.name,
        )
    )


async def _failed(ctx: Context, request: PromotionRequest, deployed: Deployed, why: str) -> None:
    pipeline, stage = request.pipeline, request.stage
    subject = f"pipeline/{pipeline.name}/{stage.name}"
    await ctx.audit(
        AuditRecord(
            id=f"{ctx.envelope.id}:promotion:{pipeline.name}:{stage.name}",
            delivery_id=ctx.envelope.id,
            actor=request.actor,
            action="promotion.failed",
            subject=subject,
            from_value=deployed.label,
            to_value=request.candidate.label,
            reason=why,
        )
    )
    PROMOTIONS.labels(pipeline.name, stage.name, "failed").inc()
    await ctx.notify(
        Notification(
            kind=NotificationKind.PROMOTION_FAILED,
            severity=Severity.ERROR,
            subject=subject,
            title=f"Promotion of {pipeline.name} to {stage.name} failed",
            text=why,
            delivery_id=ctx.envelope.id,
            repository=stage.repo,
            pipeline=pipeline.name,
        )
    )


async def _supply_chain_failed(
    ctx: Context, request: PromotionRequest, deployed: Deployed, supply: SupplyChainResult
) -> None:
    pipeline, stage = request.pipeline, request.stage
    subject = f"pipeline/{pipeline.name}/{stage.name}"
    await ctx.audit(
        AuditRecord(
            id=f"{ctx.envelope.id}:supply-chain:{pipeline.name}:{stage.name}",
            delivery_id=ctx.envelope.id,
            actor="ferrybot",
            action="supply_chain.failed",
            subject=subject,
            from_value=deployed.label,
            to_value=request.candidate.label,
            reason=supply.reason,
            details={"rows": [asdict(row) for row in supply.rows]},
        )
    )
    await ctx.notify(
        Notification(
            kind=NotificationKind.SUPPLY_CHAIN_FAILED,
            severity=Severity.ERROR,
            subject=subject,
            title=f"{pipeline.name} {request.candidate.label} failed supply-chain verification "
            f"for {stage.name}",
            text=supply.reason,
            delivery_id=ctx.envelope.id,
            repository=stage.repo,
            pipeline=pipeline.name,
        )
    )
    ctx.log.warning(
        "supply_chain.failed", pipeline=pipeline.name, stage=stage.name, reason=supply.reason
    )


async def record_skip(ctx: Context, pipeline: Pipeline, stage: Stage, actor: str, why: str) -> None:
    """Audit a trigger that names this pipeline but promotes nothing, and say why."""
    ctx.log.info("promotion.skipped", pipeline=pipeline.name, stage=stage.name, why=why)
    await ctx.audit(
        AuditRecord(
            id=f"{ctx.envelope.id}:skipped:{pipeline.name}:{stage.name}",
            delivery_id=ctx.envelope.id,
            actor=actor,
            action="promotion.skipped",
            subject=f"pipeline/{pipeline.name}/{stage.name}",
            reason=why,
        )
    )
