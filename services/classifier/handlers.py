"""Classifier handlers: submitted signals in, classified signals out; corrections in, stored
and re-emitted as classified with the human tags. Poison goes to the dead-letter topic.

Offsets are committed by FastStream only after a handler returns, i.e. after PostgreSQL
committed the corrections and Kafka acknowledged every event and dead letter of the batch
(at-least-once; every write is idempotent on its id, and re-emitted events have
deterministic ids, so a redelivered batch doubles nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from schemas.topics import municipality_key
from schemas.v1 import (
    CorrectionV1,
    SignalClassifiedEventV1,
    SignalClassifiedV1,
    SignalCorrectedEventV1,
    SignalSubmittedEventV1,
)
from schemas.v1 import signal_classified_event as to_event
from services.classifier.domain import (
    LearnedModel,
    Taxonomy,
    UnknownDomainsError,
    belongs_to,
    classify,
    classify_many,
    corrected_classification,
)
from services.classifier.storage import CorrectionStore
from services.common.events import PoisonRecordError, RecordRef, build_dead_letter
from services.common.kafka import Outgoing, Publisher, dead_letter_outgoing, decode_batch
from services.common.settings import KafkaSettings

log = structlog.get_logger(__name__)

ModelSource = Callable[[], LearnedModel | None]


def no_model() -> LearnedModel | None:
    return None


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    classified: int
    dead_lettered: int
    needs_review: int = 0
    """Classified signals no domain scored high enough for: a person looks at them."""


@dataclass(frozen=True, slots=True)
class CorrectionsOutcome:
    stored: int
    """New rows (a redelivered correction is not new)."""
    re_emitted: int
    foreign: int
    """Corrections of another taxonomy: stored apart, never learned from, not re-emitted."""
    dead_lettered: int


def classify_submitted(
    event: SignalSubmittedEventV1, taxonomy: Taxonomy, model: LearnedModel | None = None
) -> SignalClassifiedEventV1:
    signal = event.data
    classification = classify(signal.text, taxonomy, classified_at=datetime.now(UTC), model=model)
    # Both parts are validated models already (the signal when decoded, the classification
    # when built): assembling them needs no second validation pass.
    return to_event(
        SignalClassifiedV1.model_construct(signal=signal, classification=classification)
    )


async def handle_submitted_batch(
    records: Sequence[RecordRef],
    *,
    taxonomy: Taxonomy,
    publisher: Publisher,
    kafka: KafkaSettings,
    consumer_group: str,
    max_record_bytes: int,
    model: ModelSource = no_model,
) -> BatchOutcome:
    batch = decode_batch(
        records,
        SignalSubmittedEventV1,
        service="classifier",
        consumer_group=consumer_group,
        max_bytes=max_record_bytes,
    )
    learned = model()  # one model for the whole batch, even if a newer file lands meanwhile
    # No per-record log lines or bound context here: at thousands of signals per second
    # they cost more than the classification; the batch is logged once below.
    topic = kafka.classified_topic
    signals = [event.data for _, event in batch.events]
    # The whole batch in one call: the learned model scores all texts at once, which is
    # what keeps a model from halving the rate (classify_many == classify per text).
    classifications = classify_many(
        [signal.text for signal in signals],
        taxonomy,
        classified_at=datetime.now(UTC),
        model=learned,
    )
    outgoing: list[Outgoing] = [
        Outgoing(
            topic,
            municipality_key(signal.municipality),
            # Both parts are validated models already: no second validation pass.
            to_event(
                SignalClassifiedV1.model_construct(signal=signal, classification=classification)
            ),
        )
        for signal, classification in zip(signals, classifications, strict=True)
    ]
    needs_review = sum(1 for item in outgoing if item.event.data.classification.needs_review)
    outgoing.extend(dead_letter_outgoing(kafka, batch.dead_letters))
    await publisher.publish_all(outgoing)
    log.info(
        "batch.classified",
        classified=len(batch.events),
        needs_review=needs_review,
        dead_lettered=len(batch.dead_letters),
    )
    return BatchOutcome(
        classified=len(batch.events),
        dead_lettered=len(batch.dead_letters),
        needs_review=needs_review,
    )


async def handle_corrections_batch(
    records: Sequence[RecordRef],
    *,
    taxonomy: Taxonomy,
    store: CorrectionStore,
    publisher: Publisher,
    kafka: KafkaSettings,
    consumer_group: str,
    max_record_bytes: int,
) -> CorrectionsOutcome:
    batch = decode_batch(
        records,
        SignalCorrectedEventV1,
        service="classifier",
        consumer_group=consumer_group,
        max_bytes=max_record_bytes,
    )
    keep: list[CorrectionV1] = []
    outgoing: list[Outgoing] = []
    foreign = 0
    for record, event in batch.events:
        correction = event.data
        if not belongs_to(correction, taxonomy):
            # Kept (under its own taxonomy_id) for whoever runs that taxonomy; this
            # classifier neither learns from it nor republishes it.
            foreign += 1
            keep.append(correction)
            log.info(
                "correction.other_taxonomy",
                correction_id=str(correction.correction_id),
                signal_id=str(correction.signal.signal_id),
                partition=record.partition,
                offset=record.offset,
                taxonomy_id=correction.taxonomy_id,
            )
            continue
        try:
            classification = corrected_classification(correction, taxonomy)
        except UnknownDomainsError as error:
            batch.dead_letters.append(
                build_dead_letter(
                    record,
                    PoisonRecordError("unknown_domain", str(error)),
                    service="classifier",
                    consumer_group=consumer_group,
                )
            )
            log.warning(
                "correction.dead_lettered",
                correction_id=str(correction.correction_id),
                signal_id=str(correction.signal.signal_id),
                partition=record.partition,
                offset=record.offset,
            )
            continue
        keep.append(correction)
        outgoing.append(
            Outgoing(
                kafka.classified_topic,
                municipality_key(correction.signal.municipality),
                to_event(
                    SignalClassifiedV1(signal=correction.signal, classification=classification)
                ),
            )
        )
    # Stored first, then published: once both are durable the offsets may be committed.
    stored = await store.save(keep)
    outgoing.extend(dead_letter_outgoing(kafka, batch.dead_letters))
    await publisher.publish_all(outgoing)
    log.info(
        "batch.corrections",
        stored=stored,
        re_emitted=len(keep) - foreign,
        foreign=foreign,
        dead_lettered=len(batch.dead_letters),
    )
    return CorrectionsOutcome(
        stored=stored,
        re_emitted=len(keep) - foreign,
        foreign=foreign,
        dead_lettered=len(batch.dead_letters),
    )
