"""Debian's Prometheus scrapes a running `ferrybot run` under a little load; figures read back."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bot.cli.send import send_github
from bot.pipeline.broker import free_port
from tests.fakegithub.server import FakeGitHub
from tests.ops.monitoring import (
    PROMETHEUS,
    dashboard_queries,
    label_values_query,
    needs_prometheus,
    rules,
    write_rules,
)
from tests.support.bot import (
    APP_ID,
    INSTALLATION_ID,
    WEBHOOK_SECRET,
    eventually,
    install_app,
    pull_request_payload,
)

DELIVERIES = 4
CHECK_RUNS = "/repos/{owner}/{repo}/check-runs"
# Each opened PR gets two check runs created: ferrybot/policy and ferrybot/secrets.
CHECKS_PER_PR = 2


class PrometheusAPI:
    """The query API of the Prometheus under test."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self._session = session
        self._url = url

    async def get(self, path: str, **params: str) -> Any:
        async with self._session.get(f"{self._url}{path}", params=params) as response:
            body = await response.json()
        assert body["status"] == "success", body
        return body["data"]

    async def scalar(self, query: str) -> float | None:
        """The single value of an instant query, None when it has no result."""
        result = (await self.get("/api/v1/query", query=query))["result"]
        return float(result[0]["value"][1]) if result else None

    async def wait_for(self, query: str, wanted: float, within: float = 60.0) -> None:
        """Poll until the query's value is `wanted`."""
        deadline = asyncio.get_running_loop().time() + within
        while (got := await self.scalar(query)) != wanted:
            assert asyncio.get_running_loop().time() < deadline, f"{query} = {got}, not {wanted}"
            await asyncio.sleep(0.5)


@needs_prometheus
async def test_prometheus_reads_ferrybots_figures(fake_github: FakeGitHub, tmp_path: Path) -> None:
    """accepted == sent, handler and GitHub histograms counted, rules load and evaluate ok."""
    assert PROMETHEUS is not None
    app = install_app(fake_github)
    pulls = [
        fake_github.add_pull("acme", "app", head=f"p-{n}", title="feat: watched")
        for n in range(DELIVERIES)
    ]
    http_port, prometheus_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FERRYBOT_")}
    env |= {
        "FERRYBOT_HTTP_PORT": str(http_port),
        "FERRYBOT_STATE_DIR": str(tmp_path / "state"),
        "FERRYBOT_LOG_FORMAT": "json",
        "FERRYBOT_GITHUB_API_URL": fake_github.url,
        "FERRYBOT_GITHUB_APP_ID": str(APP_ID),
        "FERRYBOT_GITHUB_PRIVATE_KEY": app.private_key,
        "FERRYBOT_GITHUB_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "FERRYBOT_RECONCILE_ENABLED": "false",
    }
    write_rules(tmp_path)
    config = tmp_path / "prometheus.yml"
    config.write_text(
        json.dumps(  # JSON is YAML, and needs no quoting care
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": ["ferrybot-rules.yaml"],
                "scrape_configs": [
                    {
                        "job_name": "ferrybot",
                        "static_configs": [{"targets": [f"127.0.0.1:{http_port}"]}],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    bot_log, prometheus_log = tmp_path / "bot.log", tmp_path / "prometheus.log"
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stderr=bot_log.open("wb")
    )
    prometheus = await asyncio.create_subprocess_exec(
        PROMETHEUS,
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{prometheus_port}",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=prometheus_log.open("wb"),
    )
    try:
        await eventually(lambda: "ingress.listening" in bot_log.read_text(), within=60)
        url = f"http://127.0.0.1:{http_port}/webhooks/github"
        for pr in pulls:
            payload = pull_request_payload(app, pr.number, pr.pull.head_sha, title="feat: watched")
            answer = await send_github(
                json.dumps(payload).encode(), "pull_request", url, WEBHOOK_SECRET
            )
            assert answer.status == 202
        await eventually(
            lambda: bot_log.read_text().count('"message": "event.handled"') == DELIVERIES, within=60
        )
        async with aiohttp.ClientSession() as session:
            api = PrometheusAPI(session, f"http://127.0.0.1:{prometheus_port}")
            await eventually_ready(session, f"http://127.0.0.1:{prometheus_port}/-/ready")
            await api.wait_for(
                'sum(ferrybot_deliveries_accepted_total{source="github"})', DELIVERIES
            )
            await api.wait_for(
                f'sum(ferrybot_github_requests_total{{method="POST",route="{CHECK_RUNS}",'
                f'status="201"}})',
                DELIVERIES * CHECKS_PER_PR,
            )
            handled = await api.scalar(
                'sum(ferrybot_handler_duration_seconds_count{handler="handlers.policy.policy_check"})'
            )
            assert handled == DELIVERIES
            assert (await api.scalar("sum(ferrybot_produce_duration_seconds_count)") or 0) > 0
            assert await api.scalar("min(ferrybot_broker_reachable)") == 1
            budget = await api.scalar(
                f'ferrybot_github_rate_limit_remaining{{installation="{INSTALLATION_ID}"}}'
            )
            assert budget is not None and budget > 0
            await api.wait_for('count(ferrybot_consumer_lag_messages{group="ferrybot-worker"})', 6)
            await api.wait_for('sum(ferrybot_consumer_lag_messages{group="ferrybot-worker"})', 0)
            await wait_rules_evaluated(api)
            for query in dashboard_queries():
                promql = label_values_query(query)
                promql = promql.replace("$__rate_interval", "1m").replace("$job", ".*")
                await api.get("/api/v1/query", query=promql)  # a parse error fails here
    finally:
        prometheus.terminate()
        await asyncio.wait_for(prometheus.wait(), 30)
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), 60) == 0


async def eventually_ready(session: aiohttp.ClientSession, url: str) -> None:
    """Wait for Prometheus' readiness endpoint."""
    for _ in range(200):
        try:
            async with session.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"{url} never ready")


async def wait_rules_evaluated(api: PrometheusAPI) -> None:
    """Every alert loaded, evaluated without error, and none firing on a healthy bot."""
    wanted = {rule["alert"] for rule in rules()}
    for _ in range(120):
        groups = (await api.get("/api/v1/rules"))["groups"]
        loaded = {r["name"]: r for g in groups for r in g["rules"]}
        # A rule not evaluated yet shows Go's zero time.
        evaluated = all(not r["lastEvaluation"].startswith("0001") for r in loaded.values())
        if set(loaded) == wanted and evaluated:
            assert {r["health"] for r in loaded.values()} == {"ok"}, loaded
            assert {r["state"] for r in loaded.values()} == {"inactive"}, loaded
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"rules not all evaluated: {loaded}")
