"""Which channels a notification goes to, from the configured routes."""

from __future__ import annotations

from fnmatch import fnmatchcase

from schemas.notification import Notification
from schemas.notifications_config import NotificationsConfig, RouteConfig


def _matches(globs: list[str], value: str | None) -> bool:
    if not globs:
        return True
    if value is None:
        return False
    # GitHub owner and repository names are case-insensitive; so is matching them.
    return any(fnmatchcase(value.lower(), glob.lower()) for glob in globs)


def route_matches(route: RouteConfig, notification: Notification) -> bool:
    """True when every filter the route sets accepts the notification."""
    return (
        (not route.kinds or notification.kind in route.kinds)
        and notification.severity >= route.min_severity
        and _matches(route.repositories, notification.repository)
        and _matches(route.pipelines, notification.pipeline)
    )


def channels_for(config: NotificationsConfig, notification: Notification) -> list[str]:
    """Channel names of every matching route, each once, in configuration order."""
    names: dict[str, None] = {}
    for route in config.routes.values():
        if route_matches(route, notification):
            names.update(dict.fromkeys(route.channels))
    return list(names)
