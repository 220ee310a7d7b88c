"""Read a running bot's /metrics over HTTP, as Prometheus does, and look samples up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

Series = tuple[str, tuple[tuple[str, str], ...]]


async def scrape(url: str) -> str:
    """The text of `GET url` (a /metrics endpoint), checking it answered 200 in text format."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/plain")
        return await response.text()


def samples(text: str) -> dict[Series, float]:
    """Every ferrybot sample: (name, sorted labels) → value."""
    found: dict[Series, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("ferrybot_"):
                found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when none)."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples(text).items() if n == name and wanted <= set(have))


def exposed_names(text: str) -> set[str]:
    """Names a query can use: counters as `_total`, histograms as `_bucket`/`_count`/`_sum`."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names.update(f"{family.name}{suffix}" for suffix in ("_bucket", "_count", "_sum"))
        else:
            names.add(family.name)
    return names


def metrics_url(host: str, port: int) -> str:
    """The /metrics URL of a listener."""
    return f"http://{host}:{port}/metrics"


async def scrape_until(
    url: str, check: Callable[[str], bool], within: float = 30.0, what: str = ""
) -> str:
    """Scrape `url` until `check(text)` holds; the text that passed."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        text = await scrape(url)
        if check(text):
            return text
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {within}s: {what or check}")
        await asyncio.sleep(0.1)


def grown(before: str, name: str, by: float = 1, **labels: str) -> Callable[[str], bool]:
    """A check for scrape_until: `name` (with `labels`) has grown by `by` since `before`."""
    return lambda text: value(text, name, **labels) - value(before, name, **labels) >= by
