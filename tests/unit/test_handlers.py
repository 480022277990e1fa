"""Handlers with fakes: what goes out for good records, poison and failures."""

from __future__ import annotations

from datetime import date
from functools import partial

import pytest

from schemas.v1 import (
    DeadLetterEventV1,
    SignalClassifiedEventV1,
    signal_classified_event,
    signal_submitted_event,
)
from services.aggregator.bundling import compile_and_store, publish_bundle
from services.aggregator.handlers import handle_classified_batch
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


async def test_bundle_is_stored_before_it_is_published() -> None:
    store = InMemorySignalStore()
    for _ in range(6):
        classified = classified_signal(submitted_signal())
        store.signals[classified.signal.signal_id] = classified
    bundle = await compile_and_store(
        store,
        municipality="gent",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        min_group_size=5,
    )
    assert bundle.bundle_id in store.bundles
    assert bundle.bundle_id not in store.published
    assert bundle.signal_count.count == 6
    publisher = FakePublisher()
    await publish_bundle(bundle, store=store, publisher=publisher, kafka=KAFKA)
    assert bundle.bundle_id in store.published
    assert publisher.published[0].topic == KAFKA.bundles_topic


async def test_a_bundle_that_fails_to_publish_stays_unpublished() -> None:
    store = InMemorySignalStore()
    bundle = await compile_and_store(
        store,
        municipality="Gent",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        min_group_size=5,
    )
    with pytest.raises(TimeoutError):
        await publish_bundle(bundle, store=store, publisher=FakePublisher(fail=True), kafka=KAFKA)
    assert bundle.bundle_id in store.bundles
    assert bundle.bundle_id not in store.published
