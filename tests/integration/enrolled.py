"""An intake with an organisation and a device token, and a reader for the submitted topic:
shared by the phone-form and import tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.common.access import AccessStore, PrincipalKind
from services.common.kafka import ensure_topics
from services.common.postgres import create_pool
from services.common.settings import KafkaSettings, PostgresSettings
from services.intake.settings import IntakeSettings
from tests.integration.conftest import free_port, running_intake, wait_for

ORGANISATION = "buurtwerk-rabot"


@dataclass
class EnrolledIntake:
    url: str
    token: str
    kafka: KafkaSettings


@pytest.fixture
async def enrolled_intake(
    kafka_settings: KafkaSettings, postgres_settings: PostgresSettings
) -> AsyncIterator[EnrolledIntake]:
    await ensure_topics(kafka_settings)
    pool = await create_pool(postgres_settings)
    try:
        store = AccessStore(pool)
        await store.migrate()
        await store.add_organisation(ORGANISATION, "Buurtwerk Rabot", ["Gent"])
        issued = await store.create_token(PrincipalKind.ORGANISATION, ORGANISATION, "gsm test")
    finally:
        await pool.close()
    settings = IntakeSettings(kafka=kafka_settings, postgres=postgres_settings, port=free_port())
    async with running_intake(settings) as url:
        yield EnrolledIntake(url=url, token=issued.secret, kafka=kafka_settings)


async def read_submitted(kafka: KafkaSettings) -> list[dict[str, Any]]:
    """Every record on the submitted topic, from the beginning up to its end as of now."""
    consumer = AIOKafkaConsumer(
        kafka.submitted_topic,
        bootstrap_servers=kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    events: list[dict[str, Any]] = []
    ends: dict[TopicPartition, int] = {}
    try:

        async def caught_up() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            events.extend(orjson.loads(r.value) for records in batch.values() for r in records)
            partitions = consumer.assignment()
            if not partitions:
                return False
            if not ends:
                ends.update(await consumer.end_offsets(list(partitions)))
            return all([await consumer.position(p) >= ends[p] for p in partitions])

        await wait_for(caught_up, timeout_s=30, what="the end of the submitted topic")
    finally:
        await consumer.stop()
    return events
