"""The projection: facts in, the ledger's tables out — a pure function, so order never matters.

Events of the two topics arrive in any interleaving (live) or in another one (rebuild); the
tables depend only on the set of facts, ordered by the time each event gives, never on now().
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.ledger.facts import DeployStatus, Fact, FactKind, parse_time
from schemas.forges import ForgeKind
from schemas.pipelines import Pipeline


@dataclass
class PromotionRow:
    """One promotion PR of a pipeline's stage."""

    pipeline: str
    stage: str
    pull: int
    repo: str | None
    version: str | None
    status: str  # open, merged, closed
    opened_at: datetime
    merged_at: datetime | None = None
    merge_sha: str | None = None
    head_sha: str | None = None
    url: str | None = None
    rollback: bool = False


@dataclass
class DeploymentRow:
    """One revision rolled out to one stage."""

    pipeline: str
    stage: str
    revision: str
    version: str | None
    pull: int
    status: str  # started, succeeded, degraded, failed, rolled_back
    sources: str
    targets: str
    started_at: datetime | None = None
    succeeded_at: datetime | None = None
    lead_time_seconds: float | None = None
    change_failure: bool = False
    rollback: bool = False


@dataclass
class IncidentRow:
    """A stage unhealthy from a degraded/failed event until the next healthy one."""

    pipeline: str
    stage: str
    opened_at: datetime
    revision: str
    cause: str
    closed_at: datetime | None = None
    restored_by: str | None = None

    @property
    def restore_seconds(self) -> float | None:
        """Time to restore, when restored."""
        return (self.closed_at - self.opened_at).total_seconds() if self.closed_at else None


@dataclass
class ArtifactRow:
    """An artifact version a pipeline has seen."""

    pipeline: str
    version: str
    created_at: datetime | None
    trained_at: datetime | None


@dataclass
class GateRow:
    """The last model-gate verdict on one promotion head."""

    pipeline: str
    stage: str
    head_sha: str
    version: str | None
    conclusion: str
    at: datetime


@dataclass
class RetrainCycleRow:
    """One retraining cycle: its alert fired, the retrained version reached the stage."""

    pipeline: str
    stage: str
    episode: str
    fingerprint: str | None
    version: str | None
    fired_at: datetime
    promoted_at: datetime
    seconds: float


@dataclass
class Projection:
    """Every derived table."""

    promotions: list[PromotionRow] = field(default_factory=list)
    deployments: list[DeploymentRow] = field(default_factory=list)
    incidents: list[IncidentRow] = field(default_factory=list)
    artifacts: list[ArtifactRow] = field(default_factory=list)
    gates: list[GateRow] = field(default_factory=list)
    retrain_cycles: list[RetrainCycleRow] = field(default_factory=list)


@dataclass(frozen=True)
class LedgerConfig:
    """What the projection reads from the pipelines config."""

    targets: dict[tuple[str, str], frozenset[str]]
    images: dict[str, tuple[str, ...]]
    stages: tuple[tuple[str, str], ...] = ()
    # Stages whose GitOps repository is on GitLab: their promotions are merge requests.
    on_gitlab: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def of(cls, pipelines: Iterable[Pipeline]) -> LedgerConfig:
        """From the configured pipelines."""
        targets: dict[tuple[str, str], frozenset[str]] = {}
        images: dict[str, list[str]] = defaultdict(list)
        on_gitlab: set[tuple[str, str]] = set()
        for pipeline in pipelines:
            for stage in pipeline.stages:
                targets[(pipeline.name, stage.name)] = frozenset(stage.deploy_targets)
                if stage.forge is ForgeKind.GITLAB:
                    on_gitlab.add((pipeline.name, stage.name))
            if pipeline.image is not None:
                images[pipeline.image.repository].append(pipeline.name)
        return cls(
            targets,
            {repo: tuple(names) for repo, names in images.items()},
            tuple(targets),
            frozenset(on_gitlab),
        )

    def change_reference(self, pipeline: str, stage: str, number: int) -> str:
        """A stage's promotion as its forge writes it: `!12` on GitLab, `#12` on GitHub."""
        return f"{'!' if (pipeline, stage) in self.on_gitlab else '#'}{number}"


def _ordered(facts: Iterable[Fact]) -> list[Fact]:
    return sorted(facts, key=lambda f: (f.at, f.key))


