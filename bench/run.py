"""`make bench`: every figure of issue 10 from one run, alternating rounds, ratios printed.

Writes bench/results.json; `scripts/bench_table.py` turns it into the README's table.
Absolute numbers on a shared machine are noisy: the ratios within one run are what count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.load import closed_loop, fixed_rate, percentiles, pull_request, sha_for
from bench.minigithub import INSTALLATION_ID, SAMPLE, MiniGitHub
from bench.processes import (
    SECRET,
    baseline,
    cpu_seconds,
    ferrybot,
    ferrybot_env,
    free_port,
    install_probot,
    probot_env,
    process,
    rss_mb,
    wait_listening,
)
from bot.pipeline.broker import EmbeddedBroker
from bot.pipeline.bus import EventProducer, ensure_topics
from bot.pipeline.worker import LIVE_MARGIN_MS
from bot.settings import load_settings
from schemas.envelope import Envelope, Source

RESULTS = Path(__file__).resolve().parent / "results.json"
BODY = Path(SAMPLE).read_bytes()
# The check Probot runs too, and nothing else: no size labels, and no secrets check, whose
# diff read the minimal GitHub does not serve (every event's secrets check was dead-lettered).
SAME_CHECK_AS_PROBOT = "bot:\n  policy:\n    size_labels: false\n  secrets:\n    enabled: false\n"


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


async def _eventually(check: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.perf_counter() + within
    while not check():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"benchmark stuck: {what} not within {within}s")
        await asyncio.sleep(0.05)


async def ingress(rounds: int, count: int) -> dict[str, Any]:
    """ferrybot's ingress against the 40-line aiohttp + aiokafka baseline, same broker."""
    body = BODY
    broker = EmbeddedBroker()
    await broker.start()
    base_port, ferry_port = free_port(), free_port()
    rates: dict[str, list[float]] = {"baseline": [], "ferrybot": []}
    p50s: dict[str, list[float]] = {"baseline": [], "ferrybot": []}
    with tempfile.TemporaryDirectory() as state:
        env = ferrybot_env(
            "http://127.0.0.1:9",
            ferry_port,
            Path(state),
            FERRYBOT_KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers,
            FERRYBOT_KAFKA_ENABLE_IDEMPOTENCE="false",
        )
        async with (
            process(baseline(base_port, broker.bootstrap_servers)),
            process(ferrybot("ingress"), env),
        ):
            await wait_listening(base_port)
            await wait_listening(ferry_port, "/healthz")
            urls = {
                "baseline": f"http://127.0.0.1:{base_port}/webhooks/github",
                "ferrybot": f"http://127.0.0.1:{ferry_port}/webhooks/github",
            }
            for url in urls.values():
                await closed_loop(url, body, 300, 32)  # warm-up: connections, topic leaders
            for index in range(rounds):
                order = list(urls) if index % 2 == 0 else list(reversed(urls))
                for name in order:
                    measured = await closed_loop(urls[name], body, count, 32)
                    rates[name].append(measured["events_per_second"])
                    p50s[name].append(measured["p50_ms"])
    await broker.stop()
    result = {
        "body_bytes": len(body),
        "connections": 32,
        "baseline_events_per_second": _median(rates["baseline"]),
        "ferrybot_events_per_second": _median(rates["ferrybot"]),
        "baseline_p50_ms": _median(p50s["baseline"]),
        "ferrybot_p50_ms": _median(p50s["ferrybot"]),
        "rounds": rounds,
    }
    result["ratio"] = round(
        result["ferrybot_events_per_second"] / result["baseline_events_per_second"], 3
    )
    return result


def _latencies(mini: MiniGitHub, sent: dict[str, float]) -> list[float]:
    first: dict[str, float] = {}
    for request in mini.requests:
        sha = request.head_sha
        if request.method == "POST" and sha in sent and sha not in first:
            first[sha] = request.at - sent[sha]
    return list(first.values())


def _api_calls(mini: MiniGitHub) -> int:
    # Token minting (once an hour per installation) and the App identity (once per process).
    return sum(
        1
        for r in mini.requests
        if not r.path.endswith("/access_tokens") and not r.path.endswith("/app")
    )


