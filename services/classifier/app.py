"""Classifier composition root: taxonomy, model, broker, PostgreSQL pool and subscribers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from faststream import FastStream
from faststream.kafka import KafkaBroker
from prometheus_client import Counter

from schemas.v1 import (
    DeadLetterEventV1,
    SignalClassifiedEventV1,
    SignalCorrectedEventV1,
    SignalSubmittedEventV1,
)
from services.classifier.domain import classifier_version, load_taxonomy, warm_up
from services.classifier.handlers import (
    BatchOutcome,
    CorrectionsOutcome,
    handle_corrections_batch,
    handle_submitted_batch,
)
from services.classifier.settings import ClassifierSettings
from services.classifier.storage import CurrentModel, ModelFiles, PostgresCorrectionStore
from services.common.events import RecordRef
from services.common.gc_tuning import tune_garbage_collector
from services.common.kafka import (
    ProducerPublisher,
    create_broker,
    ensure_topics,
    subscribe_batches,
)
from services.common.logging import configure_logging
from services.common.metrics import (
    ConsumerMetrics,
    MeteredPublisher,
    PublishMetrics,
    service_registry,
)
from services.common.postgres import create_pool
from services.common.probes import ConsumerProbes, kafka_check, postgres_check, serving_probes

if TYPE_CHECKING:
    from services.common.postgres import Pool

log = structlog.get_logger(__name__)


class _Resources:
    """Built in the lifespan (the pool needs a running loop), used by the handlers."""

    pool: Pool | None = None
    store: PostgresCorrectionStore | None = None


@dataclass(frozen=True, slots=True)
class ClassifierService:
    app: FastStream
    broker: KafkaBroker
    probes: ConsumerProbes


def declare_publishers(broker: KafkaBroker, settings: ClassifierSettings) -> None:
    """What the classifier writes, for the AsyncAPI document. It publishes through its own
    producer (:class:`ProducerPublisher`), not through these."""
    broker.publisher(
        settings.kafka.classified_topic,
        schema=SignalClassifiedEventV1,
        title="classifier.publishes_classified",
        description="Every submitted signal, tagged with life domains (or needs_review); and "
        "every correction of this taxonomy, re-emitted with the human tags "
        "(classification.source = correction). Key: the municipality.",
    )
    broker.publisher(
        settings.kafka.dead_letter_topic,
        schema=DeadLetterEventV1,
        title="classifier.publishes_dead_letters",
        description="Submitted records and corrections that can never be processed, with "
        "their original bytes and the reason. Key: `topic/partition` of the original.",
    )


def create_service(settings: ClassifierSettings | None = None) -> ClassifierService:
    settings = settings or ClassifierSettings()
    taxonomy = load_taxonomy(settings.taxonomy_file)
    current = CurrentModel(
        ModelFiles(settings.model_dir), taxonomy.id, check_s=settings.model_check_s
    )
    resources = _Resources()
    registry = service_registry()
    consumer_metrics = ConsumerMetrics(registry)
    classified = Counter(
        "seinpost_classifier_signals_classified",
        "Submitted signals classified, by needs_review (true: no domain above the threshold; "
        "a person looks at it). Review rate: the share with needs_review=true.",
        ["needs_review"],
        registry=registry,
    )
    broker: KafkaBroker = create_broker(settings.kafka, client_id="classifier")
    producer = ProducerPublisher(
        settings.kafka, client_id="classifier", timeout_s=settings.publish_timeout_s
    )
    publisher = MeteredPublisher(
        producer, PublishMetrics(registry), dead_letter_topic=settings.kafka.dead_letter_topic
    )

    async def on_submitted(records: Sequence[RecordRef]) -> BatchOutcome:
        outcome = await handle_submitted_batch(
            records,
            taxonomy=taxonomy,
            publisher=publisher,
            kafka=settings.kafka,
            consumer_group=settings.group_id,
            max_record_bytes=settings.max_record_bytes,
            model=current.get,
        )
        classified.labels("true").inc(outcome.needs_review)
        classified.labels("false").inc(outcome.classified - outcome.needs_review)
        return outcome

    submitted_subscriber = subscribe_batches(
        broker,
        topic=settings.kafka.submitted_topic,
        group_id=settings.group_id,
        settings=settings,
        handle=on_submitted,
        title="classifier.on_submitted",
        description="Tags submitted signals with life domains and publishes them as classified.",
        schema=SignalSubmittedEventV1,
        metrics=consumer_metrics,
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

    corrections_subscriber = subscribe_batches(
        broker,
        topic=settings.kafka.corrections_topic,
        group_id=settings.corrections_group,
        settings=settings,
        handle=on_corrections,
        title="classifier.on_corrections",
        description="Stores corrections as training data and re-emits the signal as classified "
        "with the human tags.",
        schema=SignalCorrectedEventV1,
        metrics=consumer_metrics,
        quiet=True,
    )
    declare_publishers(broker, settings)
    probes = ConsumerProbes(
        "classifier",
        registry,
        consumer_metrics,
        subscribers=[submitted_subscriber, corrections_subscriber],
        checks={
            "kafka": kafka_check(broker),
            "postgres": postgres_check(lambda: resources.pool),
        },
    )
    app = FastStream(broker)

    @app.on_startup
    async def _start() -> None:
        await ensure_topics(settings.kafka)
        await producer.start()
        # The lemmatiser loads its Dutch dictionary on first use (about a second): do it
        # now rather than inside the first batch.
        warm_up()
        tune_garbage_collector()
        resources.pool = await create_pool(settings.postgres)
        resources.store = PostgresCorrectionStore(resources.pool)
        await resources.store.migrate()
        model = current.get()
        log.info(
            "classifier.started",
            classifier_version=classifier_version(taxonomy, model),
            taxonomy_id=taxonomy.id,
        )

    @app.after_startup
    async def _start_lag() -> None:
        probes.start()

    @app.on_shutdown
    async def _stopping() -> None:
        # Unready first; then FastStream stops the subscribers, waiting (graceful_timeout)
        # for the batch in hand to be published and committed.
        log.info("classifier.stopping")
        await probes.stop()

    @app.after_shutdown
    async def _stop() -> None:
        await producer.stop()  # flushes whatever is still in the producer's buffers
        if resources.pool is not None:
            await resources.pool.close()
        log.info("classifier.stopped")

    return ClassifierService(app, broker, probes)


def create_app(settings: ClassifierSettings | None = None) -> FastStream:
    return create_service(settings).app


async def run(settings: ClassifierSettings | None = None) -> None:
    settings = settings or ClassifierSettings()
    configure_logging("classifier", settings.logging)
    service = create_service(settings)
    async with serving_probes(
        service.probes, host=settings.metrics_host, port=settings.metrics_port
    ):
        await service.app.run()
