"""Every metric follows Prometheus' naming rules and keeps per-event values out of its labels."""

from __future__ import annotations

import pytest
from prometheus_client.metrics import MetricWrapperBase

from bot.metrics.definitions import ALL

# Labels whose values would be unbounded: one series per event, person or free text.
UNBOUNDED = {"delivery", "delivery_id", "id", "subject", "sha", "user", "url", "path", "message"}


@pytest.mark.parametrize("metric", ALL, ids=[m._name for m in ALL])
def test_name_type_and_labels_follow_the_conventions(metric: MetricWrapperBase) -> None:
    """ferrybot_ prefix; counters exposed as _total; histograms in seconds; bounded labels."""
    name, kind = metric._name, metric._type
    assert name.startswith("ferrybot_")
    assert name == name.lower() and " " not in name
    if kind == "counter":
        assert not name.endswith("_total")  # prometheus-client appends it when exposing
    if kind == "histogram":
        assert name.endswith("_seconds")
    assert not set(metric._labelnames) & UNBOUNDED
    assert metric._documentation.strip()


def test_every_metric_is_defined_once() -> None:
    """No two definitions share a name."""
    names = [m._name for m in ALL]
    assert len(names) == len(set(names))
