"""Handler registration by decorator, and discovery of every module under handlers/."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

from schemas.envelope import Envelope, Source

if TYPE_CHECKING:
    from bot.context import Context

HandlerFunc = Callable[["Context"], Awaitable[None]]


@dataclass(frozen=True)
class Handler:
    """One registered reaction: the events it wants and the coroutine that reacts."""

    name: str
    source: Source
    events: frozenset[str]
    func: HandlerFunc
    # True when a run publishes only the subject's current state (a check from the payload's
    # title and labels): a run for an older event can then give way to a newer one waiting.
    coalesce: bool = False

    def wants(self, envelope: Envelope) -> bool:
        """True when the envelope's `event` or `event.action` is one this handler named."""
        return envelope.source == self.source and (
            envelope.event in self.events or envelope.name in self.events
        )


@dataclass
class Registry:
    """Every handler known to this process."""

    handlers: dict[str, Handler] = field(default_factory=dict)

    def on(
        self, *events: str, source: Source = Source.GITHUB, coalesce: bool = False
    ) -> Callable[[HandlerFunc], HandlerFunc]:
        """Register the decorated coroutine for `event` or `event.action` names.

        `coalesce=True` lets the worker skip the handler for an event when a newer event of
        the same subject and head commit, which the handler also wants, is already waiting.
        """

        def register(func: HandlerFunc) -> HandlerFunc:
            name = f"{func.__module__}.{func.__qualname__}"
            self.handlers[name] = Handler(name, source, frozenset(events), func, coalesce)
            return func

        return register

    def for_envelope(self, envelope: Envelope) -> list[Handler]:
        """The handlers to run for an envelope, in registration order."""
        return [h for h in self.handlers.values() if h.wants(envelope)]


registry = Registry()
on = registry.on


def discover(package: str = "handlers") -> list[ModuleType]:
    """Import every module of the handlers package so their decorators register."""
    root = importlib.import_module(package)
    modules = []
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        modules.append(importlib.import_module(info.name))
    return modules
