"""The classifier against the real broker and database: corrections stored and re-emitted,
training from stored corrections, the running service classifying with the learned model."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from schemas.topics import municipality_key
from schemas.v1 import (
    ClassificationSource,
    CorrectionV1,
    DeadLetterEventV1,
    SignalClassifiedEventV1,
    correction_event,
    signal_submitted_event,
)
from services.classifier.app import create_app
from services.classifier.domain import load_default_taxonomy, train
from services.classifier.settings import ClassifierSettings
from services.classifier.storage import ModelFiles, PostgresCorrectionStore
from services.common.events import encode_event
from services.common.kafka import ensure_topics
from services.common.postgres import create_pool
from services.common.settings import KafkaSettings, PostgresSettings
from tests.factories import submitted_signal
from tests.integration.conftest import wait_for
from tests.integration.test_pipeline import read_topic

TAXONOMY = load_default_taxonomy()


@pytest.fixture
async def classifier(
    kafka_settings: KafkaSettings, postgres_settings: PostgresSettings, tmp_path: Path
) -> AsyncIterator[ClassifierSettings]:
    await ensure_topics(kafka_settings)
    settings = ClassifierSettings(
        kafka=kafka_settings,
        postgres=postgres_settings,
        model_dir=tmp_path / "models",
        model_check_s=0.2,
        group_id=f"{kafka_settings.topic_namespace.strip('.')}-classifier",
        batch_timeout_ms=20,
    )
    async with create_app(settings):
        yield settings


async def send(kafka: KafkaSettings, topic: str, items: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        for key, value in items:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


def correction(text: str, domains: list[str], taxonomy_id: str = TAXONOMY.id) -> CorrectionV1:
    return CorrectionV1(
        correction_id=uuid.uuid4(),
        signal=submitted_signal(text=text),
        domains=domains,
        corrected_by_role="coordinator",
        corrected_at=datetime.now(UTC),
        reason=None,
        taxonomy_id=taxonomy_id,
    )


async def test_a_correction_is_stored_and_re_emitted_with_human_tags(
    classifier: ClassifierSettings,
) -> None:
    kafka = classifier.kafka
    mine = correction("Mama vindt geen opvang voor de baby.", ["gezin", "werk"])
    foreign = correction("Iets uit een ander netwerk.", ["gezin"], taxonomy_id="ander_net_v2")
    bad = correction("Een onbekend domein.", ["klimaat"])
    records = [
        (municipality_key(c.signal.municipality), encode_event(correction_event(c)))
        for c in (mine, foreign, bad)
    ]
    # The same correction twice: stored once, and downstream sees the same event id.
    await send(kafka, kafka.corrections_topic, [*records, records[0]])

    classified = [
        SignalClassifiedEventV1.model_validate_json(value)
        for value in await read_topic(kafka.bootstrap_servers, kafka.classified_topic, at_least=2)
    ]
    assert {event.data.signal.signal_id for event in classified} == {mine.signal.signal_id}
    assert len({event.id for event in classified}) == 1
    result = classified[0].data.classification
    assert result.source is ClassificationSource.CORRECTION
    assert [tag.domain for tag in result.domains] == ["gezin", "werk"]
    assert result.correction is not None
    assert result.correction.correction_id == mine.correction_id

    [letter] = [
        DeadLetterEventV1.model_validate_json(value).data
        for value in await read_topic(kafka.bootstrap_servers, kafka.dead_letter_topic, at_least=1)
    ]
    assert letter.error_code == "unknown_domain"
    assert "klimaat" in letter.error

    connection = await asyncpg.connect(classifier.postgres.dsn.get_secret_value())
    try:

        async def stored() -> list[asyncpg.Record]:
            return list(
                await connection.fetch(
                    "SELECT correction_id, taxonomy_id, domains FROM classifier_corrections"
                )
            )

        rows = await wait_for(
            lambda: _at_least(stored, 2), what="both valid corrections to be stored"
        )
    finally:
        await connection.close()
    by_id = {row["correction_id"]: row for row in rows}
    assert set(by_id) == {mine.correction_id, foreign.correction_id}
    assert by_id[mine.correction_id]["domains"] == ["gezin", "werk"]
    assert by_id[foreign.correction_id]["taxonomy_id"] == "ander_net_v2"


async def _at_least(probe: object, count: int) -> list[asyncpg.Record] | None:
    rows: list[asyncpg.Record] = await probe()  # type: ignore[operator]
    return rows if len(rows) >= count else None


async def test_the_service_classifies_with_a_model_trained_on_stored_corrections(
    classifier: ClassifierSettings,
) -> None:
    kafka = classifier.kafka
    # "tienerkot" is this network's own word for its youth house; the vocabulary lacks it.
    corrections = [
        correction(f"De tienerkot {what} deze week", ["vrije_tijd"])
        for what in ("is dicht", "is te vol", "sluit vroeg", "heeft geen begeleiders")
        for _ in range(8)
    ] + [correction("Schimmel in de woning", ["wonen"]) for _ in range(4)]
    await send(
        kafka,
        kafka.corrections_topic,
        [(b"gent", encode_event(correction_event(c))) for c in corrections],
    )
    pool = await create_pool(classifier.postgres)
    try:
        store = PostgresCorrectionStore(pool)

        async def all_stored() -> bool:
            count = await pool.fetchval("SELECT count(*) FROM classifier_corrections")
            return bool(count == len(corrections))

        await wait_for(all_stored, what="corrections stored")
        examples = await store.training_examples(TAXONOMY.id)
    finally:
        await pool.close()
    assert len(examples) == len(corrections)
    model = train(
        examples, domains=TAXONOMY.domain_ids, taxonomy_id=TAXONOMY.id, trained_at=datetime.now(UTC)
    )
    ModelFiles(classifier.model_dir).save(model)

    signal = submitted_signal(text="De tienerkot is al drie weken dicht")
    await send(
        kafka,
        kafka.submitted_topic,
        [(b"gent", encode_event(signal_submitted_event(signal)))],
    )
    values = await read_topic(
        kafka.bootstrap_servers, kafka.classified_topic, at_least=len(corrections) + 1
    )
    events = [SignalClassifiedEventV1.model_validate_json(value) for value in values]
    [event] = [e for e in events if e.data.signal.signal_id == signal.signal_id]
    result = event.data.classification
    assert result.source is ClassificationSource.MODEL
    assert model.version in result.classifier_version
    assert result.primary_domain == "vrije_tijd"
    assert any(
        evidence.term == f"geleerd uit {len(corrections)} correcties"
        for tag in result.domains
        for evidence in tag.evidence
    )
