"""SIGTERM to a real classifier and aggregator process in the middle of their work: the batch
in hand is finished and committed, nothing is lost, nothing is doubled, and a restarted
process picks up exactly where the committed offsets say.

The services run as the `seinpost ... run` command would run them in production: their own
process, their own probe port (/healthz, /readyz, /metrics), their JSON log.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from schemas.topics import municipality_key
from schemas.v1 import signal_classified_event, signal_submitted_event
from services.common.kafka import Outgoing, ProducerPublisher, ensure_topics
from services.common.settings import KafkaSettings, PostgresSettings
from tests.factories import classified_signal, submitted_signal
from tests.integration.conftest import free_port, wait_for

SEINPOST = Path(sys.executable).parent / "seinpost"
MUNICIPALITIES = ["Gent", "Antwerpen", "Leuven", "Mechelen", "Brugge", "Hasselt"]
RECORDS = 12_000
BATCH = 1_500


@dataclass
class Service:
    kind: str
    env: dict[str, str]
    log: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            [str(SEINPOST), self.kind, "run"], env=self.env, stdout=handle, stderr=handle
        )

    async def ready(self) -> bool:
        assert self.process is not None
        assert self.process.poll() is None, f"{self.kind} exited early:\n{self.tail()}"
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                answer = await client.get(f"http://127.0.0.1:{self.port}/readyz")
        except httpx.HTTPError:
            return False
        return answer.status_code == 200

    async def metric(self, name: str) -> float:
        async with httpx.AsyncClient(timeout=5) as client:
            text = (await client.get(f"http://127.0.0.1:{self.port}/metrics")).text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith((name + "{", name + " "))
        )

    def terminate(self, timeout_s: float = 90) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def events(self) -> list[dict[str, Any]]:
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


def finished_a_batch_after_stopping(events: list[dict[str, Any]], done: str, stop: str) -> bool:
    """The log of the latest run shows a batch finished after the stop began: SIGTERM came
    while a batch was in hand, and that batch was completed rather than dropped."""
    last_start = max(i for i, e in enumerate(events) if e["event"] == "probes.listening")
    run = events[last_start:]
    stops = [i for i, e in enumerate(run) if e["event"] == stop]
    return bool(stops) and any(e["event"] == done for e in run[stops[0] :])


def service_env(
    stack_env: dict[str, str], kafka: KafkaSettings, postgres: PostgresSettings, **extra: str
) -> dict[str, str]:
    env = {**os.environ, **stack_env}
    env.update(
        SEINPOST_KAFKA_TOPIC_NAMESPACE=kafka.topic_namespace,
        SEINPOST_KAFKA_PARTITIONS=str(kafka.partitions),
        SEINPOST_POSTGRES_DSN=postgres.dsn.get_secret_value(),
        SEINPOST_LOG_LEVEL="INFO",
        SEINPOST_LOG_FORMAT="json",
        **extra,
    )
    return env


async def produce(kafka: KafkaSettings, items: list[Outgoing]) -> None:
    publisher = ProducerPublisher(kafka, client_id="test-producer", timeout_s=60)
    await publisher.start()
    try:
        for start in range(0, len(items), 2_000):
            await publisher.publish_all(items[start : start + 2_000])
    finally:
        await publisher.stop()


async def read_all(bootstrap: str, topic: str) -> list[tuple[int, int, dict[str, Any]]]:
    """Every record of ``topic`` as (partition, offset, value): an outsider's plain read."""
    # No group: every partition is assigned to this consumer, from the beginning.
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = sorted(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        records: list[tuple[int, int, dict[str, Any]]] = []

        async def behind() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in partitions])

        while await behind():
            batch = await consumer.getmany(timeout_ms=500)
            for tp_records in batch.values():
                records.extend((r.partition, r.offset, json.loads(r.value)) for r in tp_records)
        return records
    finally:
        await consumer.stop()


async def committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}


def below(records: list[tuple[int, int, Any]], offsets: dict[int, int]) -> Iterator[Any]:
    for partition, offset, value in records:
        if offset < offsets.get(partition, 0):
            yield value


async def stop_mid_batch(
    service: Service, progress: Any, *, done: str, stop: str, total: int
) -> bool:
    """Start, wait for some progress, SIGTERM. True when a batch was in hand at SIGTERM."""
    service.start()
    await wait_for(service.ready, timeout_s=120, what=f"{service.kind} ready")

    async def moving() -> bool:
        return bool(await progress() > 0)

    await wait_for(moving, timeout_s=120, what=f"{service.kind} to make progress")
    assert service.terminate() == 0, service.tail()
    return finished_a_batch_after_stopping(service.events(), done, stop) and (
        await progress() < total
    )


