"""Intake when Kafka cannot be reached: 503 with Retry-After, never a 2xx, and it recovers."""

from __future__ import annotations

import time

import httpx

from services.common.settings import KafkaSettings
from services.intake.settings import IntakeSettings
from tests.factories import submission_body
from tests.integration.conftest import free_port, running_intake, wait_for


async def test_503_with_retry_after_while_kafka_is_unreachable() -> None:
    closed_port = free_port()  # nothing listens here: a broker that is down
    settings = IntakeSettings(
        kafka=KafkaSettings(bootstrap_servers=f"127.0.0.1:{closed_port}"),
        port=free_port(),
        publish_timeout_s=2,
    )
    async with (
        running_intake(settings, ready=False) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        started = time.monotonic()
        response = await client.post("/v1/signals", json=submission_body())
        assert response.status_code == 503
        assert time.monotonic() - started < 5, "a client must not hang when Kafka is down"
        assert int(response.headers["Retry-After"]) >= 1
        assert "hetzelfde signal_id" in response.json()["message"]
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.get("/healthz")).status_code == 200


async def test_intake_connects_once_kafka_is_there(stack_env: dict[str, str]) -> None:
    settings = IntakeSettings(
        kafka=KafkaSettings(
            bootstrap_servers=stack_env["SEINPOST_KAFKA_BOOTSTRAP_SERVERS"],
            topic_namespace="test-ready.",
        ),
        port=free_port(),
    )
    async with (
        running_intake(settings, ready=False) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):

        async def ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await wait_for(ready, timeout_s=30, what="intake to reach Kafka")
        response = await client.post("/v1/signals", json=submission_body())
        assert response.status_code == 202, response.text
