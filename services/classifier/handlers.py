"""Classifier handler: submitted signals in, classified signals (or dead letters) out.

Offsets are committed by FastStream only after this returns, i.e. after Kafka acknowledged
every classified event and dead letter of the batch (at-least-once; consumers downstream
are idempotent on ``signal_id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from schemas.topics import municipality_key
from schemas.v1 import SignalClassifiedEventV1, SignalClassifiedV1, SignalSubmittedEventV1
from schemas.v1 import signal_classified_event as to_event
from services.classifier.domain import Taxonomy, classify
from services.common.events import RecordRef
from services.common.kafka import Outgoing, Publisher, dead_letter_outgoing, decode_batch
from services.common.settings import KafkaSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    classified: int
    dead_lettered: int


def classify_submitted(
    event: SignalSubmittedEventV1, taxonomy: Taxonomy
) -> SignalClassifiedEventV1:
    signal = event.data
    classification = classify(signal.text, taxonomy, classified_at=datetime.now(UTC))
    return to_event(SignalClassifiedV1(signal=signal, classification=classification))


async def handle_submitted_batch(
    records: Sequence[RecordRef],
    *,
    taxonomy: Taxonomy,
    publisher: Publisher,
    kafka: KafkaSettings,
    consumer_group: str,
    max_record_bytes: int,
) -> BatchOutcome:
    batch = decode_batch(
        records,
        SignalSubmittedEventV1,
        service="classifier",
        consumer_group=consumer_group,
        max_bytes=max_record_bytes,
    )
    outgoing: list[Outgoing] = []
    for record, event in batch.events:
        with structlog.contextvars.bound_contextvars(
            signal_id=str(event.data.signal_id),
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        ):
            classified = classify_submitted(event, taxonomy)
            outgoing.append(
                Outgoing(
                    kafka.classified_topic, municipality_key(event.data.municipality), classified
                )
            )
            log.info(
                "signal.classified",
                domains=[tag.domain for tag in classified.data.classification.domains],
                needs_review=classified.data.classification.needs_review,
            )
    outgoing.extend(dead_letter_outgoing(kafka, batch.dead_letters))
    await publisher.publish_all(outgoing)
    return BatchOutcome(classified=len(batch.events), dead_lettered=len(batch.dead_letters))
