"""Integration fixtures: the real Kafka broker and PostgreSQL server of deploy/local.

The stack is started by the project's own script. There is no skip path: a stack that does
not come up fails the run, locally and in CI alike.
Isolation by construction: every test gets its own topic namespace and its own database.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from pydantic import SecretStr

from services.aggregator.app import create_app as create_aggregator
from services.aggregator.settings import AggregatorSettings
from services.classifier.app import create_app as create_classifier
from services.classifier.settings import ClassifierSettings
from services.common.access import AccessStore, PrincipalKind
from services.common.kafka import ensure_topics
from services.common.logging import configure_logging
from services.common.postgres import create_pool
from services.common.settings import KafkaSettings, LoggingSettings, PostgresSettings
from services.intake.app import create_app as create_intake
from services.intake.server import CoalescingHttpToolsProtocol
from services.intake.settings import IntakeSettings

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "deploy" / "local" / "stack.sh"


def _stack(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        ["bash", str(STACK), command],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="session")
def stack_env() -> dict[str, str]:
    started = time.monotonic()
    result = _stack("start")
    if result.returncode != 0:
        pytest.fail(
            "the local stack (deploy/local/stack.sh start) did not come up:\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
    print(f"\nlocal stack ready in {time.monotonic() - started:.1f} s")
    env = {}
    for line in _stack("env").stdout.splitlines():
        if line.startswith("export ") and "=" in line:
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = value.strip().strip("'\"")
    assert "SEINPOST_KAFKA_BOOTSTRAP_SERVERS" in env, "stack.sh env must name the broker"
    assert "SEINPOST_POSTGRES_DSN" in env, "stack.sh env must name the database"
    return env


@pytest.fixture
async def kafka_settings(stack_env: dict[str, str]) -> AsyncIterator[KafkaSettings]:
    settings = KafkaSettings(
        bootstrap_servers=stack_env["SEINPOST_KAFKA_BOOTSTRAP_SERVERS"],
        topic_namespace=f"test-{uuid.uuid4().hex[:10]}.",
        partitions=3,
    )
    yield settings
    # A broker keeps files open for every partition it holds; thousands of left-over test
    # topics (a day of local runs) exhaust the process's file limit and the broker dies.
    await _delete_topics(settings)


async def _delete_topics(settings: KafkaSettings) -> None:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=10_000
    )
    try:
        await admin.start()
        names = [t for t in await admin.list_topics() if t.startswith(settings.topic_namespace)]
        if names:
            await admin.delete_topics(names)
    except KafkaError as error:
        # Cleaning up is a courtesy to the next run, never a reason to fail this test.
        print(f"could not delete the test topics {settings.topic_namespace}*: {error!r}")
    finally:
        await admin.close()


@pytest.fixture
async def postgres_settings(stack_env: dict[str, str]) -> AsyncIterator[PostgresSettings]:
    admin_dsn = stack_env["SEINPOST_POSTGRES_DSN"]
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = admin_dsn.rpartition("/")
    yield PostgresSettings(dsn=SecretStr(f"{base}/{name}"), pool_max_size=4)
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_for(
    probe: Callable[[], Awaitable[Any]], *, timeout_s: float = 60.0, what: str = "condition"
) -> Any:
    """Poll until ``probe`` returns something truthy; never sleep a fixed time and hope."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def serving(app: Any, port: int, *, what: str, http: Any = "auto") -> AsyncIterator[str]:
    """Serve an ASGI app on 127.0.0.1:``port`` in this event loop until the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            http=http,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
    )
    task = asyncio.create_task(server.serve())
    try:

        async def started() -> bool:
            return bool(server.started)

        await wait_for(started, timeout_s=30, what=f"{what} to listen")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def running_intake(settings: IntakeSettings, *, ready: bool = True) -> AsyncIterator[str]:
    """Serve intake on its port; with ``ready``, wait until it has reached Kafka too."""
    # The protocol ``seinpost intake run`` serves with: one socket write per answer.
    async with serving(
        create_intake(settings), settings.port, what="intake", http=CoalescingHttpToolsProtocol
    ) as url:
        if ready:
            async with httpx.AsyncClient(base_url=url) as client:

                async def reached_kafka() -> bool:
                    return (await client.get("/readyz")).status_code == 200

                await wait_for(reached_kafka, timeout_s=60, what="intake to reach Kafka")
        yield url


@dataclass
class Pipeline:
    url: str
    kafka: KafkaSettings
    postgres: PostgresSettings
    classifier: ClassifierSettings
    aggregator: AggregatorSettings
    pool: asyncpg.Pool[Any]  # the test's own connections, for polling and assertions
    token: str = ""  # an organisation token for the four sample municipalities

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self.pool.fetchval(query, *args)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return list(await self.pool.fetch(query, *args))


@contextlib.asynccontextmanager
async def running_consumers(
    classifier: ClassifierSettings | None, aggregator: AggregatorSettings | None
) -> AsyncIterator[None]:
    apps = []
    if classifier is not None:
        apps.append(create_classifier(classifier))
    if aggregator is not None:
        apps.append(create_aggregator(aggregator))
    async with contextlib.AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(app)
        yield


@pytest.fixture
async def pipeline(
    kafka_settings: KafkaSettings, postgres_settings: PostgresSettings, tmp_path: Path
) -> AsyncIterator[Pipeline]:
    await ensure_topics(kafka_settings)
    suffix = kafka_settings.topic_namespace.strip(".")
    classifier = ClassifierSettings(
        kafka=kafka_settings,
        postgres=postgres_settings,
        model_dir=tmp_path / "models",
        group_id=f"{suffix}-classifier",
        batch_timeout_ms=20,
    )
    aggregator = AggregatorSettings(
        kafka=kafka_settings,
        postgres=postgres_settings,
        group_id=f"{suffix}-aggregator",
        batch_timeout_ms=20,
    )
    intake = IntakeSettings(
        kafka=kafka_settings,
        postgres=postgres_settings,
        port=free_port(),
        rate_limit_per_s=1e6,
        rate_limit_burst=1_000_000,
    )
    pool = await asyncpg.create_pool(
        postgres_settings.dsn.get_secret_value(), min_size=1, max_size=2
    )
    try:
        token = await issue_token(
            postgres_settings,
            "basisschool-de-regenboog",
            ["Gent", "Antwerpen", "Leuven", "Mechelen"],
        )
        async with running_consumers(classifier, aggregator), running_intake(intake) as url:
            yield Pipeline(
                url, kafka_settings, postgres_settings, classifier, aggregator, pool, token
            )
    finally:
        await pool.close()


async def issue_token(
    postgres: PostgresSettings, organisation: str, municipalities: list[str]
) -> str:
    """Create (or update) an organisation with its area and give it a fresh API token."""
    pool = await create_pool(postgres)
    try:
        store = AccessStore(pool)
        await store.migrate()
        await store.add_organisation(organisation, organisation, municipalities)
        return (await store.create_token(PrincipalKind.ORGANISATION, organisation, "test")).secret
    finally:
        await pool.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


# Services run in this process: their logs go through the same JSON pipeline as in production,
# at WARNING so that a failing test's output shows what matters.
configure_logging("tests", LoggingSettings(level="WARNING"))


# An intake with an organisation and a device token (phone form and import tests).
from tests.integration.enrolled import enrolled_intake  # noqa: E402, F401
