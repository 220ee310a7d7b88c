"""Suite-wide pytest configuration: shared fixtures come in as plugins."""

from __future__ import annotations

pytest_plugins = [
    "tests.fakegithub.fixture",
    "tests.fakegitlab.fixture",
    "tests.support.broker",
    "tests.support.mlflow",
    "tests.support.postgres",
    "tests.support.registry",
]
