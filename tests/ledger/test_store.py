"""The ledger store on SQLite and PostgreSQL: the story's numbers, duplicates, order, rebuild."""

from __future__ import annotations

import asyncio

import pytest

from bot.ledger.metrics import stage_metrics
from bot.ledger.project import LedgerConfig
from bot.ledger.store import LedgerStore
from schemas.pipelines import Pipeline
from tests.ledger.timeline import AT, S1, S2, Expected, story

WINDOW = 24 * 3600


def _config(**staging: object) -> LedgerConfig:
    write = {"kind": "yaml", "file": "isvc.yaml", "path": "spec.x", "value": "{version}"}
    pipeline = Pipeline.model_validate(
        {
            "name": "churn",
            "model": {"name": "churn"},
            "stages": [
                {"name": "staging", "repo": "acme/gitops", "writes": [write], **staging},
                {"name": "prod", "repo": "acme/gitops", "writes": [write], "auto": False},
            ],
        }
    )
    return LedgerConfig.of([pipeline])


async def _store(url: str, config: LedgerConfig | None = None) -> LedgerStore:
    store = LedgerStore(url, config or _config(), WINDOW)
    await store.open()
    return store


async def test_story_gives_lead_time_change_failure_and_restore_to_the_second(
    ledger_url: str,
) -> None:
    """v2 deployed, degraded, rolled back by /rollback to v1: every figure exact."""
    store = await _store(ledger_url)
    try:
        assert await store.apply(story()) == 10
        projection = await store.projection()
    finally:
        await store.close()
    deployments = {d.revision: d for d in projection.deployments}
    assert set(deployments) == {S1, S2}, "the untied GitHub deployment is tied to nothing"
    v2, v1 = deployments[S2], deployments[S1]
    assert (v2.version, v2.status, v2.change_failure, v2.pull) == ("2", "rolled_back", True, 5)
    assert (v1.version, v1.status, v1.change_failure, v1.rollback) == (
        "1",
        "succeeded",
        False,
        True,
    )
    assert v2.lead_time_seconds == Expected.lead_v2
    assert v1.lead_time_seconds == Expected.lead_v1
    assert v2.sources == "flux" and v1.sources == "argocd"
    [incident] = projection.incidents
    assert (incident.cause, incident.revision, incident.restored_by) == ("degraded", S2, S1)
    assert incident.restore_seconds == Expected.restore

    staging, prod = stage_metrics(projection, [("churn", "staging"), ("churn", "prod")], AT, 30)
    assert (staging.now.version, staging.now.health, staging.now.pull) == ("1", "healthy", 6)
    assert staging.deployments == 2 and staging.change_failure_rate == 0.5
    assert staging.lead_time_p50_seconds == Expected.lead_v2
    assert staging.lead_time_p90_seconds == Expected.lead_v1
    assert staging.time_to_restore_p50_seconds == Expected.restore
    assert staging.model_freshness_seconds == Expected.freshness_v1
    assert staging.gate_pass_rate == 1.0
    assert prod.now.health == "unknown" and prod.deployments == 0


async def test_a_duplicated_event_changes_nothing(ledger_url: str) -> None:
    """Applying every fact again (a redelivery, a replay) adds nothing and changes no table."""
    store = await _store(ledger_url)
    try:
        await store.apply(story())
        before = await store.dump()
        assert await store.apply(story()) == 0
        assert await store.apply(story()[3:5]) == 0
        assert await store.dump() == before
    finally:
        await store.close()


async def test_order_of_arrival_does_not_matter(ledger_urls: tuple[str, str]) -> None:
    """Facts one by one in reverse order give the same tables as all at once."""
    first, second = await _store(ledger_urls[0]), await _store(ledger_urls[1])
    try:
        await first.apply(story())
        for fact in reversed(story()):
            await second.apply([fact])
        assert await second.dump() == await first.dump()
        await second.replace(story())
        assert await second.dump() == await first.dump()
    finally:
        await first.close()
        await second.close()


async def test_deploy_targets_keep_other_objects_out(ledger_url: str) -> None:
    """With `deploy_targets`, a deployment of the same commit by another object is not counted."""
    store = await _store(ledger_url, _config(deploy_targets=["churn-staging"]))
    try:
        await store.apply(story())
        projection = await store.projection()
    finally:
        await store.close()
    # Only Argo CD's app `churn-staging` matches; Flux's Kustomization/flux-system/... does not.
    assert [(d.revision, d.targets) for d in projection.deployments] == [(S1, "churn-staging")]


@pytest.mark.parametrize("window_hours", [0.25], ids=["window shorter than degrade delay"])
async def test_change_failure_window_bounds_what_counts(
    ledger_url: str, window_hours: float
) -> None:
    """Degraded 28 minutes after succeeding, with a 15-minute window: not a change failure."""
    store = LedgerStore(ledger_url, _config(), window_hours * 3600)
    await store.open()
    try:
        facts = [f for f in story() if f.pull != 6 and f.revision != S1]
        await store.apply(facts)
        projection = await store.projection()
    finally:
        await store.close()
    [v2] = projection.deployments
    assert v2.status == "degraded" and not v2.change_failure


async def test_migrations_create_exactly_the_tables(ledger_url: str) -> None:
    """Alembic's head schema is what the code's tables declare (nothing missing, nothing extra)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.ledger.tables import metadata

    store = await _store(ledger_url)
    await store.open()  # a second start finds the schema at head and changes nothing
    await store.close()
    engine = create_async_engine(ledger_url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
    finally:
        await engine.dispose()
    assert diff == []


async def test_processes_starting_together_migrate_once(ledger_url: str) -> None:
    """Several stores opening one new database at once all end up on the same, complete schema."""
    stores = [LedgerStore(ledger_url, _config(), WINDOW) for _ in range(4)]
    try:
        await asyncio.gather(*(store.open() for store in stores))
        assert await stores[0].apply(story()) == 10
        assert await stores[3].fact_count() == 10
    finally:
        for store in stores:
            await store.close()
