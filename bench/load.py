"""Signed GitHub webhooks fired at an ingress: closed loop (throughput) or at a fixed rate."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.minigithub import INSTALLATION_ID, SAMPLE
from bench.processes import SECRET

_TEMPLATE: dict[str, Any] = json.loads(Path(SAMPLE).read_text())


def pull_request(number: int, head_sha: str, action: str = "opened", **pull: Any) -> bytes:
    """The recorded pull_request.opened example as a live event on PR `number`."""
    payload = copy.deepcopy(_TEMPLATE)
    payload["action"] = action
    payload["number"] = number
    payload["installation"] = {"id": INSTALLATION_ID}
    payload["repository"]["full_name"] = "acme/app"
    payload["repository"]["name"] = "app"
    payload["repository"]["owner"]["login"] = "acme"
    body = payload["pull_request"]
    body.update({"number": number, "title": "feat: bench", "labels": [], **pull})
    body["head"]["sha"] = head_sha
    body["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return json.dumps(payload).encode()


def headers(body: bytes, event: str = "pull_request") -> dict[str, str]:
    """What GitHub sends with a delivery, signed with the bench secret."""
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={signature}",
        "Content-Type": "application/json",
    }


def sha_for(tag: str, index: int) -> str:
    """A unique 40-hex head SHA per event, so a check run names the webhook it answers."""
    return hashlib.sha1(f"{tag}-{index}".encode()).hexdigest()


async def closed_loop(url: str, body: bytes, count: int, concurrency: int) -> dict[str, float]:
    """`count` deliveries of one body over `concurrency` connections: rate and latency."""
    latencies: list[float] = []
    remaining = iter(range(count))

    async def client(session: aiohttp.ClientSession) -> None:
        for _ in remaining:
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers(body)) as response:
                await response.read()
                if response.status != 202:
                    raise RuntimeError(f"ingress answered {response.status}")
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return {"events_per_second": count / elapsed, **percentiles(latencies)}


async def fixed_rate(
    url: str, rate: float, seconds: float, tag: str, start: int = 0
) -> dict[str, float]:
    """Open loop: one new pull request every 1/rate s; returns head SHA → time sent."""
    sent: dict[str, float] = {}
    count = int(rate * seconds)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(index: int) -> None:
            sha = sha_for(tag, index)
            body = pull_request(start + index + 1, sha)
            sent[sha] = time.perf_counter()
            async with session.post(url, data=body, headers=headers(body)) as response:
                await response.read()
                if response.status not in (200, 202):
                    raise RuntimeError(f"ingress answered {response.status}")

        began = time.perf_counter()
        tasks = []
        for index in range(count):
            delay = began + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index)))
        await asyncio.gather(*tasks)
    return sent


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds."""
    if not values:
        return {"p50_ms": float("nan"), "p99_ms": float("nan")}
    ordered = sorted(values)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(p99 * 1000, 2),
    }
