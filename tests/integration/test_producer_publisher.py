"""ProducerPublisher packs records into per-partition batches itself: against the real broker,
every record arrives once, in order, on the partition aiokafka's own ``send`` picks for its
key, also when a publish needs several producer batches per partition."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.topics import municipality_key
from schemas.v1 import SignalSubmittedV1, signal_submitted_event
from services.common.kafka import Outgoing, ProducerPublisher, ensure_topics
from services.common.settings import KafkaSettings

MUNICIPALITIES = ["Gent", "Antwerpen", "Brugge", "Leuven", "Mechelen", "Hasselt", "Aalst"]


def _outgoing(kafka: KafkaSettings, count: int) -> list[Outgoing]:
    now = datetime.now(UTC)
    items = []
    for index in range(count):
        municipality = MUNICIPALITIES[index % len(MUNICIPALITIES)]
        signal = SignalSubmittedV1(
            signal_id=uuid.uuid4(),
            observed_on=now.date(),
            text=f"Signaal {index}: " + "ouders vinden de weg naar de hulp niet. " * 15,
            municipality=municipality,
            vindplaats="schoolpoort",
            reporter_role="brugfiguur",
            knowledge_type="professionele_kennis",
            organisation="test",
            submitted_at=now,
            received_at=now,
        )
        items.append(
            Outgoing(
                kafka.submitted_topic,
                municipality_key(municipality),
                signal_submitted_event(signal),
            )
        )
    return items


async def _read_all(kafka: KafkaSettings, topic: str, expected: int) -> list[tuple[int, str]]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: list[tuple[int, str]] = []
    try:
        for _ in range(100):
            if len(seen) >= expected:
                break
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batch.values():
                seen.extend(
                    (record.partition, dict(record.headers)["ce_id"].decode()) for record in records
                )
    finally:
        await consumer.stop()
    return seen


async def test_batches_land_once_in_order_on_the_partition_send_picks(
    kafka_settings: KafkaSettings,
) -> None:
    await ensure_topics(kafka_settings)
    # ≈ 700 bytes each: several 512 KiB producer batches for every partition in use.
    items = _outgoing(kafka_settings, 6000)
    publisher = ProducerPublisher(kafka_settings, client_id="test", timeout_s=30)
    await publisher.start()
    try:
        await publisher.publish_all(items)
    finally:
        await publisher.stop()

    # The reference: aiokafka's per-record send, same keys, a topic with as many partitions.
    reference = AIOKafkaProducer(bootstrap_servers=kafka_settings.bootstrap_servers)
    await reference.start()
    try:
        expected_partition = {
            key: (
                await (await reference.send(kafka_settings.dead_letter_topic, b"x", key=key))
            ).partition
            for key in {item.key for item in items}
        }
    finally:
        await reference.stop()
    assert len(set(expected_partition.values())) > 1, "keys spread over several partitions"

    seen = await _read_all(kafka_settings, kafka_settings.submitted_topic, len(items))
    assert sorted(event_id for _, event_id in seen) == sorted(item.event.id for item in items)
    partition_of = dict((event_id, partition) for partition, event_id in seen)
    for item in items:
        assert partition_of[item.event.id] == expected_partition[item.key]
    for partition in set(expected_partition.values()):
        published = [i.event.id for i in items if expected_partition[i.key] == partition]
        assert [event_id for p, event_id in seen if p == partition] == published
