"""The running classifier service, topic to topic, against the real broker: signals per second
from the submitted topic to the classified topic, with and without a learned model.

    eval "$(bash deploy/local/stack.sh env)"
    .venv/bin/python -m bench.bench_classifier_service [--signals 20000]

Each run uses its own topic namespace and consumer group. The submitted topic is filled first;
the clock runs from the moment the service has started until the last classified record is on
the output topic (acknowledged by Kafka, as the service waits for that before committing).
Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.topics import municipality_key
from schemas.v1 import SignalSubmittedV1, signal_submitted_event
from services.classifier.app import create_app
from services.classifier.domain import TrainingExample, load_default_taxonomy, train
from services.classifier.settings import ClassifierSettings
from services.classifier.storage import ModelFiles
from services.common.events import encode_event
from services.common.kafka import ensure_topics
from services.common.logging import configure_logging
from services.common.settings import KafkaSettings, LoggingSettings

ROOT = Path(__file__).resolve().parents[1]


def _dev() -> list[dict[str, object]]:
    lines = (ROOT / "data" / "classifier" / "dev.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _signals(count: int) -> list[bytes]:
    texts = [str(item["text"]) for item in _dev()]
    now = datetime.now(UTC)
    out = []
    for index in range(count):
        signal = SignalSubmittedV1(
            signal_id=uuid.uuid4(),
            observed_on=now.date(),
            text=texts[index % len(texts)],
            municipality="Gent",
            vindplaats="schoolpoort",
            reporter_role="brugfiguur",
            knowledge_type="professionele_kennis",
            organisation="bench",
            submitted_at=now,
            received_at=now,
        )
        out.append(encode_event(signal_submitted_event(signal)))
    return out


async def _fill(kafka: KafkaSettings, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all", linger_ms=5)
    await producer.start()
    try:
        key = municipality_key("Gent")
        futures = [await producer.send(kafka.submitted_topic, v, key=key) for v in values]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _count(kafka: KafkaSettings, expected: int, timeout_s: float) -> tuple[int, int]:
    consumer = AIOKafkaConsumer(
        kafka.classified_topic,
        bootstrap_servers=kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen = 0
    ids: set[bytes] = set()
    deadline = time.monotonic() + timeout_s
    try:
        while len(ids) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batch.values():
                seen += len(records)
                ids.update(dict(record.headers).get("ce_id", b"") for record in records)
    finally:
        await consumer.stop()
    return seen, len(ids)


async def _run(count: int, with_model: bool, timeout_s: float) -> dict[str, object]:
    kafka = KafkaSettings(topic_namespace=f"bench-{uuid.uuid4().hex[:8]}.", partitions=6)
    await ensure_topics(kafka)
    await _fill(kafka, _signals(count))
    model_dir = Path(tempfile.mkdtemp(prefix="seinpost-models-"))
    version = None
    if with_model:
        taxonomy = load_default_taxonomy()
        model = train(
            [TrainingExample(str(i["text"]), tuple(i["domains"])) for i in _dev()],  # type: ignore[arg-type]
            domains=taxonomy.domain_ids,
            taxonomy_id=taxonomy.id,
            trained_at=datetime.now(UTC),
        )
        ModelFiles(model_dir).save(model)
        version = model.version
    settings = ClassifierSettings(
        kafka=kafka,
        model_dir=model_dir,
        group_id=f"{kafka.topic_namespace}classifier",
    )
    app = create_app(settings)
    async with app:
        started = time.perf_counter()
        cpu_started = time.process_time()
        seen, distinct = await _count(kafka, count, timeout_s)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    return {
        "model": version,
        "signals": count,
        "classified": seen,
        # More records than signals = a batch delivered and published twice (at-least-once,
        # e.g. after a consumer-group rebalance); the ids show it is the same event again.
        "distinct_event_ids": distinct,
        "seconds": round(elapsed, 2),
        "per_second": round(seen / elapsed),
        # CPU time of this process (service and the counting consumer together) in the same
        # window: what the service would do with a core to itself, on a shared machine.
        "cpu_seconds": round(cpu, 2),
        "per_cpu_second": round(seen / cpu) if cpu else None,
    }


async def _main(count: int, timeout_s: float) -> None:
    configure_logging("bench", LoggingSettings(level="WARNING"))
    report = {
        "lexicon_only": await _run(count, with_model=False, timeout_s=timeout_s),
        "with_model": await _run(count, with_model=True, timeout_s=timeout_s),
    }
    print(json.dumps(report, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--signals", type=int, default=20_000)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    asyncio.run(_main(args.signals, args.timeout))


if __name__ == "__main__":
    main()