async def test_sigterm_mid_batch_classifier_loses_and_doubles_nothing(
    stack_env: dict[str, str],
    kafka_settings: KafkaSettings,
    postgres_settings: PostgresSettings,
    tmp_path: Path,
) -> None:
    await ensure_topics(kafka_settings)
    bootstrap = kafka_settings.bootstrap_servers
    group = f"{kafka_settings.topic_namespace}classifier"
    signals = [
        submitted_signal(municipality=MUNICIPALITIES[i % len(MUNICIPALITIES)])
        for i in range(RECORDS)
    ]
    await produce(
        kafka_settings,
        [
            Outgoing(
                kafka_settings.submitted_topic,
                municipality_key(s.municipality),
                signal_submitted_event(s),
            )
            for s in signals
        ],
    )
    service = Service(
        "classifier",
        service_env(
            stack_env,
            kafka_settings,
            postgres_settings,
            SEINPOST_CLASSIFIER_GROUP_ID=group,
            SEINPOST_CLASSIFIER_BATCH_MAX_RECORDS=str(BATCH),
            SEINPOST_CLASSIFIER_MODEL_DIR=str(tmp_path / "models"),
            SEINPOST_CLASSIFIER_METRICS_PORT=str(port := free_port()),
        ),
        tmp_path / "classifier.log",
        port,
    )

    async def classified_count() -> int:
        return sum((await committed(bootstrap, group, kafka_settings.submitted_topic)).values())

    try:
        mid_batch = False
        for _ in range(4):  # SIGTERM may fall between two batches; then once more
            mid_batch = await stop_mid_batch(
                service,
                classified_count,
                done="batch.classified",
                stop="classifier.stopping",
                total=RECORDS,
            )
            # After every stop: what was committed was published, once; nothing beyond it.
            offsets = await committed(bootstrap, group, kafka_settings.submitted_topic)
            inputs = await read_all(bootstrap, kafka_settings.submitted_topic)
            outputs = await read_all(bootstrap, kafka_settings.classified_topic)
            expected = {v["data"]["signal_id"] for v in below(inputs, offsets)}
            published = [v["data"]["signal"]["signal_id"] for _, _, v in outputs]
            assert 0 < len(expected) <= RECORDS
            assert len(published) == len(set(published)), "a signal was published twice"
            assert set(published) == expected, "output and committed offsets disagree"
            if mid_batch:
                break
        assert mid_batch, "SIGTERM never arrived while a batch was in hand"

        # The rest, by a restarted process: it reprocesses nothing that was committed.
        before = await classified_count()
        service.start()
        await wait_for(service.ready, timeout_s=120, what="classifier ready again")

        async def all_done() -> bool:
            return await classified_count() == RECORDS

        await wait_for(all_done, timeout_s=180, what="every signal classified")
        assert await service.metric("seinpost_consumer_records_total") == RECORDS - before
        assert service.terminate() == 0
        outputs = await read_all(bootstrap, kafka_settings.classified_topic)
        published = [v["data"]["signal"]["signal_id"] for _, _, v in outputs]
        assert len(published) == RECORDS
        assert set(published) == {str(s.signal_id) for s in signals}
    finally:
        service.kill()


async def test_sigterm_mid_batch_aggregator_commits_what_it_stored(
    stack_env: dict[str, str],
    kafka_settings: KafkaSettings,
    postgres_settings: PostgresSettings,
    tmp_path: Path,
) -> None:
    await ensure_topics(kafka_settings)
    bootstrap = kafka_settings.bootstrap_servers
    group = f"{kafka_settings.topic_namespace}aggregator"
    events = [
        classified_signal(submitted_signal(municipality=MUNICIPALITIES[i % len(MUNICIPALITIES)]))
        for i in range(RECORDS)
    ]
    await produce(
        kafka_settings,
        [
            Outgoing(
                kafka_settings.classified_topic,
                municipality_key(e.signal.municipality),
                signal_classified_event(e),
            )
            for e in events
        ],
    )
    service = Service(
        "aggregator",
        service_env(
            stack_env,
            kafka_settings,
            postgres_settings,
            SEINPOST_AGGREGATOR_GROUP_ID=group,
            SEINPOST_AGGREGATOR_BATCH_MAX_RECORDS=str(BATCH),
            SEINPOST_AGGREGATOR_SCHEDULER_ENABLED="false",
            SEINPOST_AGGREGATOR_METRICS_PORT=str(port := free_port()),
        ),
        tmp_path / "aggregator.log",
        port,
    )
    pool = await asyncpg.create_pool(
        postgres_settings.dsn.get_secret_value(), min_size=1, max_size=2
    )

    async def stored_count() -> int:
        return sum((await committed(bootstrap, group, kafka_settings.classified_topic)).values())

    try:
        mid_batch = False
        for _ in range(4):
            mid_batch = await stop_mid_batch(
                service,
                stored_count,
                done="signals.stored",
                stop="aggregator.stopping",
                total=RECORDS,
            )
            offsets = await committed(bootstrap, group, kafka_settings.classified_topic)
            inputs = await read_all(bootstrap, kafka_settings.classified_topic)
            expected = {uuid.UUID(v["data"]["signal"]["signal_id"]) for v in below(inputs, offsets)}
            rows = {r["signal_id"] for r in await pool.fetch("SELECT signal_id FROM signals")}
            # Committed means stored; and nothing was stored that is not committed, so the
            # restart below redoes no batch.
            assert rows == expected
            if mid_batch:
                break
        assert mid_batch, "SIGTERM never arrived while a batch was in hand"

        before = await stored_count()
        service.start()
        await wait_for(service.ready, timeout_s=120, what="aggregator ready again")

        async def all_done() -> bool:
            return await stored_count() == RECORDS

        await wait_for(all_done, timeout_s=180, what="every signal stored")
        assert await service.metric("seinpost_consumer_records_total") == RECORDS - before
        assert await service.metric("seinpost_aggregator_rows_stored_total") == RECORDS - before
        assert service.terminate() == 0
        assert await pool.fetchval("SELECT count(*) FROM signals") == RECORDS
    finally:
        service.kill()
        await pool.close()
