"""Assembles the components (broker, ingress, worker, notifier, reconciler, ledger), runs them."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from aiohttp import web
from aiokafka.errors import KafkaError

from bot.board.routes import add_board_routes
from bot.github.clients import GitHubClients
from bot.github.dryrun import DryRunRecorder
from bot.ingress.app import GATE_KEY, GUARD_KEY, create_app
from bot.ingress.intake import IntakeGate
from bot.ledger.collector import ledger_collector
from bot.ledger.projector import Projector, ledger_group
from bot.ledger.report import ledger_store
from bot.ledger.store import LedgerStore
from bot.logs import get_logger
from bot.metrics.monitor import BrokerMonitor
from bot.metrics.server import Health, start_metrics_server
from bot.notify.service import Notifier, notifier_group
from bot.pipeline.broker import EmbeddedBroker, write_address
from bot.pipeline.bus import EventProducer, ensure_topics
from bot.pipeline.dispatch import discover, registry
from bot.pipeline.kafka_logs import watch_recovery
from bot.pipeline.spool import Backlog, restore_spool, spool_path, write_spool
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
    ledger: bool = True

    @property
    def everything(self) -> bool:
        """True when one process runs every part (the only way the embedded broker works)."""
        parts = (self.ingress, self.worker, self.notifier, self.reconciler, self.ledger)
        return all(parts)


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
            _announce_embedded(settings, broker)
            address_file = write_address(settings.state_dir, bootstrap)
            stack.callback(address_file.unlink, missing_ok=True)
        await ensure_topics(settings, bootstrap)
        producer = EventProducer(settings, bootstrap)
        await producer.start()
        stack.push_async_callback(producer.stop)
        watcher = asyncio.create_task(watch_recovery(producer.reachable))
        stack.callback(watcher.cancel)
        restored = await restore_spool(spool_path(settings), producer)
        if restored:
            log.info("spool.restored", records=restored, path=str(spool_path(settings)))
        session = aiohttp.ClientSession()
        stack.push_async_callback(session.close)

        # The ledger: written by the projector, read by the board (ingress) and /status (worker).
        ledger: LedgerStore | None = None
        if components.ingress or components.worker or components.ledger:
            ledger = ledger_store(settings)
            await ledger.open()
            stack.push_async_callback(ledger.close)

        ingress: tuple[web.AppRunner, IntakeGate] | None = None
        health = Health(producer)
        if components.ingress:
            ingress = await _start_ingress(
                settings, producer, bootstrap, broker is not None, ledger
            )
            stack.push_async_callback(ingress[0].cleanup)
        else:
            # Up before the services start, so liveness answers while a group is joined.
            metrics = await start_metrics_server(
                settings.metrics_host, settings.metrics_port, health
            )
            stack.push_async_callback(metrics.cleanup)

        # In the order they stop: what feeds the events topic first, then what drains it.
        services: list[tuple[str, Service]] = []
        groups: dict[str, str] = {}
        if components.reconciler:
            services.append(("reconciler", Reconciler(settings, producer, session)))
        if components.worker:
            worker = _build_worker(
                settings, bootstrap, session, producer, broker is not None, ledger
            )
            services.append(("worker", worker))
            groups[settings.kafka_consumer_group] = settings.topic_events
            health.assigned.append(worker.assigned)
        if components.notifier:
            notifier = Notifier(settings, bootstrap, session)
            services.append(("notifier", notifier))
            groups[notifier_group(settings)] = settings.topic_notifications
            health.assigned.append(notifier.assigned)
        if components.ledger and ledger is not None:
            # Last to stop: it projects the audit records the worker wrote while stopping.
            projector = Projector(settings, bootstrap, ledger, ledger_collector(ledger))
            services.append(("ledger", projector))
            groups[ledger_group(settings)] = settings.topic_events
        services.insert(0, ("monitor", BrokerMonitor(settings, bootstrap, producer, groups)))
        for _, service in services:
            await service.start()
        tasks = {
            name: asyncio.create_task(service.run(), name=type(service).__name__)
            for name, service in services
        }
        health.tasks.extend(tasks.values())
        if started is not None:
            started.set()
        stopper = asyncio.create_task(stop.wait())
        # A service that ends by itself has failed; that stops the process too.
        await asyncio.wait({stopper, *tasks.values()}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        log.info("runtime.stopping")
        if ingress is not None:
            await _close_intake(settings, ingress[1])
        results: list[BaseException] = []
        for name, service in services:
            service.stop()
            try:
                await tasks[name]
            except Exception as exc:
                results.append(exc)
        if broker is not None:
            await _spool_unfinished(settings, bootstrap, components.ledger)
        if ingress is not None:
            await ingress[0].cleanup()
            log.info("ingress.stopped")
    log.info("runtime.stopped")
    for result in results:
        raise result


def _announce_embedded(settings: Settings, broker: EmbeddedBroker) -> None:
    # Said once per run, so nobody mistakes the zero-config default for a durable setup.
    log.warning(
        "broker.memory_only",
        bootstrap_servers=broker.bootstrap_servers,
        crash="a crash (kill -9, OOM, power loss) loses every event not yet handled",
        clean_stop=(
            f"SIGTERM or Ctrl-C handles what was accepted for up to "
            f"{settings.shutdown_drain_seconds:g} s, spools the rest to {spool_path(settings)} "
            "and produces it again at the next start"
        ),
        durable="set FERRYBOT_KAFKA_BOOTSTRAP_SERVERS to a Kafka cluster for replicated storage",
    )


async def _close_intake(settings: Settings, gate: IntakeGate) -> None:
    # Stop intake first: webhooks arriving from now on get 503 and are retried by the sender;
    # those already being produced finish, so their 202 stays true.
    gate.close()
    log.info("ingress.draining")
    left = await gate.wait_idle(settings.produce_timeout_seconds + 1)
    if left:
        log.warning("ingress.requests_unfinished", requests=left)


async def _spool_unfinished(settings: Settings, bootstrap: str, with_ledger: bool) -> None:
    # The ledger reads the events and audit topics too: what it has not projected yet is kept
    # as well. Restored, such an event is handled by the worker again, which its idempotent
    # effects make harmless; the ledger applies it once.
    ledger = (ledger_group(settings),) if with_ledger else ()
    backlogs = [
        Backlog(settings.topic_events, (settings.kafka_consumer_group, *ledger)),
        Backlog(settings.topic_notifications, (notifier_group(settings),)),
        Backlog(settings.topic_dlq),
    ]
    if with_ledger:
        backlogs.append(Backlog(settings.topic_audit, ledger))
    path = spool_path(settings)
    try:
        written = await asyncio.wait_for(write_spool(settings, bootstrap, backlogs, path), 60)
    except (TimeoutError, KafkaError, OSError) as exc:
        log.error("spool.failed", error=type(exc).__name__, path=str(path))
        return
    if written:
        log.warning("spool.written", records=written, path=str(path))


async def _start_ingress(
    settings: Settings,
    producer: EventProducer,
    bootstrap: str,
    embedded: bool,
    ledger: LedgerStore | None,
) -> tuple[web.AppRunner, IntakeGate]:
    app = create_app(settings, producer)
    if ledger is not None:
        add_board_routes(app, ledger, settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    if runner.server is not None:
        app[GUARD_KEY].attach(runner.server)
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    log.info(
        "ingress.listening",
        url=f"http://{settings.http_host}:{settings.http_port}",
        broker=bootstrap,
        embedded_broker=embedded,
    )
    return runner, app[GATE_KEY]


def _build_worker(
    settings: Settings,
    bootstrap: str,
    session: aiohttp.ClientSession,
    producer: EventProducer,
    drain_on_stop: bool,
    ledger: LedgerStore | None,
) -> Worker:
    recorder = DryRunRecorder(settings.state_dir / "dry-run.jsonl")
    clients = GitHubClients(settings, session, recorder)
    discover()
    log.info(
        "worker.configured",
        github=settings.github_api_url,
        auth=clients.mode.value,
        gitlab=settings.gitlab_url,
        gitlab_auth="dry-run" if settings.gitlab_dry_run else "token",
        handlers=sorted(registry.handlers),
    )
    return Worker(
        settings, bootstrap, registry, clients, producer, drain_on_stop=drain_on_stop, ledger=ledger
    )


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
