"""Kafka at the edge: broker factory, topic creation, publishing with acknowledgement, and
the batch-consumer plumbing that the classifier and the aggregator share.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Generic, Protocol

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError
from aiokafka.partitioner import DefaultPartitioner
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)
from pydantic import SkipValidation

from schemas.v1 import CloudEventV1, DeadLetterV1, dead_letter_event
from services.common.events import (
    CONTENT_TYPE,
    EventT,
    PoisonRecordError,
    RecordRef,
    build_dead_letter,
    decode_event,
    encode_event,
)
from services.common.settings import ConsumerSettings, KafkaSettings

if TYPE_CHECKING:
    from services.common.metrics import ConsumerMetrics

log = structlog.get_logger(__name__)


def ssl_context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    """The TLS context for SSL and SASL_SSL, built from the configured PEM files; ``None`` for
    the plaintext protocols. Without a CA file the system's trust store is used."""
    if not kafka.uses_ssl:
        return None
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH,
        cafile=str(kafka.ssl_cafile) if kafka.ssl_cafile is not None else None,
    )
    context.check_hostname = kafka.ssl_check_hostname
    if kafka.ssl_certfile is not None:
        context.load_cert_chain(
            str(kafka.ssl_certfile),
            str(kafka.ssl_keyfile) if kafka.ssl_keyfile is not None else None,
            kafka.ssl_key_password.get_secret_value() if kafka.ssl_key_password else None,
        )
    return context


def client_security(kafka: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments for aiokafka clients made directly (producers, consumers, admin), so
    they connect exactly as the FastStream brokers do (see :func:`broker_security`)."""
    options: dict[str, Any] = {"security_protocol": kafka.security_protocol}
    if kafka.uses_ssl:
        options["ssl_context"] = ssl_context(kafka)
    if kafka.uses_sasl:
        options["sasl_mechanism"] = kafka.sasl_mechanism
        options["sasl_plain_username"] = kafka.sasl_username
        options["sasl_plain_password"] = kafka.sasl_password.get_secret_value()
    return options


def broker_security(kafka: KafkaSettings) -> BaseSecurity | None:
    """FastStream's security object for :func:`create_broker`."""
    context = ssl_context(kafka)
    if kafka.uses_sasl:
        sasl = {
            "SCRAM-SHA-256": SASLScram256,
            "SCRAM-SHA-512": SASLScram512,
            "PLAIN": SASLPlaintext,
        }[kafka.sasl_mechanism]
        return sasl(
            kafka.sasl_username,
            kafka.sasl_password.get_secret_value(),
            ssl_context=context,
            use_ssl=kafka.uses_ssl,
        )
    if kafka.uses_ssl:
        return BaseSecurity(ssl_context=context, use_ssl=True)
    return None


def create_broker(kafka: KafkaSettings, *, client_id: str) -> KafkaBroker:
    """A broker whose producer loses nothing: every write waits for all in-sync replicas, and
    the idempotent producer keeps a retried send from being written twice."""
    return KafkaBroker(
        kafka.bootstrap_servers,
        security=broker_security(kafka),
        client_id=f"{kafka.client_id}-{client_id}",
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=kafka.request_timeout_ms,
        linger_ms=2,
        graceful_timeout=30.0,
        # A stdlib logger that propagates: FastStream's own has a handler of its own and
        # prints coloured text, bypassing the JSON log (services.common.logging).
        logger=logging.getLogger("faststream.kafka"),
    )


async def ensure_topics(kafka: KafkaSettings, *, timeout_s: float = 60.0) -> list[str]:
    """Create the topics that do not exist yet; returns the ones created. Waits for the broker."""
    deadline = time.monotonic() + timeout_s
    delay_s = 0.5
    while True:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=kafka.bootstrap_servers,
            client_id=f"{kafka.client_id}-admin",
            request_timeout_ms=kafka.request_timeout_ms,
            **client_security(kafka),
        )
        try:
            await admin.start()
            break
        except KafkaConnectionError:
            await admin.close()
            if time.monotonic() > deadline:
                raise
            # Growing pauses: a broker that refuses our credentials is not asked twice a second.
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 5.0)
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in kafka.all_topics() if name not in existing]
        if missing:
            # Another service may create one in between: that is the state we wanted anyway.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [NewTopic(name, kafka.partitions, kafka.replication_factor) for name in missing]
                )
            log.info("kafka.topics_created", topics=missing)
        return missing
    finally:
        await admin.close()


def event_headers(event: CloudEventV1[Any]) -> dict[str, str]:
    # Structured CloudEvents: the value is self-describing; headers only help routers and tools.
    return {"content-type": CONTENT_TYPE, "ce_type": event.type, "ce_id": event.id}


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str
    key: bytes
    event: CloudEventV1[Any]


