"""Worker benchmark: events per second from Kafka to check runs in the fake GitHub."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
from pathlib import Path

from bot.pipeline.broker import EmbeddedBroker
from bot.pipeline.bus import EventProducer, ensure_topics
from bot.pipeline.runtime import Components, serve
from schemas.envelope import Envelope, Source
from tests.fakegithub.server import FakeGitHub
from tests.support.bot import bot_settings, install_app, pull_request_payload


async def main(pulls: int) -> None:
    broker = EmbeddedBroker()
    await broker.start()
    fake = FakeGitHub()
    await fake.start()
    app = install_app(fake)
    with tempfile.TemporaryDirectory() as state:
        settings = bot_settings(
            broker.bootstrap_servers, fake, app, Path(state), log_level="warning"
        )
        await ensure_topics(settings, broker.bootstrap_servers)
        shas = []
        producer = EventProducer(settings, broker.bootstrap_servers)
        await producer.start()
        for index in range(pulls):
            pr = fake.add_pull("acme", "app", head=f"b{index}", title="feat: bench")
            shas.append(pr.pull.head_sha)
            payload = pull_request_payload(app, pr.number, pr.pull.head_sha)
            await producer.send_envelope(
                Envelope(
                    id=f"bench-{index}",
                    source=Source.GITHUB,
                    event="pull_request",
                    action="opened",
                    subject=f"github/acme/app#{pr.number}",
                    installation_id=payload["installation"]["id"],
                    payload=payload,
                )
            )
        await producer.stop()
        stop, started = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(
            serve(
                settings,
                Components(ingress=False, worker=True, notifier=False),
                stop=stop,
                started=started,
            )
        )
        await started.wait()
        began = time.perf_counter()
        first: float | None = None
        seen = 0
        created = 0
        while created < pulls:
            # Counting answers is O(new requests); querying the fake per SHA would eat the CPU
            # the worker and the fake share with this loop.
            fresh = fake.requests[seen:]
            seen += len(fresh)
            created += sum(1 for m, p, s in fresh if m == "POST" and p.endswith("/check-runs"))
            if created and first is None:
                first = time.perf_counter()
            await asyncio.sleep(0.05)
        assert all(fake.check_runs("acme", "app", sha) for sha in shas)
        finished = time.perf_counter()
        stop.set()
        await task
    await fake.close()
    await broker.stop()
    assert first is not None
    print(
        json.dumps(
            {
                "events": pulls,
                "github_requests_per_event": round(len(fake.requests) / pulls, 2),
                "events_per_second_after_group_join": round(pulls / (finished - first), 1),
                "group_join_seconds": round(first - began, 1),
                "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1000)
    asyncio.run(main(parser.parse_args().events))
