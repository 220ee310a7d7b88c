"""Writes per installation: one at a time, under 80 a minute and 500 an hour, retry-after kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import gidgethub
import pytest
import pytest_asyncio

from bot.github.pacer import WritePacer, WritePacers
from bot.github.transport import RefreshingGitHubAPI
from tests.fakegithub.server import FakeGitHub


class VirtualClock:
    """Time that passes only when someone sleeps: an hour of pacing in milliseconds."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def _most_in_any_window(starts: list[float], window: float) -> int:
    return max(sum(1 for t in starts if s <= t < s + window) for s in starts)


async def test_a_burst_stays_under_the_minute_and_hour_budgets() -> None:
    """1,000 writes at once: never two at a time, ≤ 80 in any minute, ≤ 500 in any hour."""
    clock = VirtualClock()
    pacer = WritePacer(80, 500, clock, clock.sleep)
    starts: list[float] = []
    in_flight = 0
    most_in_flight = 0

    async def write() -> None:
        nonlocal in_flight, most_in_flight
        async with pacer.write():
            in_flight += 1
            most_in_flight = max(most_in_flight, in_flight)
            starts.append(clock.now)
            await asyncio.sleep(0)  # a request in flight lets the others run
            in_flight -= 1

    await asyncio.gather(*(write() for _ in range(1000)))
    assert most_in_flight == 1
    assert _most_in_any_window(starts, 60) == 80
    assert _most_in_any_window(starts, 3600) == 500
    assert starts[79] == 0 and starts[80] == 61  # the 81st waits for the first to age out
    assert starts[999] < 2 * 3601 + 61  # and nothing waits longer than the budgets need


async def test_installations_are_paced_apart_and_zero_turns_pacing_off() -> None:
    """Each installation has its own budget; limits of 0 mean no pacer at all."""
    pacers = WritePacers(80, 500)
    assert pacers.for_installation(1) is pacers.for_installation(1)
    assert pacers.for_installation(1) is not pacers.for_installation(2)
    assert WritePacers(0, 0).for_installation(1) is None


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_retry_after_holds_every_write_of_the_installation(
    fake_github: FakeGitHub, session: aiohttp.ClientSession
) -> None:
    """403 with retry-after: 30 on a write: the next write starts 30 s later; reads do not wait."""
    fake_github.add_app(1, "ferrybot")
    fake_github.add_repo("acme", "app", files={"README.md": "# app\n"})
    fake_github.add_installation(10, 1, ["acme/app"])
    pull = fake_github.add_pull("acme", "app", head="x", title="feat: x")
    clock = VirtualClock()
    pacer = WritePacer(80, 500, clock, clock.sleep)
    gh = RefreshingGitHubAPI(
        session,
        "tests",
        token=fake_github.issue_token(10).value,
        installation="10",
        base_url=fake_github.url,
        pacer=pacer,
    )
    labels = "/repos/acme/app/issues/{number}/labels"
    fake_github.fail_next("POST", r"/labels$", 403, headers={"retry-after": "30"})
    with pytest.raises(gidgethub.BadRequest):
        await gh.post(labels, url_vars={"number": str(pull.number)}, data={"labels": ["a"]})
    await gh.getitem("/repos/acme/app")
    assert clock.now == 0  # a read is not held
    await gh.post(labels, url_vars={"number": str(pull.number)}, data={"labels": ["a"]})
    assert clock.now == 30
    assert fake_github.labels("acme", "app", pull.number) == ["a"]
