"""Handlers with fakes: what goes out for good records, poison and failures."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import pytest

from schemas.v1 import (
    ClassificationSource,
    CorrectionV1,
    DeadLetterEventV1,
    DecisionStatus,
    DecisionV1,
    PolicyBundleV1,
    SignalClassifiedEventV1,
    decision_event,
    signal_classified_event,
    signal_submitted_event,
)
from services.aggregator.bundling import publish_bundle
from services.aggregator.domain.bundle import BundleScope, SignalRecord, compile_bundle
from services.aggregator.handlers import (
    PIPELINE_CHUNK,
    PIPELINE_DEPTH,
    correction_as_classified,
    handle_classified_batch,
    handle_decision_batch,
)
from services.classifier.domain import load_default_taxonomy
from services.classifier.handlers import handle_submitted_batch
from services.common.events import RecordRef, encode_event
from services.common.settings import KafkaSettings
from tests.factories import classified_signal, submitted_signal
from tests.fakes import FakePublisher, InMemorySignalStore

KAFKA = KafkaSettings(topic_namespace="unit.")
TAXONOMY = load_default_taxonomy()
classify_batch = partial(
    handle_submitted_batch,
    taxonomy=TAXONOMY,
    kafka=KAFKA,
    consumer_group="g",
    max_record_bytes=65536,
)
store_batch = partial(
    handle_classified_batch, kafka=KAFKA, consumer_group="g", max_record_bytes=65536
)
store_decisions = partial(
    handle_decision_batch, kafka=KAFKA, consumer_group="g", max_record_bytes=65536
)


def record(offset: int, value: bytes) -> RecordRef:
    return RecordRef(
        topic=KAFKA.submitted_topic, partition=0, offset=offset, key=b"gent", value=value
    )


async def test_classifier_publishes_one_classified_event_per_signal_and_dead_letters_poison() -> (
    None
):
    publisher = FakePublisher()
    signal = submitted_signal(
        text="Schimmel in de sociale woning, de kinderen zijn vaak ziek en missen school."
    )
    outcome = await classify_batch(
        [record(0, encode_event(signal_submitted_event(signal))), record(1, b"{not json")],
        publisher=publisher,
    )
    assert (outcome.classified, outcome.dead_lettered) == (1, 1)
    classified, dead = publisher.published
    assert classified.topic == KAFKA.classified_topic
    assert classified.key == b"gent"
    event = SignalClassifiedEventV1.model_validate_json(encode_event(classified.event))
    assert event.data.signal == signal
    assert "wonen" in {tag.domain for tag in event.data.classification.domains}
    assert dead.topic == KAFKA.dead_letter_topic
    letter = DeadLetterEventV1.model_validate_json(encode_event(dead.event)).data
    assert (letter.offset, letter.error_code, letter.service) == (1, "invalid_json", "classifier")


async def test_classifier_failure_to_publish_propagates_so_nothing_is_committed() -> None:
    signal = submitted_signal()
    with pytest.raises(TimeoutError):
        await classify_batch(
            [record(0, encode_event(signal_submitted_event(signal)))],
            publisher=FakePublisher(fail=True),
        )


async def test_aggregator_stores_each_signal_once_even_when_redelivered() -> None:
    store = InMemorySignalStore()
    publisher = FakePublisher()
    classified = classified_signal()
    value = encode_event(signal_classified_event(classified))
    batch = [record(0, value), record(1, value), record(2, b"[]")]
    first = await store_batch(batch, store=store, publisher=publisher)
    again = await store_batch(batch, store=store, publisher=publisher)
    assert (first.stored_new, first.dead_lettered) == (1, 1)
    assert again.stored_new == 0
    assert list(store.signals) == [classified.signal.signal_id]


class ChunkWatcher:
    """A store that records which chunks were written at once."""

    def __init__(self, store: InMemorySignalStore) -> None:
        self.store = store
        self.calls: list[list[int]] = []
        self.in_flight: list[set[uuid.UUID]] = []
        self.most_at_once = 0

    async def store_classified(self, items: Any) -> int:
        ids = {classified.signal.signal_id for _, classified in items}
        assert all(ids.isdisjoint(other) for other in self.in_flight), (
            "two chunks with the same signal written at once"
        )
        self.in_flight.append(ids)
        self.most_at_once = max(self.most_at_once, len(self.in_flight))
        self.calls.append([r.offset for r, _ in items])
        await asyncio.sleep(0.01)  # the next chunk is decoded meanwhile
        self.in_flight.remove(ids)
        return await InMemorySignalStore.store_classified(self.store, items)


async def test_aggregator_stores_a_large_batch_in_chunks_each_record_once_and_in_order() -> None:
    """A batch larger than a chunk is stored chunk by chunk (the next decoded while earlier ones
    are written): every valid record reaches the store once, in offset order, at most
    PIPELINE_DEPTH chunks at once, and the poison among them is dead-lettered."""
    count = 3 * PIPELINE_CHUNK + 37
    values = [encode_event(signal_classified_event(classified_signal())) for _ in range(count)]
    values[PIPELINE_CHUNK + 5] = b"{not json"
    store = InMemorySignalStore()
    watcher = ChunkWatcher(store)
    store.store_classified = watcher.store_classified  # type: ignore[method-assign]
    publisher = FakePublisher()
    outcome = await store_batch(
        [record(i, v) for i, v in enumerate(values)], store=store, publisher=publisher
    )
    assert (outcome.stored_new, outcome.dead_lettered) == (count - 1, 1)
    assert len(watcher.calls) == 4
    assert watcher.most_at_once == PIPELINE_DEPTH
    assert [o for call in watcher.calls for o in call] == [
        i for i in range(count) if i != PIPELINE_CHUNK + 5
    ]
    [dead] = publisher.published
    assert DeadLetterEventV1.model_validate_json(encode_event(dead.event)).data.offset == (
        PIPELINE_CHUNK + 5
    )


async def test_chunks_that_share_a_signal_are_written_one_after_the_other() -> None:
    """A signal redelivered in the next chunk (or corrected there) waits for the chunk that
    holds it, so two transactions never write the same signal's rows at once."""
    again = classified_signal()
    values = [
        encode_event(signal_classified_event(classified_signal())) for _ in range(PIPELINE_CHUNK)
    ]
    values[3] = encode_event(signal_classified_event(again))
    values.append(encode_event(signal_classified_event(again)))  # first of the second chunk
    values += [encode_event(signal_classified_event(classified_signal())) for _ in range(10)]
    store = InMemorySignalStore()
    watcher = ChunkWatcher(store)
    store.store_classified = watcher.store_classified  # type: ignore[method-assign]
    outcome = await store_batch(
        [record(i, v) for i, v in enumerate(values)], store=store, publisher=FakePublisher()
    )
    assert outcome.stored_new == PIPELINE_CHUNK + 10
    assert len(watcher.calls) == 2
    assert watcher.most_at_once == 1
    assert again.signal.signal_id in store.signals


