"""Ingress benchmark: signed webhooks per second and latency to a 202, on the embedded broker."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import time
import uuid
from pathlib import Path

import aiohttp

from bot.pipeline.broker import EmbeddedBroker, free_port
from bot.pipeline.runtime import Components, serve
from bot.settings import load_settings
from bot.signatures import sign_github

SECRET = "bench-secret-0123456789"
SAMPLE = (
    Path(__file__).resolve().parent.parent / "tests/data/github/webhooks/pull_request.opened.0.json"
)


async def _fire(url: str, body: bytes, count: int, concurrency: int) -> list[float]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)
    signature = sign_github(body, SECRET)

    async def client(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            queue.get_nowait()
            headers = {
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": signature,
                "Content-Type": "application/json",
            }
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 202:
                    raise RuntimeError(f"unexpected {response.status}")
            latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    return latencies


async def main(count: int, concurrency: int) -> None:
    broker = EmbeddedBroker()
    await broker.start()
    port = free_port()
    settings = load_settings(
        kafka_bootstrap_servers=broker.bootstrap_servers,
        kafka_enable_idempotence=False,
        github_webhook_secrets=SECRET,
        http_port=port,
        log_level="warning",
    )
    stop, started = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(
        serve(
            settings,
            Components(ingress=True, worker=False, notifier=False),
            stop=stop,
            started=started,
        )
    )
    await started.wait()
    body = SAMPLE.read_bytes()
    url = f"http://127.0.0.1:{port}/webhooks/github"
    await _fire(url, body, 200, concurrency)  # warm-up: connections, metadata, topic leaders
    began = time.perf_counter()
    latencies = await _fire(url, body, count, concurrency)
    elapsed = time.perf_counter() - began
    stop.set()
    await task
    await broker.stop()
    ordered = sorted(latencies)
    result = {
        "events": count,
        "concurrency": concurrency,
        "body_bytes": len(body),
        "events_per_second": round(count / elapsed, 1),
        "latency_ms_p50": round(statistics.median(ordered) * 1000, 2),
        "latency_ms_p99": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.concurrency))
