"""Pytest plugin: a real Kafka-protocol broker (Tansu, or FERRYBOT_KAFKA_BOOTSTRAP_SERVERS)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.pipeline.broker import free_port, tansu_command
from bot.settings import Settings, load_settings

REAL_KAFKA_ENV = "FERRYBOT_KAFKA_BOOTSTRAP_SERVERS"


@dataclass
class TansuProcess:
    """A Tansu broker started by the tests; can be killed and restarted on the same port."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            tansu_command(self.port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"tansu did not listen on {self.bootstrap_servers}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of the suite's broker: a real Kafka if configured, else Tansu."""
    real = os.environ.get(REAL_KAFKA_ENV)
    if real:
        yield real
        return
    broker = TansuProcess(free_port())
    broker.start()
    yield broker.bootstrap_servers
    broker.stop()


@pytest.fixture
def own_broker() -> Iterator[TansuProcess]:
    """A Tansu broker for one test, which the test may stop (always embedded)."""
    broker = TansuProcess(free_port())
    broker.start()
    yield broker
    broker.stop()


def unique_topics() -> dict[str, str]:
    """Settings overrides giving one test its own topics and consumer groups."""
    tag = uuid.uuid4().hex[:10]
    return {
        "topic_events": f"t{tag}.events",
        "topic_dlq": f"t{tag}.dlq",
        "topic_notifications": f"t{tag}.notifications",
        "topic_audit": f"t{tag}.audit",
        "kafka_consumer_group": f"t{tag}.worker",
    }


def bus_settings(bootstrap: str, **overrides: object) -> Settings:
    """Settings for a test on the suite broker: own topics, fast retries, Tansu-safe producer."""
    values: dict[str, object] = {
        "kafka_bootstrap_servers": bootstrap,
        # Tansu refuses InitProducerId; a real Kafka gets the idempotent producer.
        "kafka_enable_idempotence": bool(os.environ.get(REAL_KAFKA_ENV)),
        "kafka_metadata_max_age_ms": 5000,
        "retry_max_wait_seconds": 0.2,
        # In-process workers without an ingress serve /metrics too: any free port.
        "metrics_port": 0,
        # Probot's tests turn throttling off too; tests/pipeline/test_pacer.py covers pacing.
        "github_writes_per_minute": 0,
        "github_writes_per_hour": 0,
        **unique_topics(),
    }
    values.update(overrides)
    return load_settings(**values)
