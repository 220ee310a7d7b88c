"""Pytest plugin: one real PostgreSQL per session (Debian's binaries, via pytest-postgresql)."""

from __future__ import annotations

import glob
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.pipeline.broker import free_port

PACKAGE_HINT = "apt-get install postgresql (Debian's PostgreSQL server; .ci/run installs it)"


def _pg_ctl() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return found[-1] if found else shutil.which("pg_ctl")


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[tuple[str, int]]:
    """(host, port) of a PostgreSQL started for the session; skipped when it is not installed."""
    try:
        from pytest_postgresql.executors import PostgreSQLExecutor
    except ImportError:
        pytest.skip("pytest-postgresql is not installed: pip install -e '.[test]'")
    pg_ctl = _pg_ctl()
    if pg_ctl is None:
        pytest.skip(f"no PostgreSQL server binaries (pg_ctl): {PACKAGE_HINT}")
    base = Path(tempfile.mkdtemp(prefix="ferrybot-pg-"))
    executable = pg_ctl
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: run pg_ctl as the package's `postgres` user, in a
        # directory that user owns.
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root without runuser: PostgreSQL cannot be started")
        shutil.chown(base, "postgres", "postgres")
        wrapper = base / "pg_ctl"
        wrapper.write_text(f'#!/bin/sh\nexec {runuser} -u postgres -- {pg_ctl} "$@"\n')
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        executable = str(wrapper)
    port = free_port()
    executor = PostgreSQLExecutor(
        executable=executable,
        host="127.0.0.1",
        port=port,
        datadir=str(base / "data"),
        unixsocketdir=str(base),
        logfile=str(base / "postgresql.log"),
        startparams="-w",
        dbname="ferrybot",
        user="postgres",
    )
    executor.start()
    try:
        executor.wait_for_postgres()
        yield "127.0.0.1", port
    finally:
        executor.stop()
        shutil.rmtree(base, ignore_errors=True)


def _database(server: tuple[str, int]) -> Iterator[str]:
    from pytest_postgresql.janitor import DatabaseJanitor

    host, port = server
    name = f"ledger_{uuid.uuid4().hex[:12]}"
    with DatabaseJanitor(user="postgres", host=host, port=port, dbname=name):
        yield f"postgresql+asyncpg://postgres@{host}:{port}/{name}"


@pytest.fixture
def postgresql_url(postgresql_server: tuple[str, int]) -> Iterator[str]:
    """An empty database of its own for one test, as an asyncpg URL."""
    yield from _database(postgresql_server)


@pytest.fixture
def postgresql_url_second(postgresql_server: tuple[str, int]) -> Iterator[str]:
    """Another empty database for the same test (e.g. a rebuilt ledger beside the live one)."""
    yield from _database(postgresql_server)
