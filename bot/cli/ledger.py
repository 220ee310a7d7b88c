"""`ferrybot ledger rebuild` and `ferrybot metrics`: the delivery ledger from the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime

from bot.ledger.facts import parse_time
from bot.ledger.rebuild import rebuild
from bot.ledger.report import ledger_report, ledger_store, metrics_table
from bot.settings import Settings, SettingsError


def add_ledger_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`ledger [rebuild]` and `metrics [--at T] [--json]`."""
    ledger = commands.add_parser(
        "ledger", help="only the ledger projector; `ledger rebuild` re-reads the topics"
    )
    ledger.add_argument("action", nargs="?", choices=["rebuild"], help="rebuild from the topics")
    metrics = commands.add_parser("metrics", help="print the DORA and model metrics table")
    metrics.add_argument("--at", help="evaluate at this RFC 3339 time (default: now)")
    metrics.add_argument("--json", action="store_true", help="print /api/ledger/metrics' JSON")


def run_rebuild(settings: Settings) -> int:
    """Empty the ledger and project both topics from their first offset."""
    if settings.kafka_bootstrap_servers is None:
        raise SettingsError(
            "rebuild reads the topics of a running cluster: set FERRYBOT_KAFKA_BOOTSTRAP_SERVERS "
            "(for `ferrybot run`, the embedded broker's address is in its broker.started line)"
        )
    bootstrap = settings.kafka_bootstrap_servers

    async def _run() -> int:
        store = ledger_store(settings)
        await store.open()
        try:
            return await rebuild(settings, bootstrap, store)
        finally:
            await store.close()

    facts = asyncio.run(_run())
    print(f"ledger rebuilt from {facts} facts")
    return 0


def run_metrics(settings: Settings, args: argparse.Namespace) -> int:
    """Print the table (or the JSON) the board shows."""
    never = datetime.min.replace(tzinfo=UTC)
    at = parse_time(args.at, never) if args.at else None
    if at == never:
        raise SettingsError(f"--at {args.at!r} is not an RFC 3339 time (2026-01-02T03:04:05Z)")

    async def _run() -> str:
        store = ledger_store(settings)
        await store.open()
        try:
            report = await ledger_report(store, at)
        finally:
            await store.close()
        return json.dumps(report.as_json(), indent=2) if args.json else metrics_table(report)

    print(asyncio.run(_run()))
    return 0
