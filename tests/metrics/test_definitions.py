"""Every metric follows Prometheus' naming rules and keeps per-event values out of its labels."""

from __future__ import annotations

import re

import pytest

from bot.metrics.definitions import MetricInfo, catalogue

# Labels whose values would be unbounded: one series per event, person or free text.
UNBOUNDED = {"delivery", "delivery_id", "id", "subject", "sha", "user", "url", "path", "message"}
METRICS = catalogue()


@pytest.mark.parametrize("metric", METRICS, ids=[m.name for m in METRICS])
def test_name_type_and_labels_follow_the_conventions(metric: MetricInfo) -> None:
    """ferrybot_ snake case; counters end in _total, histograms in _seconds; labels bounded."""
    assert re.fullmatch(r"ferrybot_[a-z][a-z0-9_]*", metric.name)
    assert metric.name.endswith("_total") == (metric.kind == "counter")
    if metric.kind == "histogram":
        assert metric.name.endswith("_seconds")
    assert not set(metric.labels) & UNBOUNDED
    assert metric.help.strip().endswith(".")


def test_every_metric_is_defined_once() -> None:
    """No two definitions share a name."""
    names = [m.name for m in METRICS]
    assert len(names) == len(set(names))
