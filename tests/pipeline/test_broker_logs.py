"""A lost broker is one log line (and a reminder), not thousands; its return is one more."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from aiokafka.errors import KafkaConnectionError
from structlog.testing import capture_logs

from bot.pipeline.bus import ensure_topics
from bot.pipeline.kafka_logs import BrokerLogGate
from tests.support.broker import TansuProcess, bus_settings
from tests.support.processes import BotProcess, bot_env

# How long the test watches a process whose broker is gone (aiokafka on main: ~50 lines/s).
WATCH_SECONDS = 6.0


async def test_broker_loss_and_return_are_one_line_each(
    own_broker: TansuProcess, tmp_path: Path
) -> None:
    """`ferrybot worker` whose broker is killed logs kafka.broker_lost once and nothing from
    aiokafka for the next seconds; the broker restarted on its port gives kafka.broker_back."""
    settings = bus_settings(own_broker.bootstrap_servers)
    await ensure_topics(settings, own_broker.bootstrap_servers)
    env = bot_env(
        kafka_bootstrap_servers=own_broker.bootstrap_servers,
        kafka_metadata_max_age_ms=5000,
        kafka_consumer_group=settings.kafka_consumer_group,
        topic_events=settings.topic_events,
        topic_dlq=settings.topic_dlq,
        topic_notifications=settings.topic_notifications,
        topic_audit=settings.topic_audit,
        state_dir=tmp_path / "state",
    )
    worker = await BotProcess.start(["worker"], env, tmp_path / "worker.log")
    try:
        await worker.logged("partitions.assigned")
        before = len(worker.text().splitlines())
        own_broker.stop()
        await worker.logged("kafka.broker_lost", within=30)
        await asyncio.sleep(WATCH_SECONDS)  # the window in which lines are counted
        after = worker.text().splitlines()[before:]
        assert worker.messages().count("kafka.broker_lost") == 1
        # Nothing else from aiokafka: neither its raw text nor forwarded records.
        assert not [line for line in after if not line.startswith("{")], after[:5]
        assert "kafka.client_said" not in worker.messages()
        assert len(after) <= 4, after

        own_broker.start()
        back = await worker.logged("kafka.broker_back", within=30)
        assert back["suppressed_lines"] >= 1
        assert await worker.stop() == 0
    finally:
        await worker.kill()
    assert "Traceback" not in worker.text()


def test_a_lost_broker_is_recalled_at_the_reminder_interval() -> None:
    """Thousands of aiokafka errors become broker_lost, one reminder per interval with the
    count it held back, and broker_back; a record unrelated to connections passes as is."""
    gate = BrokerLogGate(reminder_seconds=0.05)
    logger = logging.getLogger("aiokafka.tests.gate")
    logger.addHandler(gate)
    logger.propagate = False
    try:
        with capture_logs() as logs:
            logger.warning("Topic %s not found in cluster metadata", "x")
            for _ in range(2000):
                logger.error("Unable connect to node with id %s: %s", 1, KafkaConnectionError())
            time.sleep(0.06)
            logger.error("Unable connect to node with id %s: %s", 1, KafkaConnectionError())
            gate.recovered()
    finally:
        logger.removeHandler(gate)
    messages = [entry["event"] for entry in logs]
    assert messages == [
        "kafka.client_said",
        "kafka.broker_lost",
        "kafka.broker_still_lost",
        "kafka.broker_back",
    ]
    assert logs[2]["suppressed_lines"] == 2000
    assert not gate.lost
