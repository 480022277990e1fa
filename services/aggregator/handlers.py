"""Aggregator handler: classified signals in, rows in PostgreSQL (or dead letters) out.

FastStream commits the batch's offsets only after this returns, i.e. after the PostgreSQL
transaction committed and Kafka acknowledged the dead letters. A crash in between means a
redelivery, which the idempotent upsert absorbs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import structlog
from pydantic import BaseModel

from schemas.v1 import (
    ClassificationSource,
    ClassificationV1,
    CloudEventV1,
    CorrectionV1,
    DeadLetterV1,
    DecisionRecordedEventV1,
    DecisionV1,
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


# A batch is decoded and stored in chunks of this many records, and the next chunk is decoded
# while PostgreSQL stores the previous ones: the processes then work on both cores at once
# instead of taking turns. Up to PIPELINE_DEPTH chunks are written at once, each on its own
# connection: one backend alone stored a chunk more slowly than this process decoded the next,
# so the aggregator waited on it. Chunks whose records share a key (a signal redelivered or
# corrected within the batch) are never written at once, so concurrent transactions never
# touch the same rows and the order of writes per signal stays the order of the records.
# Decoding yields to the event loop every few milliseconds, so a write in flight can send its
# next statement as soon as the previous one is done. Each chunk is its own (idempotent)
# transaction; the offsets are still committed only after the last.
PIPELINE_CHUNK = 1000
PIPELINE_DEPTH = 2
DECODE_SLICE = 100


async def _store_batch(
    records: Sequence[RecordRef],
    event_model: type[CloudEventV1[EventData]],
    store_events: Callable[[list[tuple[RecordRef, EventData]]], Awaitable[int]],
    key: Callable[[EventData], Hashable],
    *,
    keep_events: bool = True,
    publisher: Publisher,
    kafka: KafkaSettings,
    consumer_group: str,
    max_record_bytes: int,
) -> tuple[BatchOutcome, list[RecordRef], list[tuple[RecordRef, EventData]]]:
    """Decode, store what is valid, dead-letter the rest: the shape of every consumer here.

    ``key`` names the rows an event writes (its signal, its decision): chunks that share one
    are written one after the other. Returns the records stored and, with ``keep_events``, their
    events (a batch of 20,000 decoded signals holds about 100 MB, so the signal consumer does
    without). Returns before the caller commits offsets, so both the rows and the dead letters
    are durable by then.
    """
    decode = partial(
        decode_batch,
        model=event_model,
        service="aggregator",
        consumer_group=consumer_group,
        max_bytes=max_record_bytes,
    )
    chunks = [records[i : i + PIPELINE_CHUNK] for i in range(0, len(records), PIPELINE_CHUNK)]
    events: list[tuple[RecordRef, EventData]] = []
    stored: list[RecordRef] = []
    dead_letters: list[DeadLetterV1] = []
    stored_new = 0
    writing: list[tuple[asyncio.Task[int], set[Hashable]]] = []  # oldest first
    try:
        for chunk in chunks:
            parts = []
            for start in range(0, len(chunk), DECODE_SLICE):
                parts.append(decode(chunk[start : start + DECODE_SLICE]))
                if writing:
                    await asyncio.sleep(0)  # a write in flight sends its next statement
            chunk_events = [
                (record, event.data) for batch in parts for record, event in batch.events
            ]
            stored += [record for record, _ in chunk_events]
            if keep_events:
                events += chunk_events
            dead_letters += [letter for batch in parts for letter in batch.dead_letters]
            keys = {key(event) for _, event in chunk_events}
            while writing and (
                len(writing) >= PIPELINE_DEPTH or any(not keys.isdisjoint(k) for _, k in writing)
            ):
                stored_new += await writing.pop(0)[0]
            if chunk_events:
                writing.append((asyncio.ensure_future(store_events(chunk_events)), keys))
        while writing:
            stored_new += await writing.pop(0)[0]
    except BaseException:
        # Nothing of a failed batch is acknowledged: writes still in flight are cancelled (their
        # transactions roll back; the redelivery repeats them) rather than left running
        # unobserved.
        for task, _ in writing:
            if not task.done():
                task.cancel()
            with contextlib.suppress(BaseException):
                await task
        raise
    await publisher.publish_all(dead_letter_outgoing(kafka, dead_letters))
    outcome = BatchOutcome(
        received=len(records), stored_new=stored_new, dead_lettered=len(dead_letters)
    )
    return outcome, stored, events


def _classified_key(classified: SignalClassifiedV1) -> Hashable:
    # The UUID's integer: hashing a UUID object is a Python-level call, an int's is not.
    return classified.signal.signal_id.int


def _decision_key(decision: DecisionV1) -> Hashable:
    return decision.decision_id


def _correction_key(correction: CorrectionV1) -> Hashable:
    return correction.signal.signal_id.int  # the same key as its signal's classifications


async def handle_classified_batch(
    records: Sequence[RecordRef],
    *,
    store: SignalStore,
    publisher: Publisher,
    kafka: KafkaSettings,
    consumer_group: str,
    max_record_bytes: int,
) -> BatchOutcome:
    outcome, stored, _ = await _store_batch(
        records,
        SignalClassifiedEventV1,
        store.store_classified,
        _classified_key,
        keep_events=False,
        publisher=publisher,
        kafka=kafka,
        consumer_group=consumer_group,
        max_record_bytes=max_record_bytes,
    )
    # One line per batch: at tens of thousands of signals a second, a line per signal would
    # cost more than storing it. Offsets locate every signal of the batch.
    if stored:
        first, last = stored[0], stored[-1]
        log.info(
            "signals.stored",
            received=len(stored),
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
    outcome, _, events = await _store_batch(
        records,
        DecisionRecordedEventV1,
        store.store_decisions,
        _decision_key,
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

    outcome, _, events = await _store_batch(
        records,
        SignalCorrectedEventV1,
        store_corrections,
        _correction_key,
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