def project(
    facts: Iterable[Fact], config: LedgerConfig, change_failure_window: float
) -> Projection:
    """Derive every table from the facts."""
    ordered = _ordered(facts)
    by_kind: dict[FactKind, list[Fact]] = defaultdict(list)
    for fact in ordered:
        by_kind[fact.kind].append(fact)
    promotions = _promotions(by_kind[FactKind.PROMOTION])
    artifacts = _artifacts(by_kind[FactKind.PROMOTION], by_kind[FactKind.ARTIFACT], config)
    deployments, incidents = _deployments(
        by_kind[FactKind.DEPLOYMENT], promotions, artifacts, config, change_failure_window
    )
    return Projection(
        promotions=sorted(promotions.values(), key=lambda p: (p.pipeline, p.stage, p.pull)),
        deployments=deployments,
        incidents=incidents,
        artifacts=sorted(artifacts.values(), key=lambda a: (a.pipeline, a.version)),
        gates=_gates(by_kind[FactKind.GATE]),
        retrain_cycles=_retrain_cycles(by_kind[FactKind.RETRAIN]),
    )


def _promotions(facts: list[Fact]) -> dict[tuple[str, str, int], PromotionRow]:
    rows: dict[tuple[str, str, int], PromotionRow] = {}
    for fact in facts:
        if fact.pipeline is None or fact.stage is None or fact.pull is None:
            continue
        key = (fact.pipeline, fact.stage, fact.pull)
        row = rows.get(key)
        if row is None:
            row = rows[key] = PromotionRow(
                fact.pipeline, fact.stage, fact.pull, fact.repo, fact.version, "open", fact.at
            )
        row.repo = row.repo or fact.repo
        if fact.status == "opened" and row.status == "open":
            row.version = fact.version or row.version
            row.head_sha = fact.data.get("head_sha") or row.head_sha
            row.url = _link(fact.data.get("url")) or row.url
            row.rollback = bool(fact.data.get("rollback")) or row.rollback
        elif fact.status == "merged":
            row.status, row.merged_at, row.merge_sha = "merged", fact.at, fact.revision
            row.version = fact.version or row.version
            row.url = row.url or _link(fact.data.get("url"))
        elif fact.status == "closed" and row.status == "open":
            row.status = "closed"
    return rows


def _link(url: object) -> str | None:
    """Only web links reach the board (a `javascript:` URL in a payload must not)."""
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def _artifacts(
    promotions: list[Fact], pushes: list[Fact], config: LedgerConfig
) -> dict[tuple[str, str], ArtifactRow]:
    rows: dict[tuple[str, str], ArtifactRow] = {}

    def seen(
        pipeline: str, version: str, created: datetime | None, trained: datetime | None
    ) -> None:
        row = rows.setdefault((pipeline, version), ArtifactRow(pipeline, version, None, None))
        if created is not None and (row.created_at is None or created < row.created_at):
            row.created_at = created
        if trained is not None and (row.trained_at is None or trained < row.trained_at):
            row.trained_at = trained

    for fact in promotions:
        if fact.pipeline is None or fact.version is None or fact.status != "opened":
            continue
        created = fact.data.get("artifact_created_at")
        trained = fact.data.get("trained_at")
        seen(
            fact.pipeline,
            fact.version,
            parse_time(created, fact.at) if created else None,
            parse_time(trained, fact.at) if trained else None,
        )
    for fact in pushes:
        for pipeline in config.images.get(str(fact.data.get("image")), ()):
            if fact.version is not None:
                seen(pipeline, fact.version, fact.at, None)
    return rows


def _deployments(
    facts: list[Fact],
    promotions: dict[tuple[str, str, int], PromotionRow],
    artifacts: dict[tuple[str, str], ArtifactRow],
    config: LedgerConfig,
    window: float,
) -> tuple[list[DeploymentRow], list[IncidentRow]]:
    merged: dict[str, list[PromotionRow]] = defaultdict(list)
    for promotion in promotions.values():
        if promotion.merge_sha:
            merged[promotion.merge_sha].append(promotion)
    rows: dict[tuple[str, str, str], DeploymentRow] = {}
    timelines: dict[tuple[str, str], list[tuple[Fact, DeploymentRow]]] = defaultdict(list)
    for fact in facts:
        for promotion in merged.get(fact.revision or "", []):
            if fact.repo and promotion.repo and fact.repo.lower() != promotion.repo.lower():
                continue
            wanted = config.targets.get((promotion.pipeline, promotion.stage), frozenset())
            if wanted and fact.target not in wanted:
                continue
            key = (promotion.pipeline, promotion.stage, promotion.merge_sha or "")
            row = rows.get(key)
            if row is None:
                row = rows[key] = DeploymentRow(
                    promotion.pipeline,
                    promotion.stage,
                    key[2],
                    promotion.version,
                    promotion.pull,
                    DeployStatus.STARTED.value,
                    "",
                    "",
                    rollback=promotion.rollback,
                )
            row.sources = _add(row.sources, fact.source)
            row.targets = _add(row.targets, fact.target)
            timelines[(promotion.pipeline, promotion.stage)].append((fact, row))
    incidents: list[IncidentRow] = []
    for (pipeline, stage), timeline in sorted(timelines.items()):
        incidents += _walk(pipeline, stage, timeline, promotions, window)
    for row in rows.values():
        artifact = artifacts.get((row.pipeline, row.version or ""))
        if row.succeeded_at is not None and artifact is not None and artifact.created_at:
            row.lead_time_seconds = (row.succeeded_at - artifact.created_at).total_seconds()
    ordered = sorted(rows.values(), key=lambda r: (r.pipeline, r.stage, _first(r), r.revision))
    return ordered, incidents


