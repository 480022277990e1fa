"""The whole pipeline, end to end, against the real broker and database: HTTP request to the
row in PostgreSQL, at a steady 500 signals/s and at the highest rate it sustains, beside the
ceiling of this machine (raw aiokafka producer and consumer, raw asyncpg COPY).

    export SEINPOST_LOCAL_DIR=/work/main/.local   # or any running stack (deploy/local/stack.sh)
    .venv/bin/python -m bench.bench_e2e [--steady-rate 500] [--steady-seconds 20]

One intake, one classifier and one aggregator run as separate processes (as `seinpost demo`
starts them) on a fresh topic namespace, consumer groups and database, removed afterwards.
The load is open-loop: request i is due at t0 + i/rate whatever earlier answers did, and every
latency is counted from that due time, so a stalled server shows up as latency rather than as
a politely slower client. End-to-end latency is the signal row's `stored_at` (PostgreSQL's
`now()` in the aggregator's transaction, i.e. when the batch's transaction began, a few ms
before its commit) minus the request's due time; both clocks are this machine's.

The maximum sustained rate is searched by offering steps of increasing rate; a step is
sustained when intake accepts >= 95 % of the offered rate with no error, the pipeline drains
within --max-drain-s after the step, and end-to-end p99 stays under --max-p99-ms. Writes
bench/results/e2e-<date>.{json,md}. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import random
import shutil
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import SecretStr

from bench.bench_aggregator import _event as classified_event
from bench.bench_intake import (
    Connection,
    CpuMeter,
    body,
    database_commits,
    listening_pids,
    postgres_pids,
    raw_producer_rate,
    stack_env,
)
from schemas.topics import municipality_key
from schemas.v1 import SignalSubmissionV1, signal_submitted_event
from services.common.access import AccessStore, PrincipalKind
from services.common.events import encode_event
from services.common.kafka import ensure_topics
from services.common.postgres import create_pool
from services.common.settings import KafkaSettings, PostgresSettings
from services.demo import _start_services, _stop_services, _wait_ready
from services.intake.domain.acceptance import accept_submission

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
MUNICIPALITIES = ["Gent", "Antwerpen", "Leuven", "Mechelen"]  # bench_intake.body's places


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


@dataclass
class Step:
    """One offered rate for a while: what intake answered and when each row was stored."""

    offered_per_s: float
    seconds: float
    accepted: int = 0
    errors: dict[int, int] = field(default_factory=dict)
    accepted_per_s: float = 0.0
    http_p50_ms: float = 0.0
    http_p99_ms: float = 0.0
    e2e_p50_ms: float = 0.0
    e2e_p99_ms: float = 0.0
    e2e_max_ms: float = 0.0
    intake_to_classified_p50_ms: float = 0.0
    classified_to_stored_p50_ms: float = 0.0
    stored: int = 0
    drain_s: float = 0.0
    lag_max: dict[str, int] = field(default_factory=dict)
    lag_end_of_load: dict[str, int] = field(default_factory=dict)
    cpu_us_per_signal: dict[str, float] = field(default_factory=dict)
    pg_commits_per_signal: float = 0.0
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)
    sustained: bool = False


class LagSampler:
    """Consumer lag (end offset minus committed offset, summed over partitions) of both
    consumer groups, sampled in the background while the load runs."""

    def __init__(
        self, bootstrap: str, topics: dict[str, str], partitions: int, interval_s: float = 0.5
    ) -> None:
        self.bootstrap, self.topics, self.interval_s = bootstrap, topics, interval_s
        self._partitions = {
            group: [TopicPartition(topic, p) for p in range(partitions)]
            for group, topic in topics.items()
        }
        self.samples: list[tuple[float, str, dict[str, int]]] = []
        self.phase = "setup"
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await self._admin.start()
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap)
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())

    async def lag(self) -> dict[str, int]:
        out = {}
        for group, partitions in self._partitions.items():
            ends = await self._consumer.end_offsets(partitions)
            committed = await self._admin.list_consumer_group_offsets(group)
            out[group] = sum(
                ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in partitions
            )
        return out

    async def topic_total(self, topic: str) -> int:
        """Records ever written to a topic of the pipeline (sum of its end offsets)."""
        partitions = next(p for p in self._partitions.values() if p[0].topic == topic)
        return sum((await self._consumer.end_offsets(partitions)).values())

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # a missed sample is no reason to stop a run
                self.samples.append((time.monotonic(), self.phase, await self.lag()))
            await asyncio.sleep(self.interval_s)

    def during(self, phase: str) -> list[dict[str, int]]:
        return [lag for _, name, lag in self.samples if name == phase]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()
        await self._admin.close()


async def offer(
    port: int, token: str, rate: float, seconds: float, connections: int
) -> tuple[dict[str, float], dict[str, float], dict[int, int]]:
    """Open-loop load: signal i is due at t0 + i/rate. Returns, per accepted signal id, its due
    time on the wall clock and its HTTP latency from the due time; and the other statuses."""
    total = int(rate * seconds)
    # Enough connections for a quarter second of requests in flight, no more: idle ones time out.
    pool = [
        Connection("127.0.0.1", port, token) for _ in range(min(connections, max(8, int(rate / 4))))
    ]
    await asyncio.gather(*(c.open() for c in pool))
    due_wall: dict[str, float] = {}
    http_ms: dict[str, float] = {}
    errors: dict[int, int] = {}
    counter = itertools.count()
    perf0, wall0 = time.perf_counter() + 0.05, time.time() + 0.05

    async def worker(connection: Connection) -> None:
        while (i := next(counter)) < total:
            due = perf0 + i / rate
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            payload = body(i)
            data = orjson.dumps(payload)
            try:
                status = await connection.post(data)
            except (asyncio.IncompleteReadError, ConnectionError):
                # The server closed a keep-alive connection that sat idle (uvicorn: 5 s). The
                # same signal again is safe: intake answers a replay with 200.
                with contextlib.suppress(ConnectionError):
                    await connection.close()
                await connection.open()
                status = await connection.post(data)
            if status in (200, 202):
                signal_id = str(payload["signal_id"])
                http_ms[signal_id] = (time.perf_counter() - due) * 1000
                due_wall[signal_id] = wall0 + (due - perf0)
            else:
                errors[status] = errors.get(status, 0) + 1

    try:
        await asyncio.gather(*(worker(c) for c in pool))
    finally:
        await asyncio.gather(*(c.close() for c in pool), return_exceptions=True)
    return due_wall, http_ms, errors


class Pipeline:
    """The three services on a fresh namespace and database, and what the bench needs to
    observe them."""

    def __init__(self, env: dict[str, str], partitions: int) -> None:
        run = uuid.uuid4().hex[:8]
        self.run = run
        self.admin_dsn = env["SEINPOST_POSTGRES_DSN"]
        self.database = f"bench_e2e_{run}"
        self.dsn = f"{self.admin_dsn.rpartition('/')[0]}/{self.database}"
        self.kafka = KafkaSettings(
            bootstrap_servers=env["SEINPOST_KAFKA_BOOTSTRAP_SERVERS"],
            topic_namespace=f"bench-e2e-{run}.",
            partitions=partitions,
        )
        self.groups = {
            "classifier": f"bench-e2e-{run}-classifier",
            "aggregator": f"bench-e2e-{run}-aggregator",
        }
        self.port = 19000 + os.getpid() % 1000
        self.model_dir = Path(tempfile.mkdtemp(prefix="seinpost-e2e-models-"))
        self.env = {
            **env,
            "SEINPOST_KAFKA_TOPIC_NAMESPACE": self.kafka.topic_namespace,
            "SEINPOST_KAFKA_PARTITIONS": str(partitions),
            "SEINPOST_POSTGRES_DSN": self.dsn,
            "SEINPOST_INTAKE_RATE_LIMIT_PER_S": "1000000",
            "SEINPOST_INTAKE_RATE_LIMIT_BURST": "1000000",
            "SEINPOST_CLASSIFIER_GROUP_ID": self.groups["classifier"],
            "SEINPOST_CLASSIFIER_MODEL_DIR": str(self.model_dir),  # empty: the lexicon
            "SEINPOST_AGGREGATOR_GROUP_ID": self.groups["aggregator"],
            "SEINPOST_AGGREGATOR_SCHEDULER_ENABLED": "false",
            # Probe ports chosen by the system: others' services and benches share the machine.
            "SEINPOST_CLASSIFIER_METRICS_PORT": "0",
            "SEINPOST_AGGREGATOR_METRICS_PORT": "0",
            "SEINPOST_LOG_LEVEL": "WARNING",
        }
        self.log_dir = ROOT / "out" / "bench-e2e" / run

    async def start(self) -> str:
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await admin.close()
        await ensure_topics(self.kafka)
        pool = await create_pool(PostgresSettings(dsn=SecretStr(self.dsn)))
        try:
            store = AccessStore(pool)
            await store.migrate()
            await store.add_organisation("bench", "Benchmark", MUNICIPALITIES)
            token = (await store.create_token(PrincipalKind.ORGANISATION, "bench", "e2e")).secret
        finally:
            await pool.close()
        self.processes = _start_services(ROOT, self.env, self.port, self.log_dir)
        await _wait_ready(f"http://127.0.0.1:{self.port}", self.processes)
        self.db = await asyncpg.connect(self.dsn)
        return token

    def pids(self) -> dict[str, list[int]]:
        return {p.name: [p.popen.pid] for p in self.processes}

    async def stored_times(self, ids: list[str]) -> list[asyncpg.Record]:
        return await self.db.fetch(
            """
            SELECT s.signal_id::text AS id, extract(epoch FROM s.stored_at)::float8 AS stored,
                   extract(epoch FROM s.received_at)::float8 AS received,
                   extract(epoch FROM c.classified_at)::float8 AS classified
            FROM signals s JOIN signal_classifications c USING (signal_id)
            WHERE s.signal_id = ANY($1::uuid[])
            """,
            ids,
        )

    async def count_stored(self, ids: list[str]) -> int:
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM signals WHERE signal_id = ANY($1::uuid[])", ids
            )
        )

    async def stop(self) -> None:
        _stop_services(self.processes)
        with contextlib.suppress(Exception):
            await self.db.close()
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            await admin.close()
        await delete_topics(self.kafka)
        shutil.rmtree(self.model_dir, ignore_errors=True)


async def delete_topics(kafka: KafkaSettings) -> None:
    client = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await client.start()
    try:
        existing = set(await client.list_topics())
        await client.delete_topics([t for t in kafka.all_topics() if t in existing])
    finally:
        await client.close()


async def run_step(
    pipeline: Pipeline,
    lag: LagSampler,
    meter: CpuMeter,
    token: str,
    rate: float,
    seconds: float,
    args: argparse.Namespace,
) -> Step:
    step = Step(offered_per_s=rate, seconds=seconds)
    lag.phase = f"{rate:.0f}/s"
    before = meter.snapshot()
    commits_before = await database_commits(pipeline.admin_dsn, pipeline.database)
    started = time.perf_counter()
    due_wall, http_ms, step.errors = await offer(
        pipeline.port, token, rate, seconds, args.connections
    )
    sent_for = time.perf_counter() - started
    step.lag_end_of_load = await lag.lag()
    ids = list(due_wall)
    step.accepted = len(ids)
    step.accepted_per_s = round(len(ids) / max(sent_for, 1e-9), 1)
    drain_started = time.monotonic()
    deadline = drain_started + args.drain_timeout_s
    while True:  # polling PostgreSQL: there is no event to wait on
        stored = await pipeline.count_stored(ids)
        if stored >= len(ids) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    step.drain_s = round(time.monotonic() - drain_started, 2)
    step.stored = stored
    step.cpu_us_per_signal = {
        k: round(v) for k, v in CpuMeter.per_signal_us(before, meter.snapshot(), len(ids)).items()
    }
    lag.phase = "idle"
    # Transactions in the bench database (intake's claim batches, the aggregator's batches):
    # what batching saves, counted rather than timed. PostgreSQL's statistics lag by up to a
    # second, so this is approximate.
    commits = await database_commits(pipeline.admin_dsn, pipeline.database) - commits_before
    step.pg_commits_per_signal = round(commits / max(len(ids), 1), 3)
    rows = await pipeline.stored_times(ids)
    e2e = [(row["stored"] - due_wall[row["id"]]) * 1000 for row in rows]
    step.http_p50_ms = round(percentile(list(http_ms.values()), 50), 1)
    step.http_p99_ms = round(percentile(list(http_ms.values()), 99), 1)
    step.e2e_p50_ms = round(percentile(e2e, 50), 1)
    step.e2e_p99_ms = round(percentile(e2e, 99), 1)
    step.e2e_max_ms = round(max(e2e, default=float("nan")), 1)
    step.intake_to_classified_p50_ms = round(
        percentile([float(r["classified"] - r["received"]) * 1000 for r in rows], 50), 1
    )
    step.classified_to_stored_p50_ms = round(
        percentile([float(r["stored"] - r["classified"]) * 1000 for r in rows], 50), 1
    )
    samples = lag.during(f"{rate:.0f}/s")
    step.lag_max = {g: max((s[g] for s in samples), default=0) for g in pipeline.groups.values()}
    step.lag_max = {name: step.lag_max[g] for name, g in pipeline.groups.items()}
    step.lag_end_of_load = {name: step.lag_end_of_load[g] for name, g in pipeline.groups.items()}
    step.load_average = os.getloadavg()
    step.sustained = (
        not step.errors
        and step.accepted_per_s >= 0.95 * rate
        and step.stored == step.accepted
        and step.drain_s <= args.max_drain_s
        and step.e2e_p99_ms <= args.max_p99_ms
    )
    print(
        f"  offered {rate:>6.0f}/s: accepted {step.accepted_per_s:>7.0f}/s  http p50/p99 "
        f"{step.http_p50_ms:.0f}/{step.http_p99_ms:.0f} ms  e2e p50/p99 {step.e2e_p50_ms:.0f}/"
        f"{step.e2e_p99_ms:.0f} ms  lag max {step.lag_max}  drain {step.drain_s:.1f} s  "
        f"errors {step.errors or 0}  load {step.load_average[0]:.1f}  "
        f"-> {'sustained' if step.sustained else 'NOT sustained'}\n"
        f"    CPU µs per signal: {step.cpu_us_per_signal}; PostgreSQL commits per signal "
        f"{step.pg_commits_per_signal}",
        flush=True,
    )
    return step


def submitted_records(count: int) -> list[tuple[bytes, bytes]]:
    """Unique submitted events, encoded as intake publishes them."""
    now = datetime.now(UTC)
    out = []
    for i in range(count):
        signal = accept_submission(
            SignalSubmissionV1.model_validate({**body(i), "organisation": "bench"}),
            received_at=now,
            today=date.today(),
        )
        out.append(
            (municipality_key(signal.municipality), encode_event(signal_submitted_event(signal)))
        )
    return out


async def produce(kafka: KafkaSettings, topic: str, records: list[tuple[bytes, bytes]]) -> float:
    """As fast as the producer goes (acks=all); returns records per second."""
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers, acks="all", linger_ms=5,
        max_batch_size=512 * 1024,
    )  # fmt: skip
    await producer.start()
    started = time.perf_counter()
    try:
        futures = [await producer.send(topic, value, key=key) for key, value in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return len(records) / (time.perf_counter() - started)


async def service_throughput(pipeline: Pipeline, lag: LagSampler, count: int) -> dict[str, Any]:
    """Classifier and aggregator at full speed: a backlog put straight onto their input topics
    (submitted for the classifier, classified for the aggregator), drained while timed. The
    classifier is timed by its output topic's end offsets (first record out to the last), the
    aggregator by the signals table's row count."""
    classified_topic = pipeline.kafka.classified_topic
    base = await lag.topic_total(classified_topic)
    records = submitted_records(count)
    started = time.monotonic()
    producing = asyncio.create_task(
        produce(pipeline.kafka, pipeline.kafka.submitted_topic, records)
    )
    first: float | None = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        out = await lag.topic_total(classified_topic) - base
        now = time.monotonic()
        if out and first is None:
            first = now
        if out >= count:
            break
        await asyncio.sleep(0.05)
    await producing
    # A backlog drained between two polls: time it from the start of producing instead.
    classifier_per_s = count / (now - (first if first is not None and now > first else started))
    ids = [orjson.loads(value)["data"]["signal_id"] for _, value in records]
    while await pipeline.count_stored(ids) < count and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)

    rng = random.Random(11)
    keyed = [
        (orjson.loads(v)["data"]["signal"]["municipality"].casefold().encode(), v)
        for v in (classified_event(rng, 2026) for _ in range(count))
    ]
    stored_before = int(await pipeline.db.fetchval("SELECT count(*) FROM signals"))
    started = time.monotonic()
    producing = asyncio.create_task(produce(pipeline.kafka, classified_topic, keyed))
    first_row, last_row = await wait_stored_from(pipeline.db, stored_before, count)
    await producing
    aggregator_per_s = count / (
        last_row - (first_row if first_row is not None and last_row > first_row else started)
    )
    return {
        "backlog_signals": count,
        "classifier_per_s": round(classifier_per_s),
        "aggregator_per_s": round(aggregator_per_s),
    }


