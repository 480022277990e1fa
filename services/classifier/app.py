"""Classifier composition root: taxonomy, model, broker, PostgreSQL pool and subscribers."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

import structlog
from faststream import FastStream
from faststream.kafka import KafkaBroker

from services.classifier.domain import classifier_version, load_taxonomy, warm_up
from services.classifier.handlers import (
    CorrectionsOutcome,
    handle_corrections_batch,
    handle_submitted_batch,
)
from services.classifier.settings import ClassifierSettings
from services.classifier.storage import CurrentModel, ModelFiles, PostgresCorrectionStore
from services.common.events import RecordRef
from services.common.kafka import (
    ProducerPublisher,
    create_broker,
    ensure_topics,
    subscribe_batches,
)
from services.common.logging import configure_logging
from services.common.postgres import create_pool

if TYPE_CHECKING:
    from services.common.postgres import Pool

log = structlog.get_logger(__name__)


class _Resources:
    """Built in the lifespan (the pool needs a running loop), used by the handlers."""

    pool: Pool | None = None
    store: PostgresCorrectionStore | None = None


def create_app(settings: ClassifierSettings | None = None) -> FastStream:
    settings = settings or ClassifierSettings()
    taxonomy = load_taxonomy(settings.taxonomy_file)
    current = CurrentModel(
        ModelFiles(settings.model_dir), taxonomy.id, check_s=settings.model_check_s
    )
    resources = _Resources()
    broker: KafkaBroker = create_broker(settings.kafka, client_id="classifier")
    publisher = ProducerPublisher(
        settings.kafka, client_id="classifier", timeout_s=settings.publish_timeout_s
    )
    subscribe_batches(
        broker,
        topic=settings.kafka.submitted_topic,
        group_id=settings.group_id,
        settings=settings,
        handle=partial(
            handle_submitted_batch,
            taxonomy=taxonomy,
            publisher=publisher,
            kafka=settings.kafka,
            consumer_group=settings.group_id,
            max_record_bytes=settings.max_record_bytes,
            model=current.get,
        ),
        title="classifier.on_submitted",
        description="Tags submitted signals with life domains and publishes them as classified.",
    )

    async def on_corrections(records: Sequence[RecordRef]) -> CorrectionsOutcome:
        assert resources.store is not None, "the store is built before the broker starts"
        return await handle_corrections_batch(
            records,
            taxonomy=taxonomy,
            store=resources.store,
            publisher=publisher,
            kafka=settings.kafka,
            consumer_group=settings.corrections_group,
            max_record_bytes=settings.max_record_bytes,
        )

    subscribe_batches(
        broker,
        topic=settings.kafka.corrections_topic,
        group_id=settings.corrections_group,
        settings=settings,
        handle=on_corrections,
        title="classifier.on_corrections",
        description="Stores corrections as training data and re-emits the signal as classified "
        "with the human tags.",
    )
    app = FastStream(broker)

    @app.on_startup
    async def _start() -> None:
        await ensure_topics(settings.kafka)
        await publisher.start()
        # The lemmatiser loads its Dutch dictionary on first use (about a second): do it
        # now rather than inside the first batch.
        warm_up()
        resources.pool = await create_pool(settings.postgres)
        resources.store = PostgresCorrectionStore(resources.pool)
        await resources.store.migrate()
        model = current.get()
        log.info(
            "classifier.started",
            classifier_version=classifier_version(taxonomy, model),
            taxonomy_id=taxonomy.id,
        )

    @app.after_shutdown
    async def _stop() -> None:
        await publisher.stop()
        if resources.pool is not None:
            await resources.pool.close()

    return app


async def run(settings: ClassifierSettings | None = None) -> None:
    settings = settings or ClassifierSettings()
    configure_logging("classifier", settings.logging)
    await create_app(settings).run()
