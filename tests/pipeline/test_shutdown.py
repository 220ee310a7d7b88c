"""`ferrybot run` stopped by SIGTERM or Ctrl-C: nothing accepted is lost, the stop is ordered."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer

from bot.cli.send import SendResult, send_github
from bot.pipeline.broker import free_port
from bot.pipeline.bus import close_quietly, consumer_params, fetch_unless_stopped
from bot.pipeline.runtime import Components
from tests.fakegithub.server import FakeGitHub
from tests.support.bot import bot_settings, eventually, install_app, running_bot
from tests.support.broker import TansuProcess, bus_settings
from tests.support.payloads import DATA
from tests.support.processes import BotProcess, bot_env

SAMPLE = (DATA / "github" / "webhooks" / "pull_request.opened.0.json").read_bytes()
BURST = 30
# A stop with the broker gone waits out bounded broker calls (10 s each), never for good.
STOP_BOUND = 45.0
# The stop sequence, as its log lines must appear.
ORDER = [
    "runtime.stopping",
    "ingress.draining",
    "reconciler.stopped",
    "worker.stopped",
    "notifier.stopped",
    "ingress.stopped",
    "broker.stopped",
    "runtime.stopped",
]


async def _run(tmp_path: Path, name: str, **settings: object) -> tuple[BotProcess, str]:
    port = free_port()
    env = bot_env(http_port=port, state_dir=tmp_path / "state", **settings)
    bot = await BotProcess.start(["run"], env, tmp_path / f"{name}.log")
    await bot.logged("ingress.listening")
    return bot, f"http://127.0.0.1:{port}/webhooks/github"


async def _burst(url: str, tmp_path: Path, prefix: str, count: int = BURST) -> list[SendResult]:
    secret = (tmp_path / "state" / "webhook-secret").read_text().strip()
    return await asyncio.gather(
        *(send_github(SAMPLE, "pull_request", url, secret, f"{prefix}-{i}") for i in range(count))
    )


def _handled(bot: BotProcess) -> set[str]:
    return {r["delivery"] for r in bot.records() if r.get("message") == "event.handled"}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers signal 0; it is gone as far as the broker goes.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


async def test_sigterm_during_a_burst_handles_every_accepted_delivery(tmp_path: Path) -> None:
    """30 deliveries answered 202, SIGTERM at once: all 30 are handled before exit 0, and a
    delivery arriving while the worker drains gets 503 (as does /readyz) and is not taken."""
    bot, url = await _run(tmp_path, "run")
    try:
        answers = await _burst(url, tmp_path, "burst")
        assert [a.status for a in answers] == [202] * BURST
        bot.process.send_signal(signal.SIGTERM)
        await bot.logged("ingress.draining")
        late = (await _burst(url, tmp_path, "late", count=1))[0]
        assert bot.process.returncode is None, "stopped before the late delivery could be tried"
        assert late.status == 503
        async with aiohttp.ClientSession() as session:
            async with session.get(url.replace("/webhooks/github", "/readyz")) as ready:
                assert ready.status == 503
        assert await asyncio.wait_for(bot.process.wait(), 90) == 0
    finally:
        await bot.kill()
    assert _handled(bot) == {f"burst-{i}" for i in range(BURST)}
    assert "worker.drained" in bot.messages()
    assert not (tmp_path / "state" / "spool.jsonl").exists()
    assert not (tmp_path / "state" / "broker.json").exists()


async def test_what_the_drain_bound_leaves_is_spooled_and_handled_at_next_start(
    tmp_path: Path,
) -> None:
    """With no time to drain, the accepted burst goes to the spool file; the next start produces
    it again, handles every delivery and removes the file."""
    first, url = await _run(tmp_path, "first", shutdown_drain_seconds=0)
    try:
        answers = await _burst(url, tmp_path, "spooled")
        assert [a.status for a in answers] == [202] * BURST
        assert await first.stop() == 0
    finally:
        await first.kill()
    spool = tmp_path / "state" / "spool.jsonl"
    written = next(r for r in first.records() if r.get("message") == "spool.written")
    left = {f"spooled-{i}" for i in range(BURST)} - _handled(first)
    assert left, "the worker handled everything before the stop; nothing was left to spool"
    assert spool.exists() and written["records"] >= len(left)

    second, _ = await _run(tmp_path, "second")
    try:
        restored = await second.logged("spool.restored")
        assert restored["records"] == written["records"]
        assert not spool.exists()

        await eventually(lambda: left <= _handled(second), within=60, what="spool handled")
        assert await second.stop() == 0
    finally:
        await second.kill()
    assert "Traceback" not in first.text() + second.text()


@pytest.mark.parametrize("how", ["sigterm", "ctrl-c"], ids=["sigterm", "ctrl-c-to-group"])
async def test_stop_is_clean_and_ordered(tmp_path: Path, how: str) -> None:
    """SIGTERM to the process and SIGINT to its whole process group both give the same ordered
    stop, exit 0, no traceback and no broker errors, and leave no broker behind."""
    bot, url = await _run(tmp_path, how)
    try:
        await bot.logged("partitions.assigned")
        assert [a.status for a in await _burst(url, tmp_path, how, count=3)] == [202] * 3
        broker_pid = (await bot.logged("broker.started"))["pid"]
        if how == "sigterm":
            code = await bot.stop(signal.SIGTERM)
        else:
            code = await bot.interrupt_group()
    finally:
        await bot.kill()
    text = bot.text()
    assert code == 0, text[-3000:]
    assert "Traceback" not in text
    assert "kafka.broker_lost" not in bot.messages()
    messages = bot.messages()
    assert [m for m in messages if m in ORDER] == ORDER
    assert not _pid_alive(broker_pid)


async def test_embedded_run_says_once_what_a_crash_would_lose(tmp_path: Path) -> None:
    """The embedded run logs, once at start, that its broker keeps nothing across a crash."""
    bot, _ = await _run(tmp_path, "announce")
    try:
        line = await bot.logged("broker.memory_only")
        assert "crash" in line and "loses every event not yet handled" in line["crash"]
        assert "spool.jsonl" in line["clean_stop"]
        assert await bot.stop() == 0
    finally:
        await bot.kill()
    assert bot.messages().count("broker.memory_only") == 1


async def test_a_killed_run_takes_its_broker_with_it(tmp_path: Path) -> None:
    """The broker lives in its own process group, yet dies with a `ferrybot run` killed -9."""
    bot, _ = await _run(tmp_path, "killed")
    broker_pid = (await bot.logged("broker.started"))["pid"]
    bot.process.kill()
    await bot.process.wait()

    await eventually(lambda: not _pid_alive(broker_pid), within=10, what="broker gone")


async def test_stop_after_the_broker_died_exits_cleanly(tmp_path: Path) -> None:
    """The broker child already gone when the stop comes: exit 0, one broker_lost line, no
    traceback (no ProcessLookupError)."""
    bot, _ = await _run(tmp_path, "orphaned", shutdown_drain_seconds=2)
    try:
        await bot.logged("partitions.assigned")
        broker_pid = (await bot.logged("broker.started"))["pid"]
        os.kill(broker_pid, signal.SIGKILL)
        await bot.logged("kafka.broker_lost", within=30)
        code = await bot.stop()
    finally:
        await bot.kill()
    text = bot.text()
    assert code == 0, text[-3000:]
    assert "Traceback" not in text and "ProcessLookupError" not in text
    assert "broker.already_exited" in bot.messages()
    assert bot.messages().count("kafka.broker_lost") == 1


async def test_a_stop_while_the_groups_are_still_joining_a_lost_broker_ends(
    fake_github: FakeGitHub, own_broker: TansuProcess, tmp_path: Path
) -> None:
    """The broker lost before the worker, notifier and ledger groups got their partitions:
    aiokafka's fetch then waits for an assignment that never comes, yet the stop ends."""
    app = install_app(fake_github)
    settings = bot_settings(own_broker.bootstrap_servers, fake_github, app, tmp_path)
    parts = Components(ingress=False, reconciler=False)
    async with running_bot(settings, parts, stop_within=STOP_BOUND):
        # Tansu takes seconds to answer a first JoinGroup; all three are waiting on it.
        own_broker.stop()
        await asyncio.sleep(1)


async def test_a_fetch_waiting_on_a_lost_group_yields_to_the_stop(
    own_broker: TansuProcess,
) -> None:
    """The trap itself: getmany mid-rebalance waits for good; `fetch_unless_stopped` gives
    it up (empty) as soon as the stop comes, and the consumer still closes."""
    settings = bus_settings(own_broker.bootstrap_servers)
    consumer = AIOKafkaConsumer(
        **consumer_params(settings, own_broker.bootstrap_servers),
        group_id=settings.kafka_consumer_group,
    )
    await consumer.start()
    try:
        consumer.subscribe([settings.topic_events])
        own_broker.stop()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(consumer.getmany(timeout_ms=200), 5)
        stopping = asyncio.Event()
        asyncio.get_running_loop().call_later(0.5, stopping.set)
        fetch = fetch_unless_stopped(consumer, stopping, timeout_ms=200, max_records=10)
        assert await asyncio.wait_for(fetch, STOP_BOUND) == {}
    finally:
        await close_quietly(consumer.stop(), 10)
