"""/metrics, /healthz and /readyz for processes without an ingress: worker, notifier, reconciler."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from bot.logs import get_logger
from bot.pipeline.bus import EventProducer

log = get_logger(component="metrics")


async def metrics_endpoint(request: web.Request) -> web.Response:
    """Every metric of this process in Prometheus' text format."""
    return web.Response(
        body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


@dataclass
class Health:
    """What the probes look at: the service tasks, the broker, the consumer groups joined."""

    producer: EventProducer
    # Set by a consumer once the group gave it partitions (Worker.assigned, Notifier.assigned).
    assigned: list[asyncio.Event] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def dead(self) -> list[str]:
        """Names of service tasks that have ended (a running service never ends by itself)."""
        return [task.get_name() for task in self.tasks if task.done()]

    async def ready(self) -> str | None:
        """None when ready, else why not."""
        if not await self.producer.reachable():
            return "broker unreachable"
        if not all(event.is_set() for event in self.assigned):
            return "waiting for a partition assignment"
        return None


HEALTH_KEY = web.AppKey("health", Health)


def create_metrics_app(health: Health) -> web.Application:
    """The small HTTP app a process without an ingress serves its probes and metrics on."""
    app = web.Application()
    app[HEALTH_KEY] = health
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def healthz(request: web.Request) -> web.Response:
    """Alive: the event loop answered this request, and no service task has died."""
    dead = request.app[HEALTH_KEY].dead()
    if dead:
        return web.json_response({"status": "service ended", "tasks": dead}, status=503)
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the broker answers and every consumer has its partitions."""
    why = await request.app[HEALTH_KEY].ready()
    if why is not None:
        return web.json_response({"status": why}, status=503)
    return web.json_response({"status": "ready"})


async def start_metrics_server(host: str, port: int, health: Health) -> web.AppRunner:
    """Listen on host:port; the caller cleans the runner up."""
    runner = web.AppRunner(create_metrics_app(health), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("metrics.listening", url=f"http://{host}:{port}/metrics")
    return runner
