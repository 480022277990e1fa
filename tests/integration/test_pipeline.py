"""The whole pipeline against the real broker and database: HTTP in, rows out, exactly once."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.v1 import DeadLetterEventV1, SignalClassifiedEventV1, signal_submitted_event
from services.common.events import encode_event
from tests.factories import submission_body, submitted_signal
from tests.integration.conftest import Pipeline, running_consumers, wait_for

SAMPLE_TEXTS = [
    "Drie ouders aan de schoolpoort kunnen de schooluitstap naar zee niet betalen.",
    "Wachtlijst kinderopvang is 9 maanden, mama kan daardoor niet gaan werken.",
    "Schimmel in de badkamer van de sociale woning, de kinderen zijn vaak ziek.",
    "Geen laptop thuis, de kinderen kunnen hun taken op Smartschool niet maken.",
    "De bus van De Lijn rijdt niet meer tot aan de school, ouders moeten een uur stappen.",
    "Jongeren vinden de weg naar het CAW niet, ze weten niet waar ze terechtkunnen.",
]


async def post_all(pipeline: Pipeline, bodies: list[dict[str, Any]]) -> list[int]:
    gate = asyncio.Semaphore(16)
    async with httpx.AsyncClient(
        base_url=pipeline.url, timeout=30, headers=pipeline.headers
    ) as client:

        async def post(body: dict[str, Any]) -> int:
            async with gate:
                return (await client.post("/v1/signals", json=body)).status_code

        return list(await asyncio.gather(*(post(body) for body in bodies)))


async def read_topic(
    bootstrap: str, topic: str, *, at_least: int, timeout_s: float = 30
) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    values: list[bytes] = []
    try:

        async def enough() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            values.extend(record.value for records in batch.values() for record in records)
            return len(values) >= at_least

        await wait_for(enough, timeout_s=timeout_s, what=f"{at_least} records on {topic}")
    finally:
        await consumer.stop()
    return values


async def test_signals_over_http_are_stored_exactly_once_with_domains(pipeline: Pipeline) -> None:
    bodies = [
        submission_body(text=f"{SAMPLE_TEXTS[i % len(SAMPLE_TEXTS)]} (melding {i})")
        for i in range(300)
    ]
    bodies[7]["text"] = (
        "Mama van Ayoub (0478 12 34 56) kan de huur en de energiefactuur niet betalen."
    )
    statuses = await post_all(pipeline, bodies)
    assert statuses == [202] * len(bodies)
    # Clients retry: the same ids again must not create a second row anywhere.
    assert set(await post_all(pipeline, bodies[:50])) == {200}

    async def all_classified() -> bool:
        stored = await pipeline.fetchval("SELECT count(*) FROM signal_classifications")
        return bool(stored >= len(bodies))

    await wait_for(all_classified, timeout_s=90, what="every signal stored and classified")
    ids = [uuid.UUID(body["signal_id"]) for body in bodies]
    assert await pipeline.fetchval("SELECT count(*) FROM signals") == len(bodies)
    assert await pipeline.fetchval(
        "SELECT count(DISTINCT signal_id) FROM signals WHERE signal_id = ANY($1::uuid[])", ids
    ) == len(bodies)
    assert await pipeline.fetchval("SELECT count(*) FROM signal_classifications") == len(bodies)
    untagged = await pipeline.fetchval(
        """
        SELECT count(*) FROM signal_classifications c
        WHERE NOT c.needs_review
          AND NOT EXISTS (SELECT 1 FROM signal_domains d WHERE d.signal_id = c.signal_id)
        """
    )
    assert untagged == 0
    tagged_domains = {
        row["domain"] for row in await pipeline.fetch("SELECT DISTINCT domain FROM signal_domains")
    }
    assert {"onderwijs", "inkomen", "wonen", "gezin", "digitaal", "mobiliteit"} <= tagged_domains
    scrubbed = await pipeline.fetchval(
        "SELECT text FROM signals WHERE signal_id = $1", uuid.UUID(bodies[7]["signal_id"])
    )
    assert "0478" not in scrubbed
    assert "Ayoub" not in scrubbed
    assert "[telefoon]" in scrubbed


async def test_poison_records_are_dead_lettered_and_the_pipeline_keeps_flowing(
    pipeline: Pipeline,
) -> None:
    wrong_version = json.loads(encode_event(signal_submitted_event(submitted_signal())))
    wrong_version["data"]["schema_version"] = "2.0"
    missing_field = json.loads(encode_event(signal_submitted_event(submitted_signal())))
    del missing_field["data"]["municipality"]
    poison = [
        b"this is not json",
        json.dumps(wrong_version).encode(),
        json.dumps(missing_field).encode(),
        b'{"specversion": "1.0", "data": {"families_count": "veel"}}',
        b'"' + b"x" * 300_000 + b'"',
    ]
    producer = AIOKafkaProducer(
        bootstrap_servers=pipeline.kafka.bootstrap_servers, acks="all", max_request_size=2_000_000
    )
    await producer.start()
    try:
        for value in poison:
            await producer.send_and_wait(pipeline.kafka.submitted_topic, value, key=b"gent")
        await producer.send_and_wait(pipeline.kafka.classified_topic, b"{broken", key=b"gent")
    finally:
        await producer.stop()

    body = submission_body()
    assert (await post_all(pipeline, [body])) == [202]

    async def valid_one_stored() -> bool:
        return bool(
            await pipeline.fetchval(
                "SELECT count(*) FROM signals WHERE signal_id = $1", uuid.UUID(body["signal_id"])
            )
        )

    await wait_for(valid_one_stored, what="the valid signal behind the poison")
    letters = [
        DeadLetterEventV1.model_validate_json(value).data
        for value in await read_topic(
            pipeline.kafka.bootstrap_servers, pipeline.kafka.dead_letter_topic, at_least=6
        )
    ]
    codes = sorted((letter.service, letter.error_code) for letter in letters)
    assert codes == sorted(
        [
            ("classifier", "invalid_json"),
            ("classifier", "unsupported_schema_version"),
            ("classifier", "invalid_event"),
            ("classifier", "invalid_event"),
            ("classifier", "payload_too_large"),
            ("aggregator", "invalid_json"),
        ]
    )
    missing = next(letter for letter in letters if "data.municipality" in letter.error)
    assert missing.topic == pipeline.kafka.submitted_topic
    assert await pipeline.fetchval("SELECT count(*) FROM signals") == 1


async def test_replaying_the_topics_changes_nothing(pipeline: Pipeline) -> None:
    bodies = [submission_body(text=text) for text in SAMPLE_TEXTS * 10]
    assert set(await post_all(pipeline, bodies)) == {202}

    async def all_stored() -> bool:
        count = await pipeline.fetchval("SELECT count(*) FROM signal_classifications")
        return bool(count == len(bodies))

    await wait_for(all_stored, what="first pass stored")
    snapshot_query = """
        SELECT s.signal_id, s.stored_at, c.classified_at, c.stored_at AS classification_stored_at,
               (SELECT count(*) FROM signal_domains d WHERE d.signal_id = s.signal_id) AS domains
        FROM signals s JOIN signal_classifications c USING (signal_id) ORDER BY s.signal_id
    """
    before = [dict(row) for row in await pipeline.fetch(snapshot_query)]

    # Replay both topics from the start with fresh consumer groups: the classifier republishes
    # every signal, the aggregator rereads all of it (twice over the classified topic).
    replay_classifier = pipeline.classifier.model_copy(update={"group_id": "replay-classifier"})
    replay_aggregator = pipeline.aggregator.model_copy(update={"group_id": "replay-aggregator"})
    async with running_consumers(replay_classifier, replay_aggregator):
        await wait_for(
            lambda: caught_up(
                pipeline, "replay-aggregator", pipeline.kafka.classified_topic, 2 * len(bodies)
            ),
            timeout_s=90,
            what="the replay to reach the end of the classified topic",
        )
    after = [dict(row) for row in await pipeline.fetch(snapshot_query)]
    assert after == before
    assert await pipeline.fetchval("SELECT count(*) FROM signals") == len(bodies)


async def caught_up(pipeline: Pipeline, group: str, topic: str, expected_records: int) -> bool:
    """True when ``group`` committed offsets past ``expected_records`` records of ``topic``."""
    partitions = [TopicPartition(topic, p) for p in range(pipeline.kafka.partitions)]
    admin = AIOKafkaAdminClient(bootstrap_servers=pipeline.kafka.bootstrap_servers)
    consumer = AIOKafkaConsumer(bootstrap_servers=pipeline.kafka.bootstrap_servers)
    await admin.start()
    await consumer.start()
    try:
        end = await consumer.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(group)
        done = all(tp in committed and committed[tp].offset == end[tp] for tp in partitions)
        return done and sum(end.values()) >= expected_records
    finally:
        await consumer.stop()
        await admin.close()


async def test_classified_events_carry_scores_and_evidence_for_every_domain(
    pipeline: Pipeline,
) -> None:
    body = submission_body(
        text="Geen geld voor een bril, dus het kind kan het bord in de klas niet lezen."
    )
    assert (await post_all(pipeline, [body])) == [202]
    [value] = await read_topic(
        pipeline.kafka.bootstrap_servers, pipeline.kafka.classified_topic, at_least=1
    )
    event = SignalClassifiedEventV1.model_validate_json(value)
    classification = event.data.classification
    assert str(event.data.signal.signal_id) == body["signal_id"]
    assert len(classification.scores) >= 12
    assert {"gezondheid", "onderwijs"} <= {tag.domain for tag in classification.domains}
    for tag in classification.domains:
        for evidence in tag.evidence:
            assert event.data.signal.text[evidence.start : evidence.end] == evidence.matched
