"""The consumer plumbing's observability without a broker: batch context bound to log lines,
metrics counted once per durable batch, dead letters by reason, probes' verdicts."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import structlog
from aiokafka import TopicPartition
from faststream.kafka import KafkaBroker, TestKafkaBroker
from prometheus_client import CollectorRegistry

from schemas.v1 import SignalSubmittedEventV1, signal_submitted_event
from services.common.events import PoisonRecordError, RecordRef, build_dead_letter, encode_event
from services.common.kafka import dead_letter_outgoing, subscribe_batches
from services.common.metrics import ConsumerMetrics, MeteredPublisher, PublishMetrics
from services.common.probes import ConsumerProbes
from services.common.settings import ConsumerSettings, KafkaSettings
from tests.factories import submitted_signal
from tests.fakes import FakePublisher

KAFKA = KafkaSettings(topic_namespace="unit.")


def sample(registry: CollectorRegistry, name: str, labels: dict[str, str]) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_a_batch_binds_its_topic_group_and_offsets_and_counts_once_done() -> None:
    registry = CollectorRegistry()
    metrics = ConsumerMetrics(registry)
    seen: list[dict[str, Any]] = []
    fail = {"next": True}

    async def handle(records: list[RecordRef]) -> None:
        seen.append(dict(structlog.contextvars.get_contextvars()))
        if fail["next"]:
            fail["next"] = False
            raise RuntimeError("PostgreSQL went away")

    broker = KafkaBroker()
    subscriber = subscribe_batches(
        broker,
        topic="unit.submitted",
        group_id="unit-group",
        settings=ConsumerSettings(retry_backoff_max_s=0.01),
        handle=handle,
        title="unit.on_submitted",
        description="unit",
        schema=SignalSubmittedEventV1,
        metrics=metrics,
    )
    value = encode_event(signal_submitted_event(submitted_signal()))
    async with TestKafkaBroker(broker) as test_broker:
        for _ in range(2):
            with contextlib.suppress(RuntimeError):  # the first batch fails on purpose
                await test_broker.publish(value, "unit.submitted", key=b"gent")
    assert subscriber is not None
    assert len(seen) == 2
    assert seen[1]["topic"] == "unit.submitted"
    assert seen[1]["group"] == "unit-group"
    assert seen[1]["records"] == 1
    [(first, last)] = seen[1]["offsets"].values()
    assert first == last
    assert structlog.contextvars.get_contextvars() == {}, "unbound after the batch"
    group = {"group": "unit-group", "topic": "unit.submitted"}
    assert sample(registry, "seinpost_consumer_records_total", group) == 1
    assert sample(registry, "seinpost_consumer_batches_total", {**group, "outcome": "failed"}) == 1
    assert (
        sample(registry, "seinpost_consumer_batches_total", {**group, "outcome": "committed"}) == 1
    )


async def test_dead_letters_are_counted_by_reason_after_kafka_acknowledged() -> None:
    registry = CollectorRegistry()
    inner = FakePublisher()
    publisher = MeteredPublisher(
        inner, PublishMetrics(registry), dead_letter_topic=KAFKA.dead_letter_topic
    )
    record = RecordRef("unit.submitted", 2, 7, b"gent", b"{oops")
    letters = [
        build_dead_letter(
            record, PoisonRecordError("invalid_json", "not JSON"), service="t", consumer_group="g"
        )
    ]
    await publisher.publish_all(dead_letter_outgoing(KAFKA, letters))
    labels = {"source_topic": "unit.submitted", "reason": "invalid_json"}
    assert sample(registry, "seinpost_dead_letters_total", labels) == 1
    assert (
        sample(registry, "seinpost_records_published_total", {"topic": KAFKA.dead_letter_topic})
        == 1
    )

    inner.fail = True  # Kafka did not acknowledge: nothing counted
    with contextlib.suppress(TimeoutError):
        await publisher.publish_all(dead_letter_outgoing(KAFKA, letters))
    assert sample(registry, "seinpost_dead_letters_total", labels) == 1


class _Subscriber:
    """A FastStream subscriber and its aiokafka consumer, as far as the probes look."""

    def __init__(self, *, running: bool, partitions: set[Any]) -> None:
        self.running = running
        self.group_id = "g"
        self.topic_names = ["t"]
        self.consumer = self
        self._partitions = partitions
        self.highwaters: dict[Any, int] = {}
        self.positions: dict[Any, int] = {}

    def assignment(self) -> set[Any]:
        return self._partitions

    def highwater(self, tp: Any) -> int | None:
        return self.highwaters.get(tp)

    async def position(self, tp: Any) -> int:
        return self.positions[tp]


async def test_lag_is_highwater_minus_position_and_forgets_revoked_partitions() -> None:
    registry = CollectorRegistry()
    p0, p1 = TopicPartition("t", 0), TopicPartition("t", 1)
    subscriber = _Subscriber(running=True, partitions={p0, p1})
    subscriber.highwaters = {p0: 120, p1: 50}
    subscriber.positions = {p0: 100, p1: 50}
    probes = ConsumerProbes("unit", registry, ConsumerMetrics(registry), subscribers=[subscriber])
    await probes.refresh_lag()
    lag = "seinpost_consumer_lag"
    assert registry.get_sample_value(lag, {"group": "g", "topic": "t", "partition": "0"}) == 20
    assert registry.get_sample_value(lag, {"group": "g", "topic": "t", "partition": "1"}) == 0
    assigned = {"group": "g", "topic": "t"}
    assert registry.get_sample_value("seinpost_consumer_assigned_partitions", assigned) == 2
    subscriber._partitions = {p1}  # a rebalance gave partition 0 to another replica
    await probes.refresh_lag()
    assert registry.get_sample_value(lag, {"group": "g", "topic": "t", "partition": "0"}) is None
    assert registry.get_sample_value("seinpost_consumer_assigned_partitions", assigned) == 1


async def test_probes_are_ready_only_with_dependencies_and_partitions() -> None:
    registry = CollectorRegistry()
    assigned = _Subscriber(running=True, partitions={("t", 0)})
    idle = _Subscriber(running=True, partitions=set())
    healthy: dict[str, bool] = {"postgres": True}

    async def postgres() -> None:
        if not healthy["postgres"]:
            raise ConnectionError("down")

    probes = ConsumerProbes(
        "unit",
        registry,
        ConsumerMetrics(registry),
        subscribers=[assigned],
        checks={"postgres": postgres},
    )
    transport = httpx.ASGITransport(app=probes.asgi())
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        assert (await client.get("/readyz")).status_code == 200
        assert registry.get_sample_value("seinpost_ready") == 1
        healthy["postgres"] = False
        answer = await client.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["postgres"] == "ConnectionError"
        assert registry.get_sample_value("seinpost_ready") == 0
        healthy["postgres"] = True
        probes.subscribers.append(idle)
        assert (await client.get("/readyz")).status_code == 503, "a replica without partitions"
        assert (await client.get("/healthz")).status_code == 200
        idle.running = False
        assert (await client.get("/healthz")).status_code == 503
        assert "seinpost_ready" in (await client.get("/metrics")).text
