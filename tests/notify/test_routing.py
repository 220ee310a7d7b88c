"""Routes select notifications by kind, severity, repository and pipeline."""

from __future__ import annotations

from typing import Any

import pytest

from bot.notify.routing import channels_for
from schemas.notification import Notification
from schemas.notifications_config import NotificationsConfig

URL = "https://hooks.example/T/B/secret"


def config(**routes: dict[str, Any]) -> NotificationsConfig:
    return NotificationsConfig.model_validate(
        {
            "channels": {name: {"provider": "slack", "url": URL} for name in ("a", "b", "c")},
            "routes": routes,
        }
    )


def note(**overrides: Any) -> Notification:
    values: dict[str, Any] = {
        "kind": "promotion_opened",
        "subject": "model/churn",
        "title": "t",
        "delivery_id": "d",
        "repository": "acme/gitops",
        "pipeline": "churn",
        **overrides,
    }
    return Notification(**values)


@pytest.mark.parametrize(
    ("route", "notification", "expected"),
    [
        ({}, note(), ["a"]),
        ({"kinds": ["gate_failed"]}, note(), []),
        ({"kinds": ["gate_failed"]}, note(kind="gate_failed"), ["a"]),
        ({"min_severity": "error"}, note(severity="warning"), []),
        ({"min_severity": "error"}, note(severity="critical"), ["a"]),
        ({"repositories": ["acme/*"]}, note(), ["a"]),
        ({"repositories": ["ACME/GitOps"]}, note(), ["a"]),
        ({"repositories": ["acme/*"]}, note(repository="other/gitops"), []),
        ({"repositories": ["acme/*"]}, note(repository=None), []),
        ({"pipelines": ["churn*"]}, note(pipeline="churn-eu"), ["a"]),
        ({"pipelines": ["churn*"]}, note(pipeline="fraud"), []),
        ({"repositories": ["acme/*"], "pipelines": ["fraud"]}, note(), []),
    ],
    ids=[
        "no-filter",
        "other-kind",
        "kind",
        "below-severity",
        "above-severity",
        "repo-glob",
        "repo-case-insensitive",
        "other-repo",
        "no-repo",
        "pipeline-glob",
        "other-pipeline",
        "all-filters-must-match",
    ],
)
def test_route_filters(
    route: dict[str, Any], notification: Notification, expected: list[str]
) -> None:
    """A route takes a notification only when every filter it sets matches."""
    assert channels_for(config(r={**route, "channels": ["a"]}), notification) == expected


def test_matching_routes_add_up_and_each_channel_is_sent_once() -> None:
    """Several matching routes give the union of their channels, without repeats."""
    routes = config(
        first={"channels": ["b", "a"]},
        second={"min_severity": "error", "channels": ["a", "c"]},
        third={"kinds": ["dlq_grew"], "channels": ["c"]},
    )
    assert channels_for(routes, note(severity="error")) == ["b", "a", "c"]
    assert channels_for(routes, note()) == ["b", "a"]