async def wait_stored_from(
    connection: asyncpg.Connection, base: int, count: int
) -> tuple[float | None, float]:
    first: float | None = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        stored = await connection.fetchval("SELECT count(*) FROM signals") - base
        now = time.monotonic()
        if stored and first is None:
            first = now
        if stored >= count:
            return first, now
        await asyncio.sleep(0.05)
    return first, time.monotonic()


async def raw_consumer_rate(kafka: KafkaSettings, topic: str) -> tuple[float, int]:
    """Everything on a topic read back with aiokafka, the consumers' fetch settings."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(kafka.partitions)]
        total = sum((await consumer.end_offsets(partitions)).values())
        seen = 0
        started = time.perf_counter()
        while seen < total:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            seen += sum(len(records) for records in batch.values())
        return seen / (time.perf_counter() - started), seen
    finally:
        await consumer.stop()


async def raw_copy_rate(dsn: str, count: int, batch: int) -> float:
    """asyncpg COPY of rows shaped like `signals`, in the aggregator's batch size, one
    transaction per batch: the floor under any way of storing signals."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("CREATE TABLE bench_copy (LIKE signals INCLUDING DEFAULTS)")
        now = datetime.now(UTC)
        columns = [
            "signal_id", "schema_version", "observed_on", "submitted_at", "received_at", "text",
            "municipality", "neighbourhood", "vindplaats", "reporter_role", "knowledge_type",
            "target_group", "families_count", "organisation", "redactions", "source_topic",
            "source_partition", "source_offset",
        ]  # fmt: skip
        rows = [
            (
                uuid.uuid4(), "1.1", now.date(), now, now, str(body(i)["text"]),
                MUNICIPALITIES[i % 4], None, "schoolpoort", "brugfiguur", "professionele_kennis",
                '{"age_bands": ["6-11"], "family_situations": []}', 3, "bench", "[]",
                "bench", i % 6, i,
            )
            for i in range(count)
        ]  # fmt: skip
        started = time.perf_counter()
        for at in range(0, count, batch):
            async with connection.transaction():
                await connection.copy_records_to_table(
                    "bench_copy", records=rows[at : at + batch], columns=columns
                )
        return count / (time.perf_counter() - started)
    finally:
        await connection.execute("DROP TABLE IF EXISTS bench_copy")
        await connection.close()


