"""Aggregator handler: classified signals in, rows in PostgreSQL (or dead letters) out.

FastStream commits the batch's offsets only after this returns, i.e. after the PostgreSQL
transaction committed and Kafka acknowledged the dead letters. A crash in between means a
redelivery, which the idempotent upsert absorbs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import structlog
from pydantic import BaseModel

from schemas.v1 import (
    ClassificationSource,
    ClassificationV1,
    CloudEventV1,
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

EventData = TypeVar("EventData", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    received: int
    stored_new: int
    dead_lettered: int


async def _store_batch(
    records: Sequence[RecordRef],
    event_model: type[CloudEventV1[EventData]],
    store_events: Callable[[list[tuple[RecordRef, EventData]]], Awaitable[int]],
    *,
    publisher: Publisher,
    kafka: KafkaSettings,
    consumer_group: str,
    max_record_bytes: int,
) -> tuple[BatchOutcome, list[tuple[RecordRef, EventData]]]:
    """Decode, store what is valid, dead-letter the rest: the shape of every consumer here.

    Returns before the caller commits offsets, so both the rows and the dead letters are durable
    by then.
    """
    batch = decode_batch(
        records,
        event_model,
        service="aggregator",
        consumer_group=consumer_group,
        max_bytes=max_record_bytes,
    )
    events = [(record, event.data) for record, event in batch.events]
    stored_new = await store_events(events)
    await publisher.publish_all(dead_letter_outgoing(kafka, batch.dead_letters))
    outcome = BatchOutcome(
        received=len(records), stored_new=stored_new, dead_lettered=len(batch.dead_letters)
    )
    return outcome, events


async def handle_classified_batch(
    records: Sequence[RecordRef],
    *,
    store: SignalStore,
    publisher: Publisher,
    kafka: KafkaSettings,
    consumer_group: str,
    max_record_bytes: int,
) -> BatchOutcome:
    outcome, events = await _store_batch(
        records,
        SignalClassifiedEventV1,
        store.store_classified,
        publisher=publisher,
        kafka=kafka,
        consumer_group=consumer_group,
        max_record_bytes=max_record_bytes,
    )
    # One line per batch: at tens of thousands of signals a second, a line per signal would
    # cost more than storing it. Offsets locate every signal of the batch.
    if events:
        first, last = events[0][0], events[-1][0]
        log.info(
            "signals.stored",
            received=len(events),
            new=outcome.stored_new,
            topic=first.topic,
            first_offset=first.offset,
            last_offset=last.offset,
        )
    return outcome


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
    outcome, events = await _store_batch(
        records,
        DecisionRecordedEventV1,
        store.store_decisions,
        publisher=publisher,
        kafka=kafka,
        consumer_group=consumer_group,
        max_record_bytes=max_record_bytes,
    )
    for record, decision in events:
        log.info(
            "decision.stored",
            decision_id=str(decision.decision_id),
            steering_group_id=decision.steering_group_id,
            theme_id=decision.theme_id,
            partition=record.partition,
            offset=record.offset,
        )
    return outcome


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

    async def store_corrections(events: list[tuple[RecordRef, CorrectionV1]]) -> int:
        return await store.store_classified(
            [(record, correction_as_classified(correction)) for record, correction in events]
        )

    outcome, events = await _store_batch(
        records,
        SignalCorrectedEventV1,
        store_corrections,
        publisher=publisher,
        kafka=kafka,
        consumer_group=consumer_group,
        max_record_bytes=max_record_bytes,
    )
    for record, correction in events:
        log.info(
            "correction.stored",
            correction_id=str(correction.correction_id),
            signal_id=str(correction.signal.signal_id),
            partition=record.partition,
            offset=record.offset,
        )
    return outcome
