"""Aggregator composition root: the PostgreSQL pool, migrations, topics and the subscriber."""

from __future__ import annotations

import asyncpg
import structlog
from faststream import FastStream
from faststream.kafka import KafkaBroker

from services.aggregator.handlers import handle_classified_batch
from services.aggregator.settings import AggregatorSettings
from services.aggregator.storage import PostgresSignalStore, migrate
from services.common.events import RecordRef
from services.common.kafka import EventPublisher, create_broker, ensure_topics, subscribe_batches
from services.common.logging import configure_logging
from services.common.postgres import create_pool

log = structlog.get_logger(__name__)


class _Resources:
    """Long-lived resources, created when the app starts (not at import or build time)."""

    pool: asyncpg.Pool | None = None
    store: PostgresSignalStore | None = None


def create_broker_for(settings: AggregatorSettings, resources: _Resources) -> KafkaBroker:
    broker = create_broker(settings.kafka, client_id="aggregator")
    publisher = EventPublisher(broker, timeout_s=settings.publish_timeout_s)

    async def handle(records: list[RecordRef]) -> None:
        assert resources.store is not None, "the store is created on startup"
        await handle_classified_batch(
            records,
            store=resources.store,
            publisher=publisher,
            kafka=settings.kafka,
            consumer_group=settings.group_id,
            max_record_bytes=settings.max_record_bytes,
        )

    subscribe_batches(
        broker,
        topic=settings.kafka.classified_topic,
        group_id=settings.group_id,
        settings=settings,
        handle=handle,
        title="aggregator.on_classified",
        description="Stores classified signals in PostgreSQL, idempotent on signal_id.",
    )
    return broker


def create_app(settings: AggregatorSettings | None = None) -> FastStream:
    settings = settings or AggregatorSettings()
    resources = _Resources()
    app = FastStream(create_broker_for(settings, resources))

    @app.on_startup
    async def _start() -> None:
        resources.pool = await create_pool(settings.postgres)
        async with resources.pool.acquire() as connection:
            await migrate(connection)
        resources.store = PostgresSignalStore(resources.pool)
        await ensure_topics(settings.kafka)

    @app.after_shutdown
    async def _stop() -> None:
        if resources.pool is not None:
            await resources.pool.close()

    return app


async def run(settings: AggregatorSettings | None = None) -> None:
    settings = settings or AggregatorSettings()
    configure_logging("aggregator", settings.logging)
    await create_app(settings).run()
