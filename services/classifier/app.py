"""Classifier composition root: builds the broker, the taxonomy and the subscriber."""

from __future__ import annotations

from functools import partial

import structlog
from faststream import FastStream
from faststream.kafka import KafkaBroker

from services.classifier.domain import classifier_version, load_default_taxonomy
from services.classifier.handlers import handle_submitted_batch
from services.classifier.settings import ClassifierSettings
from services.common.kafka import EventPublisher, create_broker, ensure_topics, subscribe_batches
from services.common.logging import configure_logging

log = structlog.get_logger(__name__)


def create_broker_for(settings: ClassifierSettings) -> KafkaBroker:
    taxonomy = load_default_taxonomy()
    broker = create_broker(settings.kafka, client_id="classifier")
    subscribe_batches(
        broker,
        topic=settings.kafka.submitted_topic,
        group_id=settings.group_id,
        settings=settings,
        handle=partial(
            handle_submitted_batch,
            taxonomy=taxonomy,
            publisher=EventPublisher(broker, timeout_s=settings.publish_timeout_s),
            kafka=settings.kafka,
            consumer_group=settings.group_id,
            max_record_bytes=settings.max_record_bytes,
        ),
        title="classifier.on_submitted",
        description="Tags submitted signals with life domains and publishes them as classified.",
    )
    log.info("classifier.configured", classifier_version=classifier_version(taxonomy))
    return broker


def create_app(settings: ClassifierSettings | None = None) -> FastStream:
    settings = settings or ClassifierSettings()
    app = FastStream(create_broker_for(settings))

    @app.on_startup
    async def _topics() -> None:
        await ensure_topics(settings.kafka)

    return app


async def run(settings: ClassifierSettings | None = None) -> None:
    settings = settings or ClassifierSettings()
    configure_logging("classifier", settings.logging)
    await create_app(settings).run()
