"""Assembles and runs the components (broker, ingress, worker) in one process, and stops them."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from bot.broker import EmbeddedBroker
from bot.bus import EventProducer, ensure_topics
from bot.dispatch import discover, registry
from bot.github.clients import GitHubClients
from bot.github.dryrun import DryRunRecorder
from bot.ingress.app import create_app
from bot.logs import get_logger
from bot.settings import Settings, SettingsError
from bot.worker import Worker

log = get_logger(component="runtime")


@dataclass(frozen=True)
class Components:
    """Which parts this process runs."""

    ingress: bool = True
    worker: bool = True


async def serve(
    settings: Settings,
    components: Components | None = None,
    stop: asyncio.Event | None = None,
    started: asyncio.Event | None = None,
) -> None:
    """Run until `stop` is set (or, without one, SIGTERM/SIGINT arrives), then shut down."""
    components = components or Components()
    if stop is None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
    broker: EmbeddedBroker | None = None
    if settings.embedded_broker:
        if not (components.ingress and components.worker):
            raise SettingsError(
                "the embedded broker lives inside one process: run `ferrybot run`, or set "
                "FERRYBOT_KAFKA_BOOTSTRAP_SERVERS to run ingress and worker separately"
            )
        broker = EmbeddedBroker(settings.embedded_broker_port)
        await broker.start()
    bootstrap = broker.bootstrap_servers if broker else str(settings.kafka_bootstrap_servers)
    async with contextlib.AsyncExitStack() as stack:
        if broker is not None:
            stack.push_async_callback(broker.stop)
        await ensure_topics(settings, bootstrap)
        producer = EventProducer(settings, bootstrap)
        await producer.start()
        stack.push_async_callback(producer.stop)

        runner: web.AppRunner | None = None
        if components.ingress:
            runner = web.AppRunner(create_app(settings, producer), access_log=None)
            await runner.setup()
            stack.push_async_callback(runner.cleanup)
            site = web.TCPSite(runner, settings.http_host, settings.http_port)
            await site.start()
            log.info(
                "ingress.listening",
                url=f"http://{settings.http_host}:{settings.http_port}",
                broker=bootstrap,
                embedded_broker=broker is not None,
            )

        worker_task: asyncio.Task[None] | None = None
        worker: Worker | None = None
        if components.worker:
            session = aiohttp.ClientSession()
            stack.push_async_callback(session.close)
            recorder = DryRunRecorder(settings.state_dir / "dry-run.jsonl")
            clients = GitHubClients(settings, session, recorder)
            discover()
            worker = Worker(settings, bootstrap, registry, clients, producer)
            await worker.start()
            worker_task = asyncio.create_task(worker.run(), name="worker")
            log.info(
                "worker.started",
                github=settings.github_api_url,
                auth=clients.mode.value,
                handlers=sorted(registry.handlers),
            )
        if started is not None:
            started.set()
        stopper = asyncio.create_task(stop.wait())
        waiting: set[asyncio.Task[None] | asyncio.Task[bool]] = {stopper}
        if worker_task is not None:
            waiting.add(worker_task)
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        log.info("runtime.stopping")
        # Stop intake first: no new webhooks are acknowledged once shutdown begins.
        if runner is not None:
            await runner.cleanup()
        if worker is not None and worker_task is not None:
            worker.stop()
            await worker_task
    log.info("runtime.stopped")


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
