"""Consumer lag per partition: end offset minus what the group committed, exactly."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import REGISTRY

from bot.metrics.monitor import BrokerMonitor
from bot.pipeline.bus import EventProducer, client_params, ensure_topics
from tests.support.broker import bus_settings

LAG = "ferrybot_consumer_lag_messages"


def _lag(group: str, topic: str, partition: int) -> float | None:
    labels = {"group": group, "topic": topic, "partition": str(partition)}
    return REGISTRY.get_sample_value(LAG, labels)


async def test_lag_counts_what_the_group_has_not_committed(kafka_bootstrap: str) -> None:
    """Nothing committed: every message is lag; after committing 3 of one partition, 3 fewer."""
    settings = bus_settings(kafka_bootstrap, kafka_partitions=2)
    topic, group = settings.topic_events, settings.kafka_consumer_group
    await ensure_topics(settings, kafka_bootstrap)
    producer = EventProducer(settings, kafka_bootstrap)
    await producer.start()
    monitor = BrokerMonitor(settings, kafka_bootstrap, producer, {group: topic})
    await monitor.start()
    member = AIOKafkaConsumer(
        **client_params(settings, kafka_bootstrap), group_id=group, enable_auto_commit=False
    )
    await member.start()
    try:
        for n in range(5):
            await producer.send(topic, "same-key", f"m{n}".encode())
        await producer.send(topic, "another-key-7", b"x")
        await monitor.poll()
        per_partition = [_lag(group, topic, p) for p in (0, 1)]
        assert sum(v or 0 for v in per_partition) == 6
        busy = max((0, 1), key=lambda p: per_partition[p] or 0)
        member.assign([TopicPartition(topic, busy)])
        await member.commit({TopicPartition(topic, busy): 3})
        await monitor.poll()
        assert _lag(group, topic, busy) == (per_partition[busy] or 0) - 3
        assert REGISTRY.get_sample_value("ferrybot_broker_reachable") == 1
    finally:
        await member.stop()
        monitor.stop()
        await monitor.run()
        await producer.stop()
