"""Aggregator handler: classified signals in, rows in PostgreSQL (or dead letters) out.

FastStream commits the batch's offsets only after this returns, i.e. after the PostgreSQL
transaction committed and Kafka acknowledged the dead letters. A crash in between means a
redelivery, which the idempotent upsert absorbs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from schemas.v1 import (
    ClassificationSource,
    ClassificationV1,
    CorrectionV1,
    DecisionRecordedEventV1,
    DomainTagV1,
    SignalClassifiedEventV1,
    SignalClassifiedV1,
    SignalCorrectedEventV1,
)
from services.aggregator.storage import SignalStore
from services.common.events import RecordRef
from services.common.kafka import Publisher, dead_letter_outgoing, decode_batch
from services.common.settings import KafkaSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    received: int
    stored_new: int
    dead_lettered: int


async def handle_classified_batch(
    records: Sequence[RecordRef],
    *,
    store: SignalStore,
    publisher: Publisher,
    kafka: KafkaSettings,
    consumer_group: str,
    max_record_bytes: int,
) -> BatchOutcome:
    batch = decode_batch(
        records,
        SignalClassifiedEventV1,
        service="aggregator",
        consumer_group=consumer_group,
        max_bytes=max_record_bytes,
    )
    stored_new = await store.store_classified(
        [(record, event.data) for record, event in batch.events]
    )
    await publisher.publish_all(dead_letter_outgoing(kafka, batch.dead_letters))
    # One line per batch: at tens of thousands of signals a second, a line per signal would
    # cost more than storing it. Offsets locate every signal of the batch.
    if batch.events:
        first, last = batch.events[0][0], batch.events[-1][0]
        log.info(
            "signals.stored",
            received=len(batch.events),
            new=stored_new,
            topic=first.topic,
            first_offset=first.offset,
            last_offset=last.offset,
        )
    return BatchOutcome(
        received=len(records), stored_new=stored_new, dead_lettered=len(batch.dead_letters)
    )


async def handle_decision_batch(
    records: Sequence[RecordRef],
    *,
    store: SignalStore,
    publisher: Publisher,
    kafka: KafkaSettings,
    consumer_group: str,
    max_record_bytes: int,
) -> BatchOutcome:
    """Decisions from their topic into their history table, idempotent on decision_id."""
    batch = decode_batch(
        records,
        DecisionRecordedEventV1,
        service="aggregator",
        consumer_group=consumer_group,
        max_bytes=max_record_bytes,
    )
    stored_new = await store.store_decisions(
        [(record, event.data) for record, event in batch.events]
    )
    await publisher.publish_all(dead_letter_outgoing(kafka, batch.dead_letters))
    for record, event in batch.events:
        log.info(
            "decision.stored",
            decision_id=str(event.data.decision_id),
            steering_group_id=event.data.steering_group_id,
            theme_id=event.data.theme_id,
            offset=record.offset,
        )
    return BatchOutcome(
        received=len(records), stored_new=stored_new, dead_lettered=len(batch.dead_letters)
    )


def correction_as_classified(correction: CorrectionV1) -> SignalClassifiedV1:
    """A correction in the shape the classifier re-emits it: human tags, source=correction.

    Stored through the same path as the classified topic, so the copy that comes back from the
    classifier later is recognised (same correction id) and changes nothing.
    """
    return SignalClassifiedV1(
        signal=correction.signal,
        classification=ClassificationV1(
            classifier_version=f"correctie:{correction.correction_id}",
            taxonomy_version=correction.taxonomy_id,
            domains=[DomainTagV1(domain=domain, score=1.0) for domain in correction.domains],
            scores={},
            primary_domain=correction.domains[0],
            needs_review=False,
            classified_at=correction.corrected_at,
            source=ClassificationSource.CORRECTION,
            correction=correction.reference(),
        ),
    )


async def handle_correction_batch(
    records: Sequence[RecordRef],
    *,
    store: SignalStore,
    publisher: Publisher,
    kafka: KafkaSettings,
    consumer_group: str,
    max_record_bytes: int,
) -> BatchOutcome:
    """Corrections straight from their topic: they outrank the model even if the classifier is
    down; the classifier's re-emission of the same correction is then a no-op."""
    batch = decode_batch(
        records,
        SignalCorrectedEventV1,
        service="aggregator",
        consumer_group=consumer_group,
        max_bytes=max_record_bytes,
    )
    stored_new = await store.store_classified(
        [(record, correction_as_classified(event.data)) for record, event in batch.events]
    )
    await publisher.publish_all(dead_letter_outgoing(kafka, batch.dead_letters))
    for record, event in batch.events:
        log.info(
            "correction.stored",
            correction_id=str(event.data.correction_id),
            signal_id=str(event.data.signal.signal_id),
            offset=record.offset,
        )
    return BatchOutcome(
        received=len(records), stored_new=stored_new, dead_lettered=len(batch.dead_letters)
    )
