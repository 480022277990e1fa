"""Fixtures of the fault tests: their OWN Kafka and PostgreSQL, which they kill and restart.

Never the shared stack (`.local`, ports 9092/5433): the fault stack lives in
``$SEINPOST_FAULTS_LOCAL_DIR`` (default ``<project>/.local/faults``) on ports
``SEINPOST_FAULTS_KAFKA_PORT`` / ``_CONTROLLER_PORT`` / ``SEINPOST_FAULTS_PG_PORT`` (19192, 19193,
15533). It is started by deploy/local/stack.sh once per session and stopped at the end. As with
the other integration tests there is no skip path: a stack that does not come up fails the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.common.access import AccessStore, PrincipalKind
from services.common.postgres import create_pool
from tests.faults.harness import (
    MUNICIPALITIES,
    ORGANISATION,
    ROOT,
    FaultPipeline,
    FaultStack,
    Figures,
    fresh_database,
    postgres_settings,
)

FIGURES: list[Figures] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _shared_kafka_libs() -> Path | None:
    """The jars the main stack fetched, when complete: a second fetch would cost minutes."""
    main = Path(os.environ.get("SEINPOST_LOCAL_DIR") or ROOT / ".local")
    libs = main / "kafka" / "libs"
    return libs if (libs / ".complete").is_file() else None


@pytest.fixture(scope="session")
def fault_stack() -> Iterator[FaultStack]:
    local_dir = Path(os.environ.get("SEINPOST_FAULTS_LOCAL_DIR") or ROOT / ".local" / "faults")
    shared = Path(os.environ.get("SEINPOST_LOCAL_DIR") or ROOT / ".local").resolve()
    assert local_dir.resolve() != shared, "the fault tests must never use the shared stack"
    stack = FaultStack(
        local_dir=local_dir,
        kafka_port=int(os.environ.get("SEINPOST_FAULTS_KAFKA_PORT", "19192")),
        controller_port=int(os.environ.get("SEINPOST_FAULTS_KAFKA_CONTROLLER_PORT", "19193")),
        pg_port=int(os.environ.get("SEINPOST_FAULTS_PG_PORT", "15533")),
        kafka_libs=_shared_kafka_libs(),
    )
    started = time.monotonic()
    result = stack.run("start")
    if result.returncode != 0:
        pytest.fail(
            "the fault tests' own stack (deploy/local/stack.sh start with "
            f"SEINPOST_LOCAL_DIR={local_dir}) did not come up:\n{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
    print(f"\nfault stack ready in {time.monotonic() - started:.1f} s ({local_dir})")
    try:
        yield stack
    finally:
        stack.run("stop")


async def _issue_token(dsn: str) -> str:
    pool = await create_pool(postgres_settings(dsn))
    try:
        store = AccessStore(pool)
        await store.migrate()
        await store.add_organisation(ORGANISATION, "Faults test", list(MUNICIPALITIES))
        return (await store.create_token(PrincipalKind.ORGANISATION, ORGANISATION, "faults")).secret
    finally:
        await pool.close()


@pytest.fixture
async def fault_pipeline(
    fault_stack: FaultStack, request: pytest.FixtureRequest
) -> AsyncIterator[FaultPipeline]:
    """Intake, classifier and aggregator as separate processes on a fresh database and topic
    namespace; intake is ready when the test starts. Everything is stopped afterwards, and a
    failing test shows the tail of each service's log."""
    # Whatever an earlier test did to the servers, each test starts with both up.
    fault_stack.must("start")
    # The services' logs stay after the run (pytest's tmp folders are pruned to the last few).
    log_dir = fault_stack.local_dir / "logs" / request.node.name
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    async with fresh_database(fault_stack) as dsn:
        token = await _issue_token(dsn)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=3)
        pipeline = FaultPipeline(
            stack=fault_stack,
            namespace=f"faults-{uuid.uuid4().hex[:8]}.",
            dsn=dsn,
            token=token,
            port=free_port(),
            log_dir=log_dir,
            pool=pool,
        )
        pipeline.build_services()
        try:
            for service in pipeline.services.values():
                service.start()
            await pipeline.wait_intake_ready()
            yield pipeline
        except BaseException:
            print(pipeline.logs())
            raise
        finally:
            for service in pipeline.services.values():
                service.stop()
            await pool.close()


@pytest.fixture
def record_figures(request: pytest.FixtureRequest) -> Any:
    """Keep a scenario's figures for the summary table and the JSON file, and print its line
    now (through the terminal reporter, so without -s too)."""

    def record(figures: Figures) -> None:
        FIGURES.append(figures)
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        line = f"[faults] {json.dumps(figures.as_dict(), ensure_ascii=False)}"
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line("")
            reporter.write_line(line)

    return record


COLUMNS = (
    "scenario",
    "sent",
    "acknowledged",
    "rejected",
    "stored",
    "in_bundle",
    "duplicates",
    "lost",
    "503_answers",
    "recovery_s",
)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    rows = [{k: ("" if v is None else v) for k, v in f.as_dict().items()} for f in FIGURES]
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in COLUMNS}
    terminalreporter.section("faults survived")
    terminalreporter.write_line("  ".join(c.ljust(widths[c]) for c in COLUMNS))
    for row in rows:
        terminalreporter.write_line(
            "  ".join(str(row.get(c, "")).ljust(widths[c]) for c in COLUMNS)
        )
    out = Path(os.environ.get("SEINPOST_FAULTS_FIGURES") or ROOT / ".local" / "faults-figures.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([f.as_dict() for f in FIGURES], indent=2, ensure_ascii=False) + "\n")
    terminalreporter.write_line(f"figures written to {out}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if f"{os.sep}faults{os.sep}" in str(item.fspath):
            item.add_marker(pytest.mark.faults)
