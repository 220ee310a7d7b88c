"""Assembles the components (broker, ingress, worker, notifier, reconciler), runs and stops them."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from aiohttp import web

from bot.github.clients import GitHubClients
from bot.github.dryrun import DryRunRecorder
from bot.ingress.app import create_app
from bot.logs import get_logger
from bot.metrics.monitor import BrokerMonitor
from bot.metrics.server import Health, start_metrics_server
from bot.notify.service import Notifier, notifier_group
from bot.pipeline.broker import EmbeddedBroker
from bot.pipeline.bus import EventProducer, ensure_topics
from bot.pipeline.dispatch import discover, registry
from bot.pipeline.worker import Worker
from bot.reconciler import Reconciler
from bot.settings import Settings, SettingsError

log = get_logger(component="runtime")


@dataclass(frozen=True)
class Components:
    """Which parts this process runs."""

    ingress: bool = True
    worker: bool = True
    notifier: bool = True
    reconciler: bool = True

    @property
    def everything(self) -> bool:
        """True when one process runs every part (the only way the embedded broker works)."""
        return self.ingress and self.worker and self.notifier and self.reconciler


class Service(Protocol):
    """A long-running part: the worker, the notifier, the reconciler."""

    async def start(self) -> None: ...
    async def run(self) -> None: ...
    def stop(self) -> None: ...


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
        if not components.everything:
            raise SettingsError(
                "the embedded broker lives inside one process: run `ferrybot run`, or set "
                "FERRYBOT_KAFKA_BOOTSTRAP_SERVERS to run the parts separately"
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
        session = aiohttp.ClientSession()
        stack.push_async_callback(session.close)

        runner: web.AppRunner | None = None
        health = Health(producer)
        if components.ingress:
            runner = await _start_ingress(settings, producer, bootstrap, broker is not None)
            stack.push_async_callback(runner.cleanup)
        else:
            # Up before the services start, so liveness answers while a group is joined.
            metrics = await start_metrics_server(
                settings.metrics_host, settings.metrics_port, health
            )
            stack.push_async_callback(metrics.cleanup)

        services: list[Service] = []
        groups: dict[str, str] = {}
        if components.worker:
            worker = _build_worker(settings, bootstrap, session, producer)
            services.append(worker)
            groups[settings.kafka_consumer_group] = settings.topic_events
            health.assigned.append(worker.assigned)
        if components.notifier:
            notifier = Notifier(settings, bootstrap, session)
            services.append(notifier)
            groups[notifier_group(settings)] = settings.topic_notifications
            health.assigned.append(notifier.assigned)
        if components.reconciler:
            services.append(Reconciler(settings, producer, session))
        services.append(BrokerMonitor(settings, bootstrap, producer, groups))
        for service in services:
            await service.start()
        tasks = [asyncio.create_task(s.run(), name=type(s).__name__) for s in services]
        health.tasks.extend(tasks)
        if started is not None:
            started.set()
        stopper = asyncio.create_task(stop.wait())
        # A service that ends by itself has failed; that stops the process too.
        await asyncio.wait({stopper, *tasks}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        log.info("runtime.stopping")
        # Stop intake first: no new webhooks are acknowledged once shutdown begins.
        if runner is not None:
            await runner.cleanup()
        for service in services:
            service.stop()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    log.info("runtime.stopped")
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _start_ingress(
    settings: Settings, producer: EventProducer, bootstrap: str, embedded: bool
) -> web.AppRunner:
    runner = web.AppRunner(create_app(settings, producer), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    log.info(
        "ingress.listening",
        url=f"http://{settings.http_host}:{settings.http_port}",
        broker=bootstrap,
        embedded_broker=embedded,
    )
    return runner


def _build_worker(
    settings: Settings, bootstrap: str, session: aiohttp.ClientSession, producer: EventProducer
) -> Worker:
    recorder = DryRunRecorder(settings.state_dir / "dry-run.jsonl")
    clients = GitHubClients(settings, session, recorder)
    discover()
    log.info(
        "worker.configured",
        github=settings.github_api_url,
        auth=clients.mode.value,
        handlers=sorted(registry.handlers),
    )
    return Worker(settings, bootstrap, registry, clients, producer)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
