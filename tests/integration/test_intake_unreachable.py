"""Intake when Kafka cannot be reached: 503 with Retry-After, never a 2xx, and it recovers."""

from __future__ import annotations

import time

import httpx

from services.common.settings import KafkaSettings, PostgresSettings
from services.intake.settings import IntakeSettings
from tests.factories import submission_body
from tests.integration.conftest import free_port, issue_token, running_intake, wait_for


async def test_503_with_retry_after_while_kafka_is_unreachable(
    postgres_settings: PostgresSettings,
) -> None:
    closed_port = free_port()  # nothing listens here: a broker that is down
    settings = IntakeSettings(
        kafka=KafkaSettings(bootstrap_servers=f"127.0.0.1:{closed_port}"),
        postgres=postgres_settings,
        port=free_port(),
        publish_timeout_s=2,
    )
    token = await issue_token(postgres_settings, "basisschool-de-regenboog", ["Gent"])
    async with (
        running_intake(settings, ready=False) as url,
        httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client,
    ):
        started = time.monotonic()

        async def answered() -> httpx.Response | None:
            response = await client.post("/v1/signals", json=submission_body())
            # Until PostgreSQL is reached too, the token cannot be checked: also a 503.
            return response if response.json().get("error") == "kafka_unavailable" else None

        response = await wait_for(answered, timeout_s=30, what="a 503 for Kafka")
        assert response.status_code == 503
        assert time.monotonic() - started < 30, "a client must not hang when Kafka is down"
        assert int(response.headers["Retry-After"]) >= 1
        assert "hetzelfde signal_id" in response.json()["message"]
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.get("/healthz")).status_code == 200
        batch = await client.post("/v1/signals/batch", json={"signals": [submission_body()]})
        assert batch.status_code == 503


async def test_intake_connects_once_kafka_is_there(
    stack_env: dict[str, str], postgres_settings: PostgresSettings
) -> None:
    settings = IntakeSettings(
        kafka=KafkaSettings(
            bootstrap_servers=stack_env["SEINPOST_KAFKA_BOOTSTRAP_SERVERS"],
            topic_namespace="test-ready.",
        ),
        postgres=postgres_settings,
        port=free_port(),
    )
    token = await issue_token(postgres_settings, "basisschool-de-regenboog", ["Gent"])
    async with (
        running_intake(settings, ready=False) as url,
        httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client,
    ):

        async def ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await wait_for(ready, timeout_s=30, what="intake to reach Kafka")
        response = await client.post("/v1/signals", json=submission_body())
        assert response.status_code == 202, response.text
