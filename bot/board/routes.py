"""`/board` (HTML) and `/api/ledger/metrics` (JSON) on the ingress app, behind an optional token."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from itertools import groupby

import jinja2
from aiohttp import web

from bot.board.charts import bar_chart, deploys_per_day, lead_times
from bot.ledger.facts import parse_time
from bot.ledger.report import METRIC_COLUMNS, LedgerReport, duration, ledger_report, metric_cells
from bot.ledger.store import LedgerStore
from bot.settings import Settings

STORE_KEY = web.AppKey("ledger_store", LedgerStore)
BOARD_SETTINGS_KEY = web.AppKey("board_settings", Settings)
CHART_DAYS = 14

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("bot.board", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_board_routes(app: web.Application, store: LedgerStore, settings: Settings) -> None:
    """Serve the board and the JSON API from this app."""
    app[STORE_KEY] = store
    app[BOARD_SETTINGS_KEY] = settings
    app.router.add_get("/board", _guarded(board))
    app.router.add_get("/api/ledger/metrics", _guarded(metrics_api))


def _guarded(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        token = request.app[BOARD_SETTINGS_KEY].board_token
        if token is not None:
            offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            offered = offered or request.query.get("token", "")
            if not hmac.compare_digest(offered.encode(), token.get_secret_value().encode()):
                return web.json_response(
                    {"error": "the board needs its token: Authorization: Bearer <token>"},
                    status=401,
                )
        return await handler(request)

    return guarded


def _at(request: web.Request) -> datetime | None:
    """`?at=<RFC 3339>` evaluates the metrics at that time (reproducible views); default now."""
    raw = request.query.get("at")
    if raw is None:
        return None
    at = parse_time(raw, datetime.min.replace(tzinfo=UTC))
    if at == datetime.min.replace(tzinfo=UTC):
        raise web.HTTPBadRequest(text="`at` must be an RFC 3339 time, e.g. 2026-01-02T03:04:05Z")
    return at


async def _report(request: web.Request) -> LedgerReport:
    return await ledger_report(request.app[STORE_KEY], _at(request))


async def metrics_api(request: web.Request) -> web.Response:
    """The DORA and model metrics per pipeline and stage, and the open promotion PRs."""
    return web.json_response((await _report(request)).as_json())


async def board(request: web.Request) -> web.Response:
    """The board page: server-rendered, readable without JavaScript, no external asset."""
    report = await _report(request)
    deployments = report.projection.deployments
    metrics = []
    for row in report.stages:
        mine = [d for d in deployments if (d.pipeline, d.stage) == (row.pipeline, row.stage)]
        charts = (
            bar_chart(
                deploys_per_day(mine, report.at, CHART_DAYS),
                f"{row.pipeline} {row.stage}: deployments per day, last {CHART_DAYS} days",
            ),
            bar_chart(lead_times(mine), f"{row.pipeline} {row.stage}: lead time per deployment"),
        )
        metrics.append((row, metric_cells(row), charts))
    pipelines = [
        (name, list(rows)) for name, rows in groupby(report.stages, key=lambda r: r.pipeline)
    ]
    urls = {(p.pipeline, p.stage, p.pull): p.url for p in report.projection.promotions if p.url}
    html = _templates.get_template("board.html").render(
        report=report,
        pipelines=pipelines,
        metrics=metrics,
        columns=METRIC_COLUMNS,
        urls=urls,
        cfr_window=duration(request.app[STORE_KEY].change_failure_window),
    )
    return web.Response(text=html, content_type="text/html")
