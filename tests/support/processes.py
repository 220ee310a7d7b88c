"""`python -m bot ...` as a real child process, with its JSON log lines to assert on."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.bot import eventually


def bot_env(**values: object) -> dict[str, str]:
    """This environment without any FERRYBOT_* variable, plus `values` as FERRYBOT_<NAME>."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FERRYBOT_")}
    env["FERRYBOT_LOG_FORMAT"] = "json"
    env.update({f"FERRYBOT_{name.upper()}": str(value) for name, value in values.items()})
    return env


@dataclass
class BotProcess:
    """One `python -m bot <command>` in its own process group (as a shell job would be)."""

    process: asyncio.subprocess.Process
    log: Path

    @classmethod
    async def start(cls, args: list[str], env: dict[str, str], log: Path) -> BotProcess:
        """Start it with stderr (its log) going to `log`."""
        with log.open("ab") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                *args,
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        return cls(process, log)

    def text(self) -> str:
        """Everything it logged so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def records(self) -> list[dict[str, Any]]:
        """Its JSON log lines, parsed (other lines left out)."""
        found = []
        for line in self.text().splitlines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found

    def messages(self) -> list[str]:
        """The `message` of every JSON log line, in order."""
        return [record.get("message", "") for record in self.records()]

    async def logged(self, message: str, within: float = 60.0) -> dict[str, Any]:
        """Wait for a log line with this message; return it."""

        def found() -> bool:
            return message in self.messages()

        await eventually(found, within=within, what=f"log line {message!r}")
        return next(r for r in self.records() if r.get("message") == message)

    async def stop(self, sig: signal.Signals = signal.SIGTERM, within: float = 90.0) -> int:
        """Send `sig` to the process only, and wait for its exit code."""
        if self.process.returncode is None:
            self.process.send_signal(sig)
        return await asyncio.wait_for(self.process.wait(), within)

    async def interrupt_group(self, within: float = 90.0) -> int:
        """Ctrl-C as a terminal sends it: SIGINT to the whole process group; the exit code."""
        os.killpg(self.process.pid, signal.SIGINT)
        return await asyncio.wait_for(self.process.wait(), within)

    async def kill(self) -> None:
        """SIGKILL, if it still runs (teardown)."""
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
