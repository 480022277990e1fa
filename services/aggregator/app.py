"""Aggregator composition root: the PostgreSQL pool, migrations, topics, the subscribers and
the bundle scheduler."""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable
from functools import partial

import asyncpg
import structlog
from faststream import FastStream
from faststream.kafka import KafkaBroker

from services.aggregator.domain.text import theme_terms
from services.aggregator.handlers import (
    handle_classified_batch,
    handle_correction_batch,
    handle_decision_batch,
)
from services.aggregator.scheduler import BundleScheduler
from services.aggregator.settings import AggregatorSettings
from services.aggregator.storage import PostgresSignalStore, migrate
from services.common.access import AccessStore
from services.common.events import RecordRef
from services.common.kafka import EventPublisher, create_broker, ensure_topics, subscribe_batches
from services.common.logging import configure_logging
from services.common.postgres import create_pool

log = structlog.get_logger(__name__)


_Handle = Callable[[list[RecordRef]], Awaitable[object]]


class _Resources:
    """Long-lived resources, created when the app starts (not at import or build time)."""

    pool: asyncpg.Pool | None = None
    store: PostgresSignalStore | None = None
    scheduler: BundleScheduler | None = None


def create_broker_for(
    settings: AggregatorSettings, resources: _Resources
) -> tuple[KafkaBroker, EventPublisher]:
    broker = create_broker(settings.kafka, client_id="aggregator")
    publisher = EventPublisher(broker, timeout_s=settings.publish_timeout_s)

    def bound(handler: Callable[..., Awaitable[object]], group_id: str) -> _Handle:
        async def handle(records: list[RecordRef]) -> object:
            assert resources.store is not None, "the store is created on startup"
            return await partial(
                handler,
                store=resources.store,
                publisher=publisher,
                kafka=settings.kafka,
                consumer_group=group_id,
                max_record_bytes=settings.max_record_bytes,
            )(records)

        return handle

    subscribe_batches(
        broker,
        topic=settings.kafka.classified_topic,
        group_id=settings.group_id,
        settings=settings,
        handle=bound(handle_classified_batch, settings.group_id),
        title="aggregator.on_classified",
        description="Stores classified signals and corrected tags, idempotent on signal_id.",
    )
    subscribe_batches(
        broker,
        topic=settings.kafka.decisions_topic,
        # Its own group: a rebalance of one subscription does not pause the other.
        group_id=f"{settings.group_id}-decisions",
        settings=settings,
        handle=bound(handle_decision_batch, f"{settings.group_id}-decisions"),
        title="aggregator.on_decision",
        description="Stores steering-group decisions as history, idempotent on decision_id.",
    )
    subscribe_batches(
        broker,
        topic=settings.kafka.corrections_topic,
        group_id=f"{settings.group_id}-corrections",
        settings=settings,
        handle=bound(handle_correction_batch, f"{settings.group_id}-corrections"),
        title="aggregator.on_correction",
        description="Applies human corrections of life domains (they outrank the model).",
    )
    return broker, publisher


def tune_garbage_collector() -> None:
    """Collect less often: a batch of 5,000 signals allocates hundreds of thousands of
    short-lived objects, and at CPython's default threshold (700) the collector walks the heap
    so often that it takes about half of the CPU time of storing a signal. None of these
    objects form cycles that need prompt collection. ``freeze`` moves what exists after
    start-up (modules, schemas, the lemma dictionary) out of the collector's way for good."""
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


def create_app(settings: AggregatorSettings | None = None) -> FastStream:
    settings = settings or AggregatorSettings()
    resources = _Resources()
    broker, publisher = create_broker_for(settings, resources)
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
        # After the broker started: the scheduler publishes through it.
        if settings.scheduler_enabled and resources.store is not None:
            resources.scheduler = BundleScheduler(resources.store, publisher, settings)
            resources.scheduler.start()

    @app.on_shutdown
    async def _stop_scheduler() -> None:
        if resources.scheduler is not None:
            await resources.scheduler.stop()

    @app.after_shutdown
    async def _stop() -> None:
        if resources.pool is not None:
            await resources.pool.close()

    return app


async def run(settings: AggregatorSettings | None = None) -> None:
    settings = settings or AggregatorSettings()
    configure_logging("aggregator", settings.logging)
    await create_app(settings).run()
