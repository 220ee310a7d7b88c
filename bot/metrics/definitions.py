"""Every metric ferrybot exports, defined once; labels take values from closed sets only."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.metrics import MetricWrapperBase

# `*_created` series double every counter's series count and no dashboard or rule uses them.
disable_created_metrics()  # type: ignore[no-untyped-call]


class RefusalReason(StrEnum):
    """Why the ingress refused a request: the closed set of `reason` label values."""

    MALFORMED = "malformed"
    UNAUTHENTICATED = "unauthenticated"
    UNKNOWN_SOURCE = "unknown_source"
    TOO_LARGE = "too_large"
    BROKER_UNAVAILABLE = "broker_unavailable"
    OTHER = "other"


class HandlerOutcome(StrEnum):
    """How one handler run ended."""

    OK = "ok"
    DEAD_LETTERED = "dead_lettered"


# Webhook work is milliseconds when healthy and seconds when GitHub or the broker is slow;
# the top buckets reach the produce timeout and the retry back-off caps.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

DELIVERIES_ACCEPTED = Counter(
    "ferrybot_deliveries_accepted_total",
    "Webhook events the ingress wrote to Kafka and acknowledged, by sender.",
    ["source"],
)
DELIVERIES_REFUSED = Counter(
    "ferrybot_deliveries_refused_total",
    "Webhook requests the ingress refused, by sender and reason (malformed, unauthenticated, "
    "unknown_source, too_large, broker_unavailable, other).",
    ["source", "reason"],
)
PRODUCE_DURATION = Histogram(
    "ferrybot_produce_duration_seconds",
    "Time from producing a message to the broker's acks=all acknowledgement, by topic.",
    ["topic"],
    buckets=_LATENCY_BUCKETS,
)
PRODUCE_FAILURES = Counter(
    "ferrybot_produce_failures_total",
    "Messages the broker did not acknowledge in time, by topic.",
    ["topic"],
)
HANDLER_DURATION = Histogram(
    "ferrybot_handler_duration_seconds",
    "Time one handler took for one event, retries and back-off included, by handler.",
    ["handler"],
    buckets=_LATENCY_BUCKETS,
)
HANDLER_RUNS = Counter(
    "ferrybot_handler_runs_total",
    "Handler runs by handler and outcome (ok, dead_lettered).",
    ["handler", "outcome"],
)
HANDLER_RETRIES = Counter(
    "ferrybot_handler_retries_total",
    "Handler attempts after the first (transient failures retried), by handler.",
    ["handler"],
)
DLQ_PRODUCED = Counter(
    "ferrybot_dlq_produced_total",
    "Events written to the dead-letter topic, by the handler that failed (- when undecodable).",
    ["handler"],
)
DEDUPE_HITS = Counter(
    "ferrybot_dedupe_hits_total",
    "Events skipped by the worker because their delivery id was already handled.",
)
CONSUMER_LAG = Gauge(
    "ferrybot_consumer_lag_messages",
    "Messages in a partition not yet committed by a consumer group (end offset minus "
    "committed offset); every process of a group reports all its partitions.",
    ["group", "topic", "partition"],
)
BROKER_REACHABLE = Gauge(
    "ferrybot_broker_reachable",
    "1 while the Kafka cluster answers a metadata request, else 0.",
)
GITHUB_REQUESTS = Counter(
    "ferrybot_github_requests_total",
    "GitHub REST requests by method, route template and HTTP status (error: no answer).",
    ["method", "route", "status"],
)
GITHUB_REQUEST_DURATION = Histogram(
    "ferrybot_github_request_duration_seconds",
    "Time GitHub took to answer one REST request, by method and route template.",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
)
GITHUB_RATE_LIMIT_REMAINING = Gauge(
    "ferrybot_github_rate_limit_remaining",
    "Requests left in GitHub's rate-limit window (x-ratelimit-remaining), by installation "
    "(token: token auth, app: App JWT calls) and resource.",
    ["installation", "resource"],
)
GITHUB_RATE_LIMIT_LIMIT = Gauge(
    "ferrybot_github_rate_limit_limit",
    "Size of GitHub's rate-limit window (x-ratelimit-limit), by installation and resource.",
    ["installation", "resource"],
)
GITLAB_REQUESTS = Counter(
    "ferrybot_gitlab_requests_total",
    "GitLab REST requests by method, route template and HTTP status (error: no answer).",
    ["method", "route", "status"],
)
GITLAB_RATE_LIMIT_REMAINING = Gauge(
    "ferrybot_gitlab_rate_limit_remaining",
    "Requests left in GitLab's rate-limit window (RateLimit-Remaining) for ferrybot's token.",
)
NOTIFICATIONS = Counter(
    "ferrybot_notifications_total",
    "Notifications per channel delivery by provider and outcome (delivered, duplicate, "
    "revoked, rejected, expired, skipped_revoked).",
    ["provider", "outcome"],
)
PROMOTIONS = Counter(
    "ferrybot_promotions_total",
    "Promotions by pipeline, stage and outcome (opened, updated, unchanged, "
    "already_deployed, failed, refused by the supply-chain gate).",
    ["pipeline", "stage", "outcome"],
)
GATE_RESULTS = Counter(
    "ferrybot_gate_results_total",
    "Model gate verdicts published on promotion PRs, by pipeline, stage and conclusion.",
    ["pipeline", "stage", "conclusion"],
)

ALL: tuple[MetricWrapperBase, ...] = (
    DELIVERIES_ACCEPTED,
    DELIVERIES_REFUSED,
    PRODUCE_DURATION,
    PRODUCE_FAILURES,
    HANDLER_DURATION,
    HANDLER_RUNS,
    HANDLER_RETRIES,
    DLQ_PRODUCED,
    DEDUPE_HITS,
    CONSUMER_LAG,
    BROKER_REACHABLE,
    GITHUB_REQUESTS,
    GITHUB_REQUEST_DURATION,
    GITHUB_RATE_LIMIT_REMAINING,
    GITHUB_RATE_LIMIT_LIMIT,
    GITLAB_REQUESTS,
    GITLAB_RATE_LIMIT_REMAINING,
    NOTIFICATIONS,
    PROMOTIONS,
    GATE_RESULTS,
)


def observe_handler(handler: str, outcome: HandlerOutcome, started: float) -> None:
    """Count one handler run and its duration since `started` (a time.monotonic() reading)."""
    HANDLER_DURATION.labels(handler=handler).observe(time.monotonic() - started)
    HANDLER_RUNS.labels(handler=handler, outcome=outcome).inc()


@dataclass(frozen=True)
class MetricInfo:
    """One metric as a query names it, for the README table and the convention tests."""

    name: str
    kind: str
    labels: tuple[str, ...]
    help: str


def catalogue() -> list[MetricInfo]:
    """Every metric in ALL, counters under their exposed `_total` name."""
    # prometheus-client keeps name, type and label names only as underscored attributes of
    # the wrapper; they are read here and nowhere else.
    return [
        MetricInfo(
            name=f"{m._name}_total" if m._type == "counter" else m._name,
            kind=str(m._type),  # typed Optional on the base class; set by every subclass
            labels=tuple(m._labelnames),
            help=m._documentation,
        )
        for m in ALL
    ]
