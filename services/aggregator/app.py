"""Aggregator composition root: the PostgreSQL pool, migrations, topics, the subscribers and
the bundle scheduler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import asyncpg
import structlog
from faststream import FastStream
from faststream.kafka import KafkaBroker
from prometheus_client import Counter

from schemas.v1 import (
    DeadLetterEventV1,
    DecisionRecordedEventV1,
    PolicyBundleEventV1,
    SignalClassifiedEventV1,
    SignalCorrectedEventV1,
)
from services.aggregator.domain.text import theme_terms
from services.aggregator.handlers import (
    handle_classified_batch,
    handle_correction_batch,
    handle_decision_batch,
)
from services.aggregator.scheduler import BundleMetrics, BundleScheduler
from services.aggregator.settings import AggregatorSettings
from services.aggregator.storage import PostgresSignalStore, migrate
from services.common.access import AccessStore
from services.common.events import RecordRef
from services.common.gc_tuning import tune_garbage_collector
from services.common.kafka import EventPublisher, create_broker, ensure_topics, subscribe_batches
from services.common.logging import configure_logging
from services.common.metrics import (
    ConsumerMetrics,
    MeteredPublisher,
    PublishMetrics,
    service_registry,
)
from services.common.postgres import create_pool
from services.common.probes import ConsumerProbes, kafka_check, postgres_check, serving_probes

log = structlog.get_logger(__name__)


_Handle = Callable[[list[RecordRef]], Awaitable[object]]


class _Resources:
    """Long-lived resources, created when the app starts (not at import or build time)."""

    pool: asyncpg.Pool | None = None
    store: PostgresSignalStore | None = None
    scheduler: BundleScheduler | None = None


@dataclass(frozen=True, slots=True)
class AggregatorService:
    app: FastStream
    broker: KafkaBroker
    probes: ConsumerProbes


@dataclass(frozen=True, slots=True)
class _Wiring:
    broker: KafkaBroker
    publisher: MeteredPublisher
    subscribers: list[Any]


def create_broker_for(
    settings: AggregatorSettings,
    resources: _Resources,
    *,
    metrics: ConsumerMetrics,
    publish_metrics: PublishMetrics,
    stored: Counter,
) -> _Wiring:
    broker = create_broker(settings.kafka, client_id="aggregator")
    publisher = MeteredPublisher(
        EventPublisher(broker, timeout_s=settings.publish_timeout_s),
        publish_metrics,
        dead_letter_topic=settings.kafka.dead_letter_topic,
    )

    def bound(handler: Callable[..., Awaitable[object]], group_id: str) -> _Handle:
        async def handle(records: list[RecordRef]) -> object:
            assert resources.store is not None, "the store is created on startup"
            outcome = await partial(
                handler,
                store=resources.store,
                publisher=publisher,
                kafka=settings.kafka,
                consumer_group=group_id,
                max_record_bytes=settings.max_record_bytes,
            )(records)
            stored.labels(group_id).inc(getattr(outcome, "stored_new", 0))
            return outcome

        return handle

    subscribers = [
        subscribe_batches(
            broker,
            topic=settings.kafka.classified_topic,
            group_id=settings.group_id,
            settings=settings,
            handle=bound(handle_classified_batch, settings.group_id),
            title="aggregator.on_classified",
            description="Stores classified signals and corrected tags, idempotent on signal_id.",
            schema=SignalClassifiedEventV1,
            metrics=metrics,
        ),
        subscribe_batches(
            broker,
            topic=settings.kafka.decisions_topic,
            # Its own group: a rebalance of one subscription does not pause the other.
            group_id=f"{settings.group_id}-decisions",
            settings=settings,
            handle=bound(handle_decision_batch, f"{settings.group_id}-decisions"),
            title="aggregator.on_decision",
            description="Stores steering-group decisions as history, idempotent on decision_id.",
            schema=DecisionRecordedEventV1,
            metrics=metrics,
            quiet=True,
        ),
        subscribe_batches(
            broker,
            topic=settings.kafka.corrections_topic,
            group_id=f"{settings.group_id}-corrections",
            settings=settings,
            handle=bound(handle_correction_batch, f"{settings.group_id}-corrections"),
            title="aggregator.on_correction",
            description="Applies human corrections of life domains (they outrank the model).",
            schema=SignalCorrectedEventV1,
            metrics=metrics,
            quiet=True,
        ),
    ]
    declare_publishers(broker, settings)
    return _Wiring(broker, publisher, subscribers)


def declare_publishers(broker: KafkaBroker, settings: AggregatorSettings) -> None:
    """What the aggregator writes, for the AsyncAPI document (it publishes through
    :class:`EventPublisher`, not through these)."""
    broker.publisher(
        settings.kafka.bundles_topic,
        schema=PolicyBundleEventV1,
        title="aggregator.publishes_bundles",
        description="A steering group's policy bundle, published after it was committed to "
        "PostgreSQL (by the scheduler when a period closes, or by `seinpost bundle`). Groups "
        "below the minimum size are suppressed. Key: the steering group.",
    )
    broker.publisher(
        settings.kafka.dead_letter_topic,
        schema=DeadLetterEventV1,
        title="aggregator.publishes_dead_letters",
        description="Classified signals, decisions and corrections that can never be stored, "
        "with their original bytes and the reason. Key: `topic/partition` of the original.",
    )


def create_service(settings: AggregatorSettings | None = None) -> AggregatorService:
    settings = settings or AggregatorSettings()
    resources = _Resources()
    registry = service_registry()
    consumer_metrics = ConsumerMetrics(registry)
    stored = Counter(
        "seinpost_aggregator_rows_stored",
        "New rows written (a redelivered record writes none), by consumer group.",
        ["group"],
        registry=registry,
    )
    bundle_metrics = BundleMetrics(registry)
    wiring = create_broker_for(
        settings,
        resources,
        metrics=consumer_metrics,
        publish_metrics=PublishMetrics(registry),
        stored=stored,
    )
    broker, publisher = wiring.broker, wiring.publisher
    probes = ConsumerProbes(
        "aggregator",
        registry,
        consumer_metrics,
        subscribers=wiring.subscribers,
        checks={
            "kafka": kafka_check(broker),
            "postgres": postgres_check(lambda: resources.pool),
        },
    )
    app = FastStream(broker)

    @app.on_startup
    async def _start() -> None:
        resources.pool = await create_pool(settings.postgres)
        async with resources.pool.acquire() as connection:
            await migrate(connection)
        # The scheduler's retention purge writes to the audit log (component access).
        await AccessStore(resources.pool).migrate()
        resources.store = PostgresSignalStore(resources.pool)
        await ensure_topics(settings.kafka)
        theme_terms("opwarmen")  # loads the lemma dictionary now, not in the first batch
        tune_garbage_collector()

    @app.after_startup
    async def _start_scheduler() -> None:
        probes.start()
        # After the broker started: the scheduler publishes through it.
        if settings.scheduler_enabled and resources.store is not None:
            resources.scheduler = BundleScheduler(
                resources.store, publisher, settings, metrics=bundle_metrics
            )
            resources.scheduler.start()

    @app.on_shutdown
    async def _stop_scheduler() -> None:
        # Unready first; then FastStream stops the subscribers, waiting (graceful_timeout)
        # for the batch in hand to be stored and committed.
        log.info("aggregator.stopping")
        await probes.stop()
        if resources.scheduler is not None:
            await resources.scheduler.stop()

    @app.after_shutdown
    async def _stop() -> None:
        if resources.pool is not None:
            await resources.pool.close()
        log.info("aggregator.stopped")

    return AggregatorService(app, broker, probes)


def create_app(settings: AggregatorSettings | None = None) -> FastStream:
    return create_service(settings).app


async def run(settings: AggregatorSettings | None = None) -> None:
    settings = settings or AggregatorSettings()
    configure_logging("aggregator", settings.logging)
    service = create_service(settings)
    async with serving_probes(
        service.probes, host=settings.metrics_host, port=settings.metrics_port
    ):
        await service.app.run()
