"""The ledger's tests run against SQLite and against a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_urls(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """Two empty databases of one kind: the live ledger's and a rebuilt one's."""
    if request.param == "sqlite":
        return (
            f"sqlite+aiosqlite:///{tmp_path / 'live.db'}",
            f"sqlite+aiosqlite:///{tmp_path / 'rebuilt.db'}",
        )
    first = request.getfixturevalue("postgresql_url")
    second = request.getfixturevalue("postgresql_url_second")
    return first, second


@pytest.fixture
def ledger_url(ledger_urls: tuple[str, str]) -> str:
    """One empty ledger database (SQLite file or PostgreSQL)."""
    return ledger_urls[0]