async def test_aggregator_failure_in_a_later_chunk_propagates_and_publishes_nothing() -> None:
    values = [
        encode_event(signal_classified_event(classified_signal()))
        for _ in range(PIPELINE_CHUNK + 1)
    ] + [b"[]"]
    store = InMemorySignalStore()
    calls = 0

    async def store_classified(items: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionError("PostgreSQL went away")
        return len(items)

    store.store_classified = store_classified  # type: ignore[method-assign]
    publisher = FakePublisher()
    with pytest.raises(ConnectionError):
        await store_batch(
            [record(i, v) for i, v in enumerate(values)], store=store, publisher=publisher
        )
    # Not even the dead letter: the batch comes again, and it is dead-lettered then.
    assert publisher.published == []


def gent_bundle(count: int) -> PolicyBundleV1:
    signals = [classified_signal(submitted_signal()) for _ in range(count)]
    scope = BundleScope(
        steering_group_id="gent",
        steering_group_name="Stuurgroep Gent",
        municipalities=frozenset({"Gent"}),
        neighbourhoods=None,
        domains_of_interest=None,
        min_group_size=5,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 12, 31),
    )
    records = [SignalRecord.of_classified(c) for c in signals]
    return compile_bundle(
        scope, records, [], [], compiled_at=datetime.now(UTC), bundle_id=uuid.uuid4(), version=1
    )


async def test_a_published_bundle_is_marked_and_keyed_by_its_steering_group() -> None:
    store = InMemorySignalStore()
    bundle = gent_bundle(6)
    assert bundle.signal_count.count == 6
    publisher = FakePublisher()
    await publish_bundle(
        bundle, steering_group_id="gent", store=store, publisher=publisher, kafka=KAFKA
    )
    assert bundle.bundle_id in store.published
    assert publisher.published[0].topic == KAFKA.bundles_topic
    assert publisher.published[0].key == b"gent"


async def test_a_bundle_that_fails_to_publish_stays_unpublished() -> None:
    store = InMemorySignalStore()
    bundle = gent_bundle(2)
    with pytest.raises(TimeoutError):
        await publish_bundle(
            bundle,
            steering_group_id="gent",
            store=store,
            publisher=FakePublisher(fail=True),
            kafka=KAFKA,
        )
    assert bundle.bundle_id not in store.published


async def test_decisions_are_stored_once_and_poison_is_dead_lettered() -> None:
    store = InMemorySignalStore()
    publisher = FakePublisher()
    decision = DecisionV1(
        decision_id=uuid.uuid4(),
        steering_group_id="gent",
        theme_id="onderwijs-1",
        status=DecisionStatus.REFERRED_CITY,
        owner="Sociaal Huis",
        note="De stad bekijkt het.",
        decided_at=datetime.now(UTC),
    )
    value = encode_event(decision_event(decision))
    batch = [record(0, value), record(1, value), record(2, b"{}")]
    first = await store_decisions(batch, store=store, publisher=publisher)
    again = await store_decisions(batch, store=store, publisher=publisher)
    assert (first.stored_new, first.dead_lettered) == (1, 1)
    assert again.stored_new == 0
    assert list(store.decisions) == [decision.decision_id]
    assert DeadLetterEventV1.model_validate_json(encode_event(publisher.published[0].event))


def test_a_correction_becomes_a_classification_that_names_its_source() -> None:
    signal = submitted_signal()
    correction = CorrectionV1(
        correction_id=uuid.uuid4(),
        signal=signal,
        domains=["wonen", "gezondheid"],
        corrected_by_role="coordinator",
        corrected_at=datetime.now(UTC),
        reason="schimmel is wonen",
        taxonomy_id="seinpost_v1",
    )
    classified = correction_as_classified(correction)
    assert classified.signal == signal
    assert classified.classification.source is ClassificationSource.CORRECTION
    assert classified.classification.primary_domain == "wonen"
    assert [t.domain for t in classified.classification.domains] == ["wonen", "gezondheid"]
    assert classified.classification.correction == correction.reference()