def _first(row: DeploymentRow) -> datetime:
    return row.succeeded_at or row.started_at or datetime.max.replace(tzinfo=UTC)


def _add(listed: str, value: str | None) -> str:
    items = set(filter(None, listed.split(","))) | ({value} if value else set())
    return ",".join(sorted(items))


def _walk(
    pipeline: str,
    stage: str,
    timeline: list[tuple[Fact, DeploymentRow]],
    promotions: dict[tuple[str, str, int], PromotionRow],
    window: float,
) -> list[IncidentRow]:
    """One stage's deployment events in time order: successes, incidents, rollbacks."""
    incidents: list[IncidentRow] = []
    current: DeploymentRow | None = None
    incident: IncidentRow | None = None
    limit = timedelta(seconds=window)
    for fact, row in timeline:
        if fact.status == DeployStatus.STARTED.value:
            row.started_at = min(row.started_at or fact.at, fact.at)
        elif fact.status == DeployStatus.SUCCEEDED.value:
            if row.succeeded_at is None:
                row.succeeded_at = fact.at
                row.started_at = min(row.started_at or fact.at, fact.at)
            row.status = DeployStatus.SUCCEEDED.value
            if incident is not None:
                incident.closed_at, incident.restored_by = fact.at, row.revision
                incident = None
            if current is not None and current is not row and row.rollback:
                current.status = "rolled_back"
            current = row
        else:
            row.status = fact.status
            if row.succeeded_at is not None and fact.at - row.succeeded_at <= limit:
                row.change_failure = True
            if incident is None:
                incident = IncidentRow(pipeline, stage, fact.at, row.revision, fact.status)
                incidents.append(incident)
    # A `/rollback` PR opened while a deployment ran, within the window, marks it a failure.
    successes = [row for _, row in timeline if row.succeeded_at is not None]
    for promotion in promotions.values():
        if promotion.pipeline != pipeline or promotion.stage != stage or not promotion.rollback:
            continue
        running = [r for r in successes if r.succeeded_at and r.succeeded_at <= promotion.opened_at]
        if running:
            last = max(running, key=lambda r: r.succeeded_at or promotion.opened_at)
            if last.succeeded_at and promotion.opened_at - last.succeeded_at <= limit:
                last.change_failure = True
    return incidents


def _gates(facts: list[Fact]) -> list[GateRow]:
    rows: dict[tuple[str, str, str], GateRow] = {}
    for fact in facts:
        if fact.pipeline is None or fact.stage is None or fact.revision is None:
            continue
        rows[(fact.pipeline, fact.stage, fact.revision)] = GateRow(
            fact.pipeline, fact.stage, fact.revision, fact.version, fact.status, fact.at
        )
    return sorted(rows.values(), key=lambda g: (g.pipeline, g.stage, g.at, g.head_sha))


def _retrain_cycles(facts: list[Fact]) -> list[RetrainCycleRow]:
    """One row per pipeline's alert episode: the first promotion that closed it counts."""
    rows: dict[tuple[str, str], RetrainCycleRow] = {}
    for fact in facts:
        episode = fact.data.get("episode")
        if fact.pipeline is None or fact.stage is None or not isinstance(episode, str):
            continue
        if (fact.pipeline, episode) in rows:
            continue
        fired = parse_time(fact.data.get("fired_at"), fact.at)
        rows[(fact.pipeline, episode)] = RetrainCycleRow(
            fact.pipeline,
            fact.stage,
            episode,
            fact.data.get("fingerprint"),
            fact.version,
            fired,
            fact.at,
            (fact.at - fired).total_seconds(),
        )
    return sorted(rows.values(), key=lambda r: (r.pipeline, r.stage, r.promoted_at, r.episode))