async def end_to_end(rates: list[int], seconds: float, rounds: int) -> dict[str, Any]:
    """Webhook → check-run POST through ferrybot's durable path and through Probot 14."""
    script = install_probot()
    mini = MiniGitHub()
    await mini.start()
    host = f"127.0.0.1:{mini.port}"
    ferry_port, probot_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as state:
        config = Path(state) / "ferrybot.yaml"
        config.write_text(SAME_CHECK_AS_PROBOT)
        env = ferrybot_env(f"http://{host}/api/v3", ferry_port, Path(state) / "state")
        async with (
            process(["node", str(script)], probot_env(host, probot_port, throttle=False)),
            process(ferrybot("run", config), env),
        ):
            await wait_listening(probot_port)
            await wait_listening(ferry_port, "/healthz")
            urls = {
                "probot": f"http://127.0.0.1:{probot_port}/webhooks/github",
                "ferrybot": f"http://127.0.0.1:{ferry_port}/webhooks/github",
            }
            for name, url in urls.items():
                # Warm-up until a check run comes back (ferrybot's worker joins its group).
                sent = await fixed_rate(url, 20, 1.0, f"warm-{name}")
                await _eventually(
                    lambda sent=sent: bool(_latencies(mini, sent)), 60, f"{name} warm-up"
                )
            figures: dict[str, dict[int, dict[str, list[float]]]] = {
                name: {rate: {"p50_ms": [], "p99_ms": [], "calls": []} for rate in rates}
                for name in urls
            }
            for index in range(rounds):
                for rate in rates:
                    order = list(urls) if index % 2 == 0 else list(reversed(urls))
                    for name in order:
                        mini.reset()
                        tag = f"{name}-{rate}-{index}-{uuid.uuid4().hex[:6]}"
                        sent = await fixed_rate(urls[name], rate, seconds, tag)
                        await _eventually(
                            lambda sent=sent: len(_latencies(mini, sent)) >= len(sent),
                            60,
                            f"{name} answering every event at {rate}/s",
                        )
                        measured = percentiles(_latencies(mini, sent))
                        figures[name][rate]["p50_ms"].append(measured["p50_ms"])
                        figures[name][rate]["p99_ms"].append(measured["p99_ms"])
                        figures[name][rate]["calls"].append(_api_calls(mini) / len(sent))
    await mini.close()
    result: dict[str, Any] = {"seconds_per_round": seconds, "rounds": rounds}
    for rate in rates:
        row = {
            f"{name}_{key}": _median(values)
            for name in urls
            for key, values in figures[name][rate].items()
        }
        row["p50_ratio_to_probot"] = round(row["ferrybot_p50_ms"] / row["probot_p50_ms"], 2)
        result[f"at_{rate}_per_second"] = row
    return result


async def calls_with_size_labels(rate: int, seconds: float) -> dict[str, Any]:
    """GitHub calls per opened with the default config: size label + check, echoes counted."""
    mini = MiniGitHub()
    await mini.start()
    port = free_port()
    mini.echo_url = f"http://127.0.0.1:{port}/webhooks/github"
    mini.echo_secret = SECRET
    with tempfile.TemporaryDirectory() as state:
        env = ferrybot_env(f"{mini.url}/api/v3", port, Path(state))
        async with process(ferrybot("run"), env):
            await wait_listening(port, "/healthz")
            sent = await fixed_rate(mini.echo_url, 20, 1.0, "warm-size")
            await _eventually(lambda: bool(_latencies(mini, sent)), 60, "warm-up")
            # Events written within LIVE_MARGIN_MS of the assignment get a lookup first.
            await asyncio.sleep(LIVE_MARGIN_MS / 1000 + 0.5)
            mini.reset()
            sent = await fixed_rate(mini.echo_url, rate, seconds, "size")
            await _eventually(lambda: len(_latencies(mini, sent)) >= len(sent), 60, "checks")
            await asyncio.sleep(2.0)  # the echoes of the size labels, and what they cost
    await mini.close()
    kinds: dict[str, int] = {}
    for r in mini.requests:
        key = f"{r.method} {r.path.split('/')[-1] if r.method != 'GET' else 'read'}"
        kinds[key] = kinds.get(key, 0) + 1
    return {
        "events": len(sent),
        "calls_per_opened": round(_api_calls(mini) / len(sent), 3),
        "calls": kinds,
    }


async def _produce(settings: Any, bootstrap: str, envelopes: list[Envelope]) -> None:
    producer = EventProducer(settings, bootstrap)
    await producer.start()
    try:
        pending: set[asyncio.Task[None]] = set()
        for envelope in envelopes:
            pending.add(asyncio.create_task(producer.send_envelope(envelope)))
            if len(pending) >= 256:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


def _policy_events(prs: int, per_pr: int, tag: str) -> list[Envelope]:
    # Per PR: opened, then pushes; each event brings a new head commit, so none coalesces
    # with another and each costs its own check run (what a push-heavy day looks like).
    envelopes = []
    for step in range(per_pr):
        for number in range(1, prs + 1):
            action = "opened" if step == 0 else "synchronize"
            body = pull_request(number, sha_for(f"{tag}-{step}", number), action)
            envelopes.append(
                Envelope.with_raw_payload(
                    body,
                    json.loads(body),
                    id=f"{tag}-{number}-{step}",
                    source=Source.GITHUB,
                    event="pull_request",
                    action=action,
                    subject=f"github/acme/app#{number}",
                    installation_id=INSTALLATION_ID,
                )
            )
    return envelopes


