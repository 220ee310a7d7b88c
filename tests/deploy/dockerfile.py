"""A small Dockerfile reader for tests: instructions per stage, continuations joined."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    """One instruction, e.g. `RUN` with its argument text."""

    keyword: str
    argument: str

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form argument (CMD ["a", "b"]), or None."""
        text = self.argument.strip()
        if not text.startswith("["):
            return None
        value: list[str] = json.loads(text)
        return value

    def env(self) -> dict[str, str]:
        """`ENV A=1 B=2` as a mapping (key=value form only)."""
        return dict(part.split("=", 1) for part in shlex.split(self.argument))


@dataclass
class Stage:
    """The instructions from one FROM up to the next."""

    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        """Every instruction with this keyword, in order."""
        return [i for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    """Global ARGs and the stages."""

    args: dict[str, str]
    stages: list[Stage]


def parse(path: Path) -> Dockerfile:
    """Read a Dockerfile; comments dropped, backslash continuations joined."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, argument = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", argument.strip(), re.IGNORECASE)
            assert match, line
            stages.append(Stage(match.group(1), match.group(2)))
        elif not stages and keyword == "ARG":
            name, _, default = argument.strip().partition("=")
            args[name] = default
        else:
            stages[-1].instructions.append(Instruction(keyword, argument.strip()))
    return Dockerfile(args, stages)
