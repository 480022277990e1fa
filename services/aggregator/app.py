"""Aggregator composition root: the PostgreSQL pool, migrations, topics and the subscriber."""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.aggregator.handlers import handle_classified_batch
from services.aggregator.settings import AggregatorSettings
from services.aggregator.storage import PostgresSignalStore, create_pool, migrate
from services.common.kafka import (
    EventPublisher,
    RetryBackoff,
    create_broker,
    ensure_topics,
    records_of,
)
from services.common.logging import configure_logging

log = structlog.get_logger(__name__)


async def _keep_raw(*_: Any) -> None:
    # The handler decodes record by record so that one poison record becomes a dead letter.
    return None


class _Resources:
    """Long-lived resources, created when the app starts (not at import or build time)."""

    pool: asyncpg.Pool | None = None
    store: PostgresSignalStore | None = None


def create_broker_for(settings: AggregatorSettings, resources: _Resources) -> KafkaBroker:
    broker = create_broker(settings.kafka, client_id="aggregator")
    publisher = EventPublisher(broker, timeout_s=settings.publish_timeout_s)
    backoff = RetryBackoff(max_s=settings.retry_backoff_max_s)

    @broker.subscriber(
        settings.kafka.classified_topic,
        group_id=settings.group_id,
        batch=True,
        max_records=settings.batch_max_records,
        batch_timeout_ms=settings.batch_timeout_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_keep_raw,
        title="aggregator.on_classified",
        description="Stores classified signals in PostgreSQL, idempotent on signal_id.",
    )
    async def on_classified(message: KafkaMessage) -> None:
        assert resources.store is not None, "the store is created on startup"
        try:
            outcome = await handle_classified_batch(
                records_of(message.raw_message),
                store=resources.store,
                publisher=publisher,
                kafka=settings.kafka,
                consumer_group=settings.group_id,
                max_record_bytes=settings.max_record_bytes,
            )
        except Exception:
            log.exception("batch.failed_will_retry", retry_in_s=backoff.current_s)
            await backoff.failed()
            raise  # NACK: nothing is committed, the batch comes again
        backoff.succeeded()
        log.debug("batch.done", stored_new=outcome.stored_new, dead_lettered=outcome.dead_lettered)

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
