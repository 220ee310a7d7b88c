"""`ferrybot ledger` as its own process: it projects what lands on the topics, and stops on TERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from bot.ledger.store import LedgerStore
from bot.pipeline.bus import EventProducer, ensure_topics
from bot.publisher import Publisher
from tests.ledger.test_store import WINDOW, _config
from tests.ledger.timeline import story_records
from tests.support.broker import bus_settings

ROOT = Path(__file__).resolve().parents[2]


async def test_ledger_alone_projects_the_topics(kafka_bootstrap: str, tmp_path: Path) -> None:
    """Audit records and deployment envelopes produced to Kafka reach the ledger's database."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    settings = bus_settings(kafka_bootstrap, database_url=url, state_dir=tmp_path)
    await ensure_topics(settings, kafka_bootstrap)
    config = tmp_path / "ferrybot.json"
    config.write_text(
        json.dumps(
            {
                "kafka_bootstrap_servers": kafka_bootstrap,
                "kafka_enable_idempotence": settings.kafka_enable_idempotence,
                "kafka_consumer_group": settings.kafka_consumer_group,
                "topic_events": settings.topic_events,
                "topic_audit": settings.topic_audit,
                "database_url": url,
                "state_dir": str(tmp_path),
                "log_format": "json",
            }
        )
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        "ledger",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if not k.startswith("FERRYBOT_")},
    )
    producer = EventProducer(settings, kafka_bootstrap)
    await producer.start()
    records, envelopes = story_records()
    try:
        publisher = Publisher(settings, producer)
        for record in records:
            await publisher.audit(record)
        for envelope in envelopes:
            await producer.send_envelope(envelope)
        store = LedgerStore(url, _config(), WINDOW)
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            if (tmp_path / "ledger.db").exists():
                await store.open()
                if await store.fact_count() == len(records) + len(envelopes):
                    break
                await store.close()
            assert asyncio.get_running_loop().time() < deadline, "not projected within 60 s"
            await asyncio.sleep(0.3)
        projection = await store.projection()
        await store.close()
    finally:
        await producer.stop()
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output.decode()[-3000:]
    assert len(projection.deployments) == 2 and len(projection.incidents) == 1
    assert b"ledger.projector_started" in output and b"ledger.projector_stopped" in output
