"""The board and the JSON API over HTTP (token, numbers, no script), and the Prometheus gauges."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry, generate_latest

from bot.board.routes import add_board_routes
from bot.ledger.collector import LedgerCollector
from bot.ledger.report import ledger_report, metrics_table, status_table
from bot.ledger.store import LedgerStore
from bot.settings import load_settings
from tests.ledger.samples import stamp
from tests.ledger.test_store import WINDOW, _config
from tests.ledger.timeline import AT, Expected, story

TOKEN = "board-token-0123456789"


@pytest.fixture
async def store(ledger_url: str) -> AsyncIterator[LedgerStore]:
    ledger = LedgerStore(ledger_url, _config(), WINDOW)
    await ledger.open()
    await ledger.apply(story())
    yield ledger
    await ledger.close()


@pytest.fixture
async def board(store: LedgerStore) -> AsyncIterator[TestServer]:
    app = web.Application()
    add_board_routes(app, store, load_settings(board_token=TOKEN))
    server = TestServer(app)
    await server.start_server()
    yield server
    await server.close()


async def _get(server: TestServer, path: str, token: str | None = TOKEN) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(server.make_url(path), headers=headers) as response,
    ):
        return response.status, await response.text()


async def test_board_and_api_need_the_token(board: TestServer) -> None:
    """No token or a wrong one → 401 on both; the right one (header or ?token=) → 200."""
    for path in ("/board", "/api/ledger/metrics"):
        assert (await _get(board, path, token=None))[0] == 401
        assert (await _get(board, path, token="wrong"))[0] == 401
        assert (await _get(board, path))[0] == 200
    assert (await _get(board, f"/board?token={TOKEN}", token=None))[0] == 200


async def test_api_gives_the_story_numbers(board: TestServer) -> None:
    """/api/ledger/metrics?at=… has the stage's figures and what runs there now."""
    status, text = await _get(board, f"/api/ledger/metrics?at={stamp(AT)}")
    assert status == 200
    body = json.loads(text)
    staging = next(s for s in body["stages"] if s["stage"] == "staging")
    assert staging["now"] == {
        "version": "1",
        "since": "2026-11-30T09:55:00+00:00",
        "health": "healthy",
        "pull": 6,
        "revision": "1" * 40,
    }
    assert staging["change_failure_rate"] == 0.5
    assert staging["time_to_restore_p50_seconds"] == Expected.restore
    assert staging["lead_time_p50_seconds"] == Expected.lead_v2
    assert body["open_promotions"] == []
    assert (await _get(board, "/api/ledger/metrics?at=yesterday"))[0] == 400


async def test_board_html_is_self_contained(board: TestServer) -> None:
    """Server-rendered: the numbers are in the HTML, no script, no external asset, inline SVG."""
    status, html = await _get(board, f"/board?at={stamp(AT)}")
    assert status == 200
    assert "<script" not in html.lower()
    assert not re.search(r'\b(src|href)="(?!https://github\.com/acme/gitops/pull/)', html)
    assert html.count("<svg") == 4  # two charts for each of staging and prod
    for text in ("churn", "staging", "prod", "50%", "15m 0s", "12m 0s", "healthy"):
        assert text in html
    assert TOKEN not in html


async def test_prometheus_gauges_read_the_store(store: LedgerStore) -> None:
    """The custom Collector exports the figures labelled by pipeline and stage."""
    collector = LedgerCollector(store)
    await collector.refresh(AT)
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    assert 'ferrybot_ledger_change_failure_rate{pipeline="churn",stage="staging"} 0.5' in text
    assert (
        'ferrybot_ledger_time_to_restore_p50_seconds{pipeline="churn",stage="staging"} 900.0'
        in text
    )
    assert 'ferrybot_ledger_deployments{pipeline="churn",stage="prod"} 0.0' in text
    assert 'lead_time_p50_seconds{pipeline="churn",stage="prod"}' not in text


async def test_terminal_table_and_status_reply(store: LedgerStore) -> None:
    """`ferrybot metrics` and `/status` say the same things as the board."""
    report = await ledger_report(store, AT)
    table = metrics_table(report)
    assert "window: 30 days to 2026-11-30T12:00:00+00:00" in table
    staging = next(line for line in table.splitlines() if line.startswith("churn     staging"))
    assert staging.split() == [
        "churn",
        "staging",
        "1",
        "healthy",
        "2",
        "0.0667",
        "12m",
        "0s",
        "1d",
        "0h",
        "50%",
        "15m",
        "0s",
        "1d",
        "4h",
        "—",
        "100%",
        "—",
    ]
    reply = status_table(report, ["churn"])
    assert reply is not None
    assert "| churn | staging | 1 | 2026-11-30 09:55:00 UTC | healthy | #6 | — |" in reply
    assert "| churn | prod | — | — | unknown | — | — |" in reply


async def test_a_gitlab_stage_names_its_merge_requests(ledger_url: str) -> None:
    """A stage on GitLab shows its promotions as `!N` on the board and in `/status`."""
    ledger = LedgerStore(ledger_url, _config(forge="gitlab", repo="acme/deploy/gitops"), WINDOW)
    await ledger.open()
    try:
        await ledger.apply(story())
        report = await ledger_report(ledger, AT)
        reply = status_table(report, ["churn"])
        assert reply is not None
        assert "| churn | staging | 1 | 2026-11-30 09:55:00 UTC | healthy | !6 | — |" in reply
        app = web.Application()
        add_board_routes(app, ledger, load_settings())
        server = TestServer(app)
        await server.start_server()
        try:
            status, html = await _get(server, f"/board?at={stamp(AT)}", token=None)
        finally:
            await server.close()
        assert status == 200
        assert re.search(r"by (<a [^>]*>)?!6<", html)
        assert "#6" not in html
    finally:
        await ledger.close()
