"""Classifier composition root: builds the broker, the taxonomy and the subscriber."""

from __future__ import annotations

from typing import Any

import structlog
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.classifier.domain import classifier_version, load_default_taxonomy
from services.classifier.handlers import handle_submitted_batch
from services.classifier.settings import ClassifierSettings
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
    # Bodies are decoded by the handler, record by record, so that one poison record becomes a
    # dead letter instead of failing the whole batch in FastStream's own decoder.
    return None


def create_broker_for(settings: ClassifierSettings) -> KafkaBroker:
    taxonomy = load_default_taxonomy()
    broker = create_broker(settings.kafka, client_id="classifier")
    publisher = EventPublisher(broker, timeout_s=settings.publish_timeout_s)
    backoff = RetryBackoff(max_s=settings.retry_backoff_max_s)

    @broker.subscriber(
        settings.kafka.submitted_topic,
        group_id=settings.group_id,
        batch=True,
        max_records=settings.batch_max_records,
        batch_timeout_ms=settings.batch_timeout_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_keep_raw,
        title="classifier.on_submitted",
        description="Tags submitted signals with life domains and publishes them as classified.",
    )
    async def on_submitted(message: KafkaMessage) -> None:
        try:
            outcome = await handle_submitted_batch(
                records_of(message.raw_message),
                taxonomy=taxonomy,
                publisher=publisher,
                kafka=settings.kafka,
                consumer_group=settings.group_id,
                max_record_bytes=settings.max_record_bytes,
            )
        except Exception:
            log.exception("batch.failed_will_retry", retry_in_s=backoff.current_s)
            await backoff.failed()
            raise  # NACK: FastStream seeks back, the batch is redelivered, nothing is committed
        backoff.succeeded()
        log.debug("batch.done", classified=outcome.classified, dead_lettered=outcome.dead_lettered)

    log.info("classifier.configured", classifier_version=classifier_version(taxonomy))
    return broker


def create_app(settings: ClassifierSettings | None = None) -> FastStream:
    settings = settings or ClassifierSettings()
    broker = create_broker_for(settings)
    app = FastStream(broker)

    @app.on_startup
    async def _topics() -> None:
        await ensure_topics(settings.kafka)

    return app


async def run(settings: ClassifierSettings | None = None) -> None:
    settings = settings or ClassifierSettings()
    configure_logging("classifier", settings.logging)
    await create_app(settings).run()
