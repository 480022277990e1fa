"""The pipeline against a broker that only speaks SASL/SCRAM-SHA-256.

deploy/local/stack.sh starts a second broker for this module (``SEINPOST_KAFKA_SASL=scram``, its
own SEINPOST_LOCAL_DIR and ports) and stops it afterwards; the shared broker is never touched.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka.errors import KafkaConnectionError
from pydantic import SecretStr

from services.aggregator.settings import AggregatorSettings
from services.classifier.settings import ClassifierSettings
from services.common.kafka import ensure_topics
from services.common.settings import KafkaSettings, PostgresSettings
from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from tests.factories import submission_body
from tests.integration.conftest import (
    ROOT,
    STACK,
    free_port,
    issue_token,
    running_consumers,
    running_intake,
    serving,
    wait_for,
)


@dataclass(frozen=True)
class ScramBroker:
    bootstrap_servers: str
    username: str
    password: str
    log_file: Path

    def settings(self, *, password: str | None = None) -> KafkaSettings:
        return KafkaSettings(
            bootstrap_servers=self.bootstrap_servers,
            topic_namespace=f"scram-{uuid.uuid4().hex[:8]}.",
            partitions=2,
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="SCRAM-SHA-256",
            sasl_username=self.username,
            sasl_password=SecretStr(password if password is not None else self.password),
        )


def _stack(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        ["bash", str(STACK), *args],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )


@pytest.fixture(scope="module")
def scram_broker(
    stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ScramBroker]:
    local_dir = tmp_path_factory.mktemp("scram-stack")
    # The jars the shared stack already fetched: this broker starts without Maven.
    shared_libs = Path(os.environ.get("SEINPOST_LOCAL_DIR") or ROOT / ".local") / "kafka" / "libs"
    libs = {"SEINPOST_KAFKA_LIBS_DIR": str(shared_libs)} if shared_libs.is_dir() else {}
    password = f"scram-{secrets.token_hex(12)}"
    env = {
        **os.environ,
        "SEINPOST_LOCAL_DIR": str(local_dir),
        "SEINPOST_KAFKA_PORT": str(free_port()),
        "SEINPOST_KAFKA_CONTROLLER_PORT": str(free_port()),
        "SEINPOST_KAFKA_SASL": "scram",
        "SEINPOST_KAFKA_SASL_USERNAME": "seinpost",
        "SEINPOST_KAFKA_SASL_PASSWORD": password,
        **libs,
    }
    started = time.monotonic()
    result = _stack(env, "start", "kafka")
    try:
        if result.returncode != 0:
            pytest.fail(f"SCRAM broker did not start:\n{result.stdout}\n{result.stderr}")
        print(f"\nSCRAM broker ready in {time.monotonic() - started:.1f} s")
        exported = dict(
            line.removeprefix("export ").replace("'", "").split("=", 1)
            for line in _stack(env, "env", "kafka").stdout.splitlines()
        )
        assert exported["SEINPOST_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        yield ScramBroker(
            bootstrap_servers=exported["SEINPOST_KAFKA_BOOTSTRAP_SERVERS"],
            username=exported["SEINPOST_KAFKA_SASL_USERNAME"],
            password=exported["SEINPOST_KAFKA_SASL_PASSWORD"],
            log_file=local_dir / "kafka" / "logs" / "kafka.log",
        )
    finally:
        _stack(env, "stop", "kafka")


class _Collect(logging.Handler):
    """Every log line as the services would write it (the root handler's formatter)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        root_handlers = logging.getLogger().handlers
        if root_handlers and root_handlers[0].formatter is not None:
            self.setFormatter(root_handlers[0].formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    handler = _Collect()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


async def test_pipeline_runs_over_sasl_scram(
    scram_broker: ScramBroker, postgres_settings: PostgresSettings, tmp_path: Path
) -> None:
    kafka = scram_broker.settings()
    await ensure_topics(kafka)
    suffix = kafka.topic_namespace.strip(".")
    classifier = ClassifierSettings(
        kafka=kafka,
        postgres=postgres_settings,
        model_dir=tmp_path / "models",
        group_id=f"{suffix}-classifier",
        batch_timeout_ms=20,
    )
    aggregator = AggregatorSettings(
        kafka=kafka,
        postgres=postgres_settings,
        group_id=f"{suffix}-aggregator",
        batch_timeout_ms=20,
    )
    intake = IntakeSettings(kafka=kafka, postgres=postgres_settings, port=free_port())
    token = await issue_token(postgres_settings, "basisschool-de-regenboog", ["Gent"])
    bodies = [submission_body() for _ in range(5)]
    connection = await asyncpg.connect(postgres_settings.dsn.get_secret_value())
    try:
        async with (
            running_consumers(classifier, aggregator),
            running_intake(intake) as url,
            httpx.AsyncClient(
                base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}
            ) as client,
        ):
            for body in bodies:
                assert (await client.post("/v1/signals", json=body)).status_code == 202

            async def all_classified() -> bool:
                count = await connection.fetchval(
                    "SELECT count(*) FROM signal_classifications WHERE signal_id = ANY($1::uuid[])",
                    [uuid.UUID(body["signal_id"]) for body in bodies],
                )
                return bool(count == len(bodies))

            await wait_for(all_classified, timeout_s=120, what="signals stored over SCRAM")
        assert await connection.fetchval("SELECT count(*) FROM signals") == len(bodies)
    finally:
        await connection.close()
    # The broker really authenticated us (not a plaintext fallback).
    assert "SASL_PLAINTEXT" in scram_broker.log_file.read_text(errors="replace")


async def test_wrong_credentials_fail_clearly_without_leaking_the_password(
    scram_broker: ScramBroker,
    postgres_settings: PostgresSettings,
    log_lines: list[str],
) -> None:
    wrong_password = f"wrong-{secrets.token_hex(8)}"
    kafka = scram_broker.settings(password=wrong_password)
    assert wrong_password not in repr(kafka)
    assert wrong_password not in str(kafka.model_dump())

    started = time.monotonic()
    with pytest.raises(KafkaConnectionError):
        await ensure_topics(kafka, timeout_s=4.0)
    elapsed = time.monotonic() - started
    attempts = [line for line in log_lines if "SaslAuthenticationFailed" in line]
    assert attempts, "the reason (authentication failed) must be in the log"
    # Growing pauses, not a tight loop: about one attempt per pause of 0.5, 1, 2, 4 s.
    assert len(attempts) <= 6, f"{len(attempts)} attempts in {elapsed:.1f} s"

    # A service keeps running and tells its orchestrator it is not ready.
    intake = IntakeSettings(
        kafka=kafka, postgres=postgres_settings, port=free_port(), publish_timeout_s=2
    )
    async with (
        serving(create_intake(intake), intake.port, what="intake") as url,
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):

        async def failed_at_least_twice() -> bool:
            return sum("kafka.unreachable" in line for line in log_lines) >= 2

        await wait_for(failed_at_least_twice, timeout_s=30, what="intake to retry Kafka")
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["kafka"] is False
    assert log_lines
    for line in log_lines:
        assert wrong_password not in line
        assert scram_broker.password not in line
