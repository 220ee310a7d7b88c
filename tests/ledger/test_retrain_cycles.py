"""Retraining cycles in the ledger: alert fired → retrained version promoted, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest

from bot.ledger.collector import LedgerCollector
from bot.ledger.facts import Fact, facts_from_audit
from bot.ledger.metrics import stage_metrics
from bot.ledger.project import LedgerConfig
from bot.ledger.report import ledger_report, metrics_table
from bot.ledger.store import LedgerStore
from schemas.audit import AuditRecord
from schemas.pipelines import Pipeline
from tests.ledger.timeline import AT, story

WINDOW = 24 * 3600
FIRED = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
# Two cycles: 1 h 0 m 7 s and 2 h 30 m 0 s; nearest-rank p50 of two is the shorter one.
FIRST, SECOND = 3607.0, 9000.0


def _config() -> LedgerConfig:
    write = {"kind": "yaml", "file": "isvc.yaml", "path": "spec.x", "value": "{version}"}
    pipeline = Pipeline.model_validate(
        {
            "name": "churn",
            "model": {"name": "churn"},
            "stages": [
                {"name": "staging", "repo": "acme/gitops", "writes": [write]},
                {"name": "prod", "repo": "acme/gitops", "writes": [write], "auto": False},
            ],
        }
    )
    return LedgerConfig.of([pipeline])


def cycle_record(episode: str, fired: datetime, seconds: float, version: str) -> AuditRecord:
    """What bot/evaluation/cycle.py audits when a retrained version reaches staging."""
    promoted = fired + timedelta(seconds=seconds)
    return AuditRecord(
        id=f"retrain-cycle:churn:{episode}",
        # The audit is written after the promotion; the cycle's time is `promoted_at`.
        at=promoted + timedelta(seconds=42),
        delivery_id=f"delivery-{episode}",
        actor="ferrybot",
        action="retrain.cycle_completed",
        subject="pipeline/churn/staging",
        from_value="1",
        to_value=version,
        reason=f"ChurnDrift fired at {fired.isoformat()}; {version} reached staging",
        details={
            "pipeline": "churn",
            "stage": "staging",
            "alert": "ChurnDrift",
            "fingerprint": f"fp-{episode}",
            "fired_at": fired.isoformat(),
            "dispatched_at": (fired + timedelta(seconds=5)).isoformat(),
            "promoted_at": promoted.isoformat(),
            "cycle_seconds": seconds,
            "episode": episode,
        },
    )


def cycles() -> list[Fact]:
    """The two completed cycles as the ledger reads them from the audit topic."""
    records = [
        cycle_record("ep-1", FIRED, FIRST, "3"),
        cycle_record("ep-2", FIRED + timedelta(hours=1), SECOND, "4"),
    ]
    return [fact for record in records for fact in facts_from_audit(record)]


async def _store(url: str) -> LedgerStore:
    store = LedgerStore(url, _config(), WINDOW)
    await store.open()
    return store


def test_cycle_fact_is_timed_by_the_promotion() -> None:
    """The fact's time is `promoted_at` (not the audit's), keyed by the audit id."""
    [fact] = facts_from_audit(cycle_record("ep-1", FIRED, FIRST, "3"))
    assert (fact.key, fact.kind.value, fact.pipeline, fact.stage, fact.version) == (
        "retrain-cycle:churn:ep-1",
        "retrain",
        "churn",
        "staging",
        "3",
    )
    assert fact.at == FIRED + timedelta(seconds=FIRST)
    assert fact.data["fingerprint"] == "fp-ep-1"


def test_a_cycle_without_its_times_tells_nothing() -> None:
    """A record missing `fired_at` or with `promoted_at` before it adds no fact."""
    record = cycle_record("ep-1", FIRED, FIRST, "3")
    missing = record.model_copy(update={"details": {**record.details, "fired_at": None}})
    backwards = record.model_copy(
        update={
            "details": {
                **record.details,
                "promoted_at": FIRED.isoformat(),
                "fired_at": (FIRED + timedelta(seconds=1)).isoformat(),
            }
        }
    )
    assert facts_from_audit(missing) == [] and facts_from_audit(backwards) == []


async def test_two_cycles_give_the_p50_to_the_second(ledger_url: str) -> None:
    """Two completed cycles: rows exact, the staging p50 and count right, prod has none."""
    store = await _store(ledger_url)
    try:
        assert await store.apply(story() + cycles()) == 12
        projection = await store.projection()
        report = await ledger_report(store, AT)
    finally:
        await store.close()
    assert [
        (c.episode, c.version, c.seconds, c.fingerprint) for c in projection.retrain_cycles
    ] == [
        ("ep-1", "3", FIRST, "fp-ep-1"),
        ("ep-2", "4", SECOND, "fp-ep-2"),
    ]
    assert projection.retrain_cycles[0].fired_at == FIRED
    staging, prod = stage_metrics(projection, [("churn", "staging"), ("churn", "prod")], AT, 30)
    assert (staging.retraining_cycle_p50_seconds, staging.retraining_cycles) == (FIRST, 2)
    assert (prod.retraining_cycle_p50_seconds, prod.retraining_cycles) == (None, 0)
    table = metrics_table(report)
    assert "retrain p50" in table.splitlines()[1]
    assert "1h 0m" in table.splitlines()[3], "staging's row shows the cycle p50"


async def test_cycles_outside_the_window_are_left_out(ledger_url: str) -> None:
    """A cycle promoted before the window starts counts for nothing."""
    store = await _store(ledger_url)
    try:
        await store.apply(cycles())
        projection = await store.projection()
    finally:
        await store.close()
    later = FIRED + timedelta(days=1, hours=2)
    [staging] = stage_metrics(projection, [("churn", "staging")], later, 1)
    assert (staging.retraining_cycle_p50_seconds, staging.retraining_cycles) == (SECOND, 1)


async def test_the_same_cycle_twice_changes_nothing(ledger_url: str) -> None:
    """The same audit record again (a crash re-audits under the same id) adds nothing."""
    store = await _store(ledger_url)
    try:
        await store.apply(cycles())
        before = await store.dump()
        assert await store.apply(cycles()) == 0
        assert await store.apply(cycles()[:1]) == 0
        assert await store.dump() == before
        assert len(before["ledger_retrain_cycles"]) == 2
    finally:
        await store.close()


async def test_rebuild_gives_the_same_cycles(ledger_urls: tuple[str, str]) -> None:
    """Facts one by one in reverse, or replaced whole, give the live ledger's tables."""
    live, rebuilt = await _store(ledger_urls[0]), await _store(ledger_urls[1])
    try:
        await live.apply(story() + cycles())
        for fact in reversed(story() + cycles()):
            await rebuilt.apply([fact])
        assert await rebuilt.dump() == await live.dump()
        await rebuilt.replace(story() + cycles())
        assert await rebuilt.dump() == await live.dump()
    finally:
        await live.close()
        await rebuilt.close()


async def test_the_gauge_exports_the_cycle_p50(ledger_url: str) -> None:
    """`ferrybot_ledger_retraining_cycle_p50_seconds{pipeline,stage}` carries the median."""
    store = await _store(ledger_url)
    try:
        await store.apply(cycles())
        collector = LedgerCollector(store)
        await collector.refresh(AT)
    finally:
        await store.close()
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    expected = (
        f'ferrybot_ledger_retraining_cycle_p50_seconds{{pipeline="churn",stage="staging"}} {FIRST}'
    )
    assert expected in text