class Publisher(Protocol):
    """What handlers need of Kafka; unit tests pass a fake that records what was published."""

    async def publish(self, outgoing: Outgoing) -> Any: ...

    async def publish_all(self, items: Iterable[Outgoing]) -> None: ...


class EventPublisher:
    """Publishes events and returns only once Kafka has acknowledged every one of them."""

    def __init__(self, broker: KafkaBroker, *, timeout_s: float) -> None:
        self._broker = broker
        self._timeout_s = timeout_s

    async def publish(self, outgoing: Outgoing) -> Any:
        return await asyncio.wait_for(
            self._broker.publish(
                encode_event(outgoing.event),
                outgoing.topic,
                key=outgoing.key,
                headers=event_headers(outgoing.event),
            ),
            timeout=self._timeout_s,
        )

    async def publish_all(self, items: Iterable[Outgoing]) -> None:
        """Send everything first, then wait for all acknowledgements: one round trip per batch
        instead of one per record."""
        futures = [
            await self._broker.publish(
                encode_event(item.event),
                item.topic,
                key=item.key,
                headers=event_headers(item.event),
                no_confirm=True,
            )
            for item in items
        ]
        if futures:
            await asyncio.wait_for(asyncio.gather(*futures), timeout=self._timeout_s)


@dataclass(slots=True)
class DecodedBatch(Generic[EventT]):
    events: list[tuple[RecordRef, EventT]] = field(default_factory=list)
    dead_letters: list[DeadLetterV1] = field(default_factory=list)


def records_of(raw_message: Any) -> list[RecordRef]:
    """FastStream hands a batch subscriber a tuple of aiokafka ConsumerRecords."""
    raw = raw_message if isinstance(raw_message, tuple | list) else (raw_message,)
    return [
        RecordRef(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            timestamp_ms=record.timestamp,
        )
        for record in raw
    ]


def decode_batch(
    records: Sequence[RecordRef],
    model: type[EventT],
    *,
    service: str,
    consumer_group: str,
    max_bytes: int,
) -> DecodedBatch[EventT]:
    batch: DecodedBatch[EventT] = DecodedBatch()
    for record in records:
        try:
            batch.events.append((record, decode_event(model, record.value, max_bytes=max_bytes)))
        except PoisonRecordError as error:
            batch.dead_letters.append(
                build_dead_letter(record, error, service=service, consumer_group=consumer_group)
            )
            log.warning(
                "record.dead_lettered",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                error_code=error.code,
                reason=error.reason,
            )
    return batch


def dead_letter_outgoing(
    kafka: KafkaSettings, dead_letters: Iterable[DeadLetterV1]
) -> list[Outgoing]:
    return [
        Outgoing(
            topic=kafka.dead_letter_topic,
            key=f"{letter.topic}/{letter.partition}".encode(),
            event=dead_letter_event(letter),
        )
        for letter in dead_letters
    ]


class RetryBackoff:
    """Pause before a failed batch is redelivered, so an outage (PostgreSQL restarting, Kafka
    leader moving) is not answered with a tight loop of identical failures."""

    def __init__(self, *, initial_s: float = 0.2, max_s: float = 30.0) -> None:
        self._initial_s = initial_s
        self._max_s = max_s
        self._current_s = 0.0

    async def failed(self) -> None:
        self._current_s = min(self._max_s, max(self._initial_s, self._current_s * 2))
        await asyncio.sleep(self._current_s)

    def succeeded(self) -> None:
        self._current_s = 0.0

    @property
    def current_s(self) -> float:
        return self._current_s


async def _records(message: Any) -> Any:
    # Bodies are decoded by the handler, record by record, so that one poison record becomes a
    # dead letter instead of failing the whole batch in FastStream's own decoder: the handler
    # gets the batch's ConsumerRecords as they came.
    return message.raw_message


def _batch_context(records: Sequence[RecordRef]) -> dict[str, Any]:
    """Where the batch sits in its topic: first and last offset per partition, for the log
    lines of the batch (per-record lines add the record's own offset and ids)."""
    spans: dict[int, list[int]] = {}
    for record in records:
        span = spans.get(record.partition)
        if span is None:
            spans[record.partition] = [record.offset, record.offset]
        else:
            span[1] = record.offset
    return {"records": len(records), "offsets": {str(p): span for p, span in spans.items()}}


