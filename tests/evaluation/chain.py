"""Real Prometheus and Alertmanager (Debian packages) beside a small model-quality exporter."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import textwrap
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from bot.pipeline.broker import free_port

PACKAGES = {"prometheus": "prometheus", "prometheus-alertmanager": "prometheus-alertmanager"}


def require_binaries() -> None:
    """Skip, naming the Debian package, when Prometheus or Alertmanager is not installed."""
    for binary, package in PACKAGES.items():
        if shutil.which(binary) is None:
            pytest.skip(f"needs Debian's `{package}` package: apt-get install {package}")


@dataclass
class Exporter:
    """Serves `model_drift{ferrybot_pipeline, ferrybot_stage, model}` with a value tests set."""

    pipeline: str
    stage: str
    value: float = 0.1
    port: int = 0

    async def metrics(self, request: web.Request) -> web.Response:
        labels = f'ferrybot_pipeline="{self.pipeline}",ferrybot_stage="{self.stage}",model="m"'
        text = f"# TYPE model_drift gauge\nmodel_drift{{{labels}}} {self.value}\n"
        return web.Response(text=text, content_type="text/plain")


@contextlib.asynccontextmanager
async def serving(exporter: Exporter) -> AsyncIterator[Exporter]:
    """The exporter on a free port, for as long as the block runs."""
    app = web.Application()
    app.router.add_get("/metrics", exporter.metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    exporter.port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", exporter.port)
    await site.start()
    try:
        yield exporter
    finally:
        await runner.cleanup()


RULES = """\
groups:
  - name: ferrybot-model-quality
    interval: 1s
    rules:
      - alert: ModelDriftHigh
        expr: model_drift > 0.3
        for: 1s
        labels: {severity: warning}
        annotations:
          summary: "Drift of {{ $labels.ferrybot_pipeline }} is {{ $value }}"
          runbook_url: https://runbooks.example.com/model-drift
"""


@dataclass
class Chain:
    """The two servers' URLs and where their logs went."""

    alertmanager: str
    prometheus: str
    logs: Path

    def webhook_notifications(self) -> int:
        """Notifications Alertmanager has sent to webhook receivers (its own counter)."""
        with urllib.request.urlopen(f"{self.alertmanager}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        total = 0.0
        for line in text.splitlines():
            if (
                line.startswith("alertmanager_notifications_total{")
                and 'integration="webhook"' in line
            ):
                total += float(line.rsplit(" ", 1)[1])
        return int(total)

    def tail(self) -> str:
        """The end of both logs, for a failing assertion."""
        return "\n".join(p.read_text()[-2000:] for p in sorted(self.logs.glob("*.log")))


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready within 30 s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def alert_chain(home: Path, exporter_port: int, webhook: str, token: str) -> Iterator[Chain]:
    """Prometheus scraping the exporter every second and Alertmanager posting to `webhook`."""
    am_port, prom_port = free_port(), free_port()
    (home / "rules.yml").write_text(RULES)
    (home / "alertmanager.yml").write_text(
        textwrap.dedent(f"""\
        route:
          receiver: ferrybot
          group_by: [alertname, ferrybot_pipeline]
          group_wait: 1s
          group_interval: 1s
          repeat_interval: 2s
        receivers:
          - name: ferrybot
            webhook_configs:
              - url: {webhook}
                send_resolved: true
                http_config:
                  authorization: {{type: Bearer, credentials: {token}}}
        """)
    )
    (home / "prometheus.yml").write_text(
        textwrap.dedent(f"""\
        global: {{scrape_interval: 1s, evaluation_interval: 1s}}
        rule_files: [rules.yml]
        alerting:
          alertmanagers:
            - static_configs: [{{targets: ['127.0.0.1:{am_port}']}}]
        scrape_configs:
          - job_name: model-quality
            static_configs: [{{targets: ['127.0.0.1:{exporter_port}']}}]
        """)
    )
    processes: list[subprocess.Popen[bytes]] = []
    try:
        am_log = home / "alertmanager.log"
        processes.append(
            subprocess.Popen(
                [
                    "prometheus-alertmanager",
                    f"--config.file={home / 'alertmanager.yml'}",
                    f"--storage.path={home / 'am-data'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                ],
                stdout=am_log.open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
        _wait_ready(f"http://127.0.0.1:{am_port}/-/ready", processes[-1], am_log)
        prom_log = home / "prometheus.log"
        processes.append(
            subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={home / 'prometheus.yml'}",
                    f"--storage.tsdb.path={home / 'prom-data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    # Resolved and still-firing alerts go to Alertmanager every second, not minute.
                    "--rules.alert.resend-delay=1s",
                ],
                stdout=prom_log.open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
        _wait_ready(f"http://127.0.0.1:{prom_port}/-/ready", processes[-1], prom_log)
        yield Chain(f"http://127.0.0.1:{am_port}", f"http://127.0.0.1:{prom_port}", home)
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