async def drain(delay: float, prs: int, per_pr: int, paced: bool = False) -> dict[str, Any]:
    """A backlog of events for `prs` pull requests through one worker process."""
    broker = EmbeddedBroker()
    await broker.start()
    mini = MiniGitHub(delay=delay)
    await mini.start()
    tag = f"drain-{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory() as state:
        config = Path(state) / "ferrybot.yaml"
        config.write_text(SAME_CHECK_AS_PROBOT)
        extra = {
            "FERRYBOT_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "FERRYBOT_KAFKA_ENABLE_IDEMPOTENCE": "false",
        }
        if paced:
            extra |= {
                "FERRYBOT_GITHUB_WRITES_PER_MINUTE": "80",
                "FERRYBOT_GITHUB_WRITES_PER_HOUR": "500",
            }
        env = ferrybot_env(f"{mini.url}/api/v3", free_port(), Path(state), **extra)
        settings = load_settings(
            kafka_bootstrap_servers=broker.bootstrap_servers, kafka_enable_idempotence=False
        )
        await ensure_topics(settings, broker.bootstrap_servers)
        events = _policy_events(prs, per_pr, tag)
        await _produce(settings, broker.bootstrap_servers, events)
        async with process(ferrybot("worker", config), env) as worker:

            def writes() -> list[float]:
                return [
                    r.at
                    for r in mini.requests
                    if r.method in ("POST", "PATCH") and "check-runs" in r.path
                ]

            if paced:
                await _eventually(lambda: bool(writes()), 60, "first write")
                first = writes()[0]
                await asyncio.sleep(max(0.0, first + 61 - time.perf_counter()))
                stamps = writes()
                most = max(sum(1 for t in stamps if s <= t < s + 60) for s in stamps)
                result = {
                    "events": len(events),
                    "writes_in_61_s": len(stamps),
                    "most_writes_in_any_minute": most,
                }
            else:
                # CPU from the first write on: start-up (imports, group join) is not per event.
                await _eventually(lambda: bool(writes()), 120, "first write")
                cpu_before = cpu_seconds(worker.pid)
                await _eventually(lambda: len(writes()) >= len(events), 300, "drain")
                stamps = writes()
                cpu = cpu_seconds(worker.pid) - cpu_before
                result = {
                    "events": len(events),
                    "pull_requests": prs,
                    "github_delay_ms": delay * 1000,
                    "events_per_second": round(len(events) / (stamps[-1] - stamps[0]), 1),
                    "worker_cpu_ms_per_event": round(cpu * 1000 / len(events), 3),
                    "github_calls_per_event": round(_api_calls(mini) / len(events), 2),
                }
    await mini.close()
    await broker.stop()
    return result


async def broker_memory(events: int) -> dict[str, Any]:
    """The embedded broker's resident memory after `events` accepted webhooks."""
    broker = EmbeddedBroker()
    await broker.start()
    assert broker.process is not None
    settings = load_settings(
        kafka_bootstrap_servers=broker.bootstrap_servers, kafka_enable_idempotence=False
    )
    await ensure_topics(settings, broker.bootstrap_servers)
    body = BODY
    payload = json.loads(body)
    before = rss_mb(broker.process.pid)
    batch = [
        Envelope.with_raw_payload(
            body,
            payload,
            id=f"mem-{index}",
            source=Source.GITHUB,
            event="pull_request",
            action="opened",
            subject=f"github/acme/app#{index % 500}",
            installation_id=INSTALLATION_ID,
        )
        for index in range(events)
    ]
    await _produce(settings, broker.bootstrap_servers, batch)
    after = rss_mb(broker.process.pid)
    await broker.stop()
    return {
        "events": events,
        "rss_mb_before": before,
        "rss_mb_after": after,
        "kb_per_event": round((after - before) * 1024 / events, 2),
    }


async def main(quick: bool, only: list[str]) -> None:
    """Run every section, print as it goes, write the JSON."""
    scale = 0.25 if quick else 1.0
    results: dict[str, Any] = {"python": sys.version.split()[0], "quick": quick}
    sections: list[tuple[str, Callable[[], Any]]] = [
        ("ingress", lambda: ingress(3, int(3000 * scale))),
        ("end_to_end", lambda: end_to_end([200, 50], 8 * scale, 2)),
        ("calls_with_size_labels", lambda: calls_with_size_labels(50, 4)),
        ("drain_instant", lambda: drain(0.0, 200, 5)),
        ("drain_50ms", lambda: drain(0.05, 200, 5)),
        ("pacing_burst", lambda: drain(0.0, 1000, 1, paced=True)),
        ("broker_memory", lambda: broker_memory(int(100_000 * scale))),
    ]
    if RESULTS.exists() and only:
        results = {**json.loads(RESULTS.read_text()), **results}
    for name, section in sections:
        if only and name not in only:
            continue
        began = time.perf_counter()
        results[name] = await section()
        print(f"{name} ({time.perf_counter() - began:.0f} s): {json.dumps(results[name])}")
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a quarter of the events")
    parser.add_argument("--only", default="", help="comma-separated sections to run again")
    args = parser.parse_args()
    asyncio.run(main(args.quick, [name for name in args.only.split(",") if name]))