async def ceilings(env: dict[str, str], dsn: str, seconds: float) -> dict[str, Any]:
    kafka = KafkaSettings(
        bootstrap_servers=env["SEINPOST_KAFKA_BOOTSTRAP_SERVERS"],
        topic_namespace=f"bench-ceiling-{uuid.uuid4().hex[:8]}.",
    )
    await ensure_topics(kafka)
    try:
        producer_per_s, producer_p50, producer_p99 = await raw_producer_rate(kafka, 64, seconds)
        consumer_per_s, consumed = await raw_consumer_rate(kafka, kafka.submitted_topic)
    finally:
        await delete_topics(kafka)
    copy_per_s = await raw_copy_rate(dsn, 50_000, 5_000)
    return {
        "producer_per_s": round(producer_per_s),
        "producer_p50_ms": round(producer_p50, 1),
        "producer_p99_ms": round(producer_p99, 1),
        "consumer_per_s": round(consumer_per_s),
        "consumer_records": consumed,
        "copy_rows_per_s": round(copy_per_s),
    }


def markdown(report: dict[str, Any]) -> str:
    steady = report["steady"]
    top = report["max_sustained"]
    ceiling = report["ceiling"]
    services = report["services"]
    ratios = report["ratios"]
    lines = [
        f"End to end, {report['date']}, {report['machine']}; load average "
        f"{report['load_average_start'][0]:.1f} at the start, "
        f"{report['load_average_end'][0]:.1f} at the end (shared machine: numbers are noisy).",
        "",
        "| what | number | ceiling of this machine | ratio |",
        "|---|---|---|---|",
        f"| e2e at {steady['offered_per_s']:.0f}/s offered: HTTP request → row in PostgreSQL "
        f"[p99 < 150 ms] | p50 {steady['e2e_p50_ms']:.0f} ms, p99 {steady['e2e_p99_ms']:.0f} ms "
        f"(HTTP p50 {steady['http_p50_ms']:.0f} ms, p99 {steady['http_p99_ms']:.0f} ms) | | |",
        "| highest sustained rate, whole pipeline [≥ 1,500/s] | "
        + (
            f"{top['offered_per_s']:.0f}/s: e2e p50 {top['e2e_p50_ms']:.0f} ms, "
            f"p99 {top['e2e_p99_ms']:.0f} ms"
            if top
            else "none of the steps"
        )
        + f" | producer {ceiling['producer_per_s']:,}/s | {ratios['pipeline_to_producer']} |",
        f"| intake, highest accepted rate offered | {report['intake_max_accepted_per_s']:,.0f}/s "
        f"| producer {ceiling['producer_per_s']:,}/s | {ratios['intake_to_producer']} |",
        f"| classifier, backlog of {services['backlog_signals']:,} | "
        f"{services['classifier_per_s']:,}/s | consumer {ceiling['consumer_per_s']:,}/s | "
        f"{ratios['classifier_to_consumer']} |",
        f"| aggregator, backlog of {services['backlog_signals']:,} | "
        f"{services['aggregator_per_s']:,}/s | COPY {ceiling['copy_rows_per_s']:,}/s | "
        f"{ratios['aggregator_to_copy']} |",
        f"| consumer lag at {steady['offered_per_s']:.0f}/s, most seen (classifier / aggregator)"
        f" | {steady['lag_max'].get('classifier', 0)} / {steady['lag_max'].get('aggregator', 0)}"
        " records | | |",
        f"| e2e at a trickle ({report['trickle']['offered_per_s']:.0f}/s) | "
        f"p50 {report['trickle']['e2e_p50_ms']:.0f} ms, p99 {report['trickle']['e2e_p99_ms']:.0f}"
        " ms | | |",
        f"| CPU per signal at {steady['offered_per_s']:.0f}/s, µs: "
        + ", ".join(f"{k} {v}" for k, v in report["cpu_budget"]["us_per_signal"].items())
        + f" | {report['cpu_budget']['pipeline_us_per_signal']} µs → at most "
        f"{report['cpu_budget']['max_per_s_on_2_idle_cores']}/s on 2 idle cores (Kafka and "
        "PostgreSQL are shared with other work: their share is an upper bound) | | |",
        "",
        "| offered/s | accepted/s | HTTP p50/p99 ms | e2e p50/p99 ms | lag max clf/agg | "
        "drain s | load avg | sustained |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for step in [report["trickle"], steady, *report["steps"]]:
        lines.append(
            f"| {step['offered_per_s']:.0f} | {step['accepted_per_s']:.0f} | "
            f"{step['http_p50_ms']:.0f} / {step['http_p99_ms']:.0f} | "
            f"{step['e2e_p50_ms']:.0f} / {step['e2e_p99_ms']:.0f} | "
            f"{step['lag_max'].get('classifier', 0)} / {step['lag_max'].get('aggregator', 0)} | "
            f"{step['drain_s']:.1f} | {step['load_average'][0]:.1f} | "
            f"{'yes' if step['sustained'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def cpu_budget(step: Step) -> dict[str, Any]:
    """CPU time per signal, summed over the pipeline's processes (Kafka and PostgreSQL are
    shared with other work on a shared machine, so theirs is an upper bound): the rate two idle
    cores could carry, whatever the wall clock said."""
    cpu = step.cpu_us_per_signal
    pipeline = sum(v for k, v in cpu.items() if k not in {"others", "loadgen"})
    return {
        "us_per_signal": {k: v for k, v in cpu.items() if k != "others"},
        "pipeline_us_per_signal": pipeline,
        "max_per_s_on_2_idle_cores": round(2e6 / pipeline) if pipeline else None,
        "intake_max_per_s_on_1_core": round(1e6 / cpu["intake"]) if cpu.get("intake") else None,
    }


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


async def main(args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, **stack_env()}
    load_start = os.getloadavg()
    pipeline = Pipeline(env, args.partitions)
    print(f"starting intake, classifier, aggregator (logs in {pipeline.log_dir}) ...", flush=True)
    token = await pipeline.start()
    lag = LagSampler(
        pipeline.kafka.bootstrap_servers,
        {
            pipeline.groups["classifier"]: pipeline.kafka.submitted_topic,
            pipeline.groups["aggregator"]: pipeline.kafka.classified_topic,
        },
        args.partitions,
    )
    try:
        await lag.start()
        meter = CpuMeter(
            {
                **pipeline.pids(),
                "loadgen": [os.getpid()],
                "kafka": listening_pids(
                    int(pipeline.kafka.bootstrap_servers.split(",")[0].rsplit(":", 1)[1])
                ),
                "postgres": await postgres_pids(pipeline.admin_dsn, pipeline.database),
            }
        )
        print("warming up (consumer groups join, connections open) ...", flush=True)
        await run_step(pipeline, lag, meter, token, 100, 3, args)
        print(f"a trickle, {args.trickle_rate}/s (an idle pipeline's latency):", flush=True)
        trickle = await run_step(
            pipeline, lag, meter, token, args.trickle_rate, args.trickle_seconds, args
        )
        print(f"steady {args.steady_rate}/s for {args.steady_seconds:.0f} s:", flush=True)
        steady = await run_step(
            pipeline, lag, meter, token, args.steady_rate, args.steady_seconds, args
        )
        print("searching the highest sustained rate:", flush=True)
        steps = []
        for rate in [float(r) for r in args.rates.split(",") if r.strip()]:
            step = await run_step(pipeline, lag, meter, token, rate, args.step_seconds, args)
            steps.append(step)
            if not step.sustained:
                break
        sustained = [s for s in [steady, *steps] if s.sustained]
        top = max(sustained, key=lambda s: s.offered_per_s) if sustained else None
        if args.quick:
            return {
                "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "quick": True,
                "trickle": asdict(trickle),
                "steady": asdict(steady),
                "steps": [asdict(s) for s in steps],
                "max_sustained": asdict(top) if top else None,
            }
        print(f"classifier and aggregator on a backlog of {args.backlog:,} ...", flush=True)
        services = await service_throughput(pipeline, lag, args.backlog)
        print(f"  {services}", flush=True)
        print("ceiling of this machine: raw producer, consumer, COPY ...", flush=True)
        ceiling = await ceilings(env, pipeline.dsn, args.step_seconds)
        print(f"  {ceiling}", flush=True)
    finally:
        await lag.stop()
        await pipeline.stop()
    intake_max = max(s.accepted_per_s for s in [steady, *steps])
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
        "settings": {
            "partitions": args.partitions,
            "connections": args.connections,
            "max_p99_ms": args.max_p99_ms,
            "max_drain_s": args.max_drain_s,
        },
        "trickle": asdict(trickle),
        "steady": asdict(steady),
        "cpu_budget": cpu_budget(steady),
        "steps": [asdict(s) for s in steps],
        "max_sustained": asdict(top) if top else None,
        "intake_max_accepted_per_s": intake_max,
        "services": services,
        "ceiling": ceiling,
        "ratios": {
            "pipeline_to_producer": ratio(
                top.offered_per_s if top else 0, ceiling["producer_per_s"]
            ),
            "intake_to_producer": ratio(intake_max, ceiling["producer_per_s"]),
            "classifier_to_consumer": ratio(
                services["classifier_per_s"], ceiling["consumer_per_s"]
            ),
            "aggregator_to_copy": ratio(services["aggregator_per_s"], ceiling["copy_rows_per_s"]),
        },
        "targets": {
            "e2e_p99_under_150ms_at_500": steady.e2e_p99_ms < 150 and steady.sustained,
            "max_sustained_at_least_1500": bool(top and top.offered_per_s >= 1500),
        },
    }
    return report


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trickle-rate", type=float, default=20.0)
    parser.add_argument("--trickle-seconds", type=float, default=10.0)
    parser.add_argument("--steady-rate", type=float, default=500.0)
    parser.add_argument("--steady-seconds", type=float, default=20.0)
    parser.add_argument("--rates", default="750,1000,1250,1500,1750,2000,2500,3000")
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=128, help="keep-alive connections")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--max-p99-ms", type=float, default=1000.0)
    parser.add_argument("--max-drain-s", type=float, default=3.0)
    parser.add_argument("--drain-timeout-s", type=float, default=60.0)
    parser.add_argument("--backlog", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="only the trickle, steady and step rates (no backlog, no ceiling), for tuning: "
        "prints CPU per signal per step and writes nothing to --out",
    )
    args = parser.parse_args()
    import uvloop  # the load generator's CPU per request matters as much as intake's

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        report = runner.run(main(args))
    if args.quick:
        return
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"e2e-{date.today().isoformat()}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    table = markdown(report)
    stem.with_suffix(".md").write_text(table, encoding="utf-8")
    print()
    print(table)
    print(f"targets: {report['targets']}; written {stem}.json and .md")


if __name__ == "__main__":
    cli()
