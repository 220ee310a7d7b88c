"""Prometheus metrics: their definitions, the /metrics endpoint, the broker and lag probes."""