def subscribe_batches(
    broker: KafkaBroker,
    *,
    topic: str,
    group_id: str,
    settings: ConsumerSettings,
    handle: Callable[[list[RecordRef]], Awaitable[object]],
    title: str,
    description: str,
    schema: type[CloudEventV1[Any]] | None = None,
    metrics: ConsumerMetrics | None = None,
    quiet: bool = False,
) -> Any:
    """Register a batch consumer with our delivery semantics; returns FastStream's subscriber.

    FastStream commits the batch's offsets only when ``handle`` returns. When it raises, the
    batch is not committed: after a back-off the consumer seeks back and it comes again.
    ``schema`` is the event model of one record, for the AsyncAPI document only: the records
    reach ``handle`` undecoded. While a batch is handled, its topic, group and offsets are
    bound to every log line (structlog contextvars). ``quiet``: a topic that sees a few records
    a day, polled every ``settings.quiet_poll_ms`` and fetched a record at a time, so that
    waiting costs next to nothing; the busy topics gather batches (``fetch_min_bytes``).
    """
    backoff = RetryBackoff(max_s=settings.retry_backoff_max_s)

    async def on_batch(raw: Any) -> None:
        records = records_of(raw)
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(
            topic=topic, group=group_id, **_batch_context(records)
        ):
            try:
                await handle(records)
            except Exception:
                log.exception("batch.failed_will_retry", retry_in_s=backoff.current_s)
                if metrics is not None:
                    metrics.batch_failed(group_id, topic)
                await backoff.failed()
                raise
        backoff.succeeded()
        if metrics is not None:
            metrics.batch_done(group_id, topic, records, started, time.time())

    # The signature FastStream reads for the AsyncAPI document: a batch of events of
    # ``schema``. SkipValidation: documented, never validated here (see _records).
    body_type: Any = Annotated[list[schema] if schema is not None else Any, SkipValidation()]  # type: ignore[valid-type, type-arg]
    on_batch.__annotations__ = {"raw": body_type, "return": None}
    on_batch.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("raw", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=body_type)],
        return_annotation=None,
    )
    subscriber = broker.subscriber(
        topic,
        group_id=group_id,
        batch=True,
        max_records=settings.batch_max_records,
        batch_timeout_ms=settings.quiet_poll_ms if quiet else settings.batch_timeout_ms,
        max_partition_fetch_bytes=settings.max_partition_fetch_bytes,
        # Quiet: Kafka's defaults, a fetch answered by the first record or after 500 ms.
        fetch_min_bytes=1 if quiet else settings.fetch_min_bytes,
        fetch_max_wait_ms=500 if quiet else settings.fetch_max_wait_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_records,
        title=title,
        description=description,
    )
    subscriber(on_batch)
    return subscriber


class ProducerPublisher:
    """Publishes straight through an aiokafka producer: for consumers that forward whole
    batches (the classifier), where FastStream's per-message publish path cost more than the
    work itself. Same guarantee as :class:`EventPublisher`: ``publish_all`` returns only
    once Kafka acknowledged every record (acks=all, idempotent producer)."""

    def __init__(self, kafka: KafkaSettings, *, client_id: str, timeout_s: float) -> None:
        self._kafka = kafka
        self._client_id = f"{kafka.client_id}-{client_id}"
        self._timeout_s = timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._partitioner = DefaultPartitioner()

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._kafka.bootstrap_servers,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=self._kafka.request_timeout_ms,
            # A batch of a few hundred classified events travels in a few large requests
            # instead of many 16 KiB ones.
            linger_ms=5,
            max_batch_size=512 * 1024,
            max_request_size=4 * 1024 * 1024,
            **client_security(self._kafka),
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("ProducerPublisher used before start()")
        return self._producer

    async def publish(self, outgoing: Outgoing) -> Any:
        await self.publish_all([outgoing])

    async def publish_all(self, items: Iterable[Outgoing]) -> None:
        """Pack the records into batches per partition, hand them all to the producer, then
        wait for every batch's acknowledgement. Batches instead of one ``send`` per record:
        a per-record send (its own future, metadata check and partitioning) cost about as
        much as encoding the event. Partitions are chosen by aiokafka's default partitioner,
        the one ``send`` uses, so a key lands where the other producers put it."""
        producer = self._started()
        builders: dict[tuple[str, int], list[Any]] = {}
        partitions: dict[str, list[int]] = {}
        futures = []
        for item in items:
            if item.topic not in partitions:
                partitions[item.topic] = sorted(await producer.partitions_for(item.topic))
            available = partitions[item.topic]
            destination = (item.topic, self._partitioner(item.key, available, available))
            event = item.event
            value = encode_event(event)
            headers = [(name, text.encode()) for name, text in event_headers(event).items()]
            batches = builders.setdefault(destination, [producer.create_batch()])
            if batches[-1].append(key=item.key, value=value, timestamp=None, headers=headers):
                continue
            # Full (max_batch_size): the next batch for the same partition. An empty batch
            # takes any first record; one above max_request_size fails at send, as with send().
            batches.append(producer.create_batch())
            if not batches[-1].append(key=item.key, value=value, timestamp=None, headers=headers):
                raise RuntimeError(f"a {len(value)}-byte record fits no producer batch")
        for (topic, partition), batches in builders.items():
            for batch in batches:
                batch.close()
                futures.append(await producer.send_batch(batch, topic, partition=partition))
        if futures:
            await asyncio.wait_for(asyncio.gather(*futures), timeout=self._timeout_s)
