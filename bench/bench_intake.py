"""Intake end to end against the real broker and PostgreSQL: accepted signals per second and
latency percentiles at several concurrency levels, beside the raw aiokafka producer's rate for
the same records.

    SEINPOST_LOCAL_DIR=… python -m bench.bench_intake [--seconds 8] [--levels 1,16,64]

One intake process (uvicorn, started here as a separate process, as in production) with a
fresh topic namespace and a fresh database. The load generator is a minimal keep-alive HTTP/1.1
client on asyncio streams, so that measuring does not cost more CPU than what is measured (the
broker, PostgreSQL, intake and this script share the machine). Every request is a new signal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from aiokafka import AIOKafkaProducer

from schemas.topics import municipality_key
from schemas.v1 import SignalSubmissionV1, signal_submitted_event
from services.common.access import AccessStore, PrincipalKind
from services.common.events import encode_event
from services.common.kafka import ensure_topics, event_headers
from services.common.postgres import create_pool
from services.common.settings import KafkaSettings, PostgresSettings
from services.intake.domain.acceptance import accept_submission

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [
    "Drie ouders aan de schoolpoort kunnen de schooluitstap naar zee niet betalen.",
    "Wachtlijst kinderopvang is 9 maanden, mama kan daardoor niet gaan werken.",
    "Schimmel in de badkamer van de sociale woning, de kinderen zijn vaak ziek.",
    "Geen laptop thuis, de kinderen kunnen hun taken op Smartschool niet maken.",
    "De bus rijdt niet meer tot aan de school, ouders moeten een uur stappen; bel 0478 12 34 56.",
]


def body(i: int) -> dict[str, Any]:
    return {
        "signal_id": str(uuid.uuid4()),
        "observed_on": "2026-11-18",
        "text": f"{TEXTS[i % len(TEXTS)]} (melding {i})",
        "municipality": ["Gent", "Antwerpen", "Leuven", "Mechelen"][i % 4],
        "vindplaats": "schoolpoort",
        "reporter_role": "brugfiguur",
        "knowledge_type": "professionele_kennis",
        "target_group": {"age_bands": ["6-11"], "family_situations": []},
        "families_count": 3,
    }


class Connection:
    """One keep-alive HTTP/1.1 connection; one request at a time, as one client would."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.head = (
            f"POST /v1/signals HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, payload: bytes) -> int:
        assert self.reader is not None
        assert self.writer is not None
        self.writer.write(self.head + b"Content-Length: %d\r\n\r\n" % len(payload) + payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) from /proc, or 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idle/iowait, machine-wide."""
    with open("/proc/stat", "rb") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    return (sum(values) - values[3] - values[4]) / CLOCK_TICKS


def listening_pids(port: int) -> list[int]:
    """The processes listening on a local TCP port (from /proc/net/tcp{,6} and their fds): the
    broker the bench talks to, not every Kafka others run on this machine."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            fds = os.listdir(f"/proc/{entry}/fd")
            if any(os.readlink(f"/proc/{entry}/fd/{fd}") in inodes for fd in fds):
                pids.append(int(entry))
    return pids


class CpuMeter:
    """CPU time per process group, as deltas around a measured level: robust to a machine shared
    with other work, unlike wall-clock rates. PostgreSQL counts the backends connected to the
    bench database plus the WAL writer, checkpointer and background writer (shared with others)."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups

    def snapshot(self) -> dict[str, float]:
        taken = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in self.groups.items()}
        taken["machine"] = machine_busy_seconds()
        return taken

    @staticmethod
    def per_signal_us(
        before: dict[str, float], after: dict[str, float], n: int
    ) -> dict[str, float]:
        spent = {name: after[name] - before[name] for name in before}
        ours = sum(v for k, v in spent.items() if k != "machine")
        spent["others"] = max(0.0, spent.pop("machine") - ours)
        return {name: v / max(n, 1) * 1e6 for name, v in spent.items()}


async def postgres_pids(dsn: str, database: str) -> list[int]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE (datname = $1 AND pid <> pg_backend_pid()) "
            "OR backend_type IN ('walwriter', 'checkpointer', 'background writer')",
            database,
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


async def database_commits(dsn: str, database: str) -> int:
    """Transactions committed in the bench database so far (every claim batch is one);
    PostgreSQL's statistics lag by up to a second, so this is approximate per level."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SELECT pg_stat_clear_snapshot()")
        value = await connection.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = $1", database
        )
    finally:
        await connection.close()
    return int(value or 0)


@dataclass
class LevelResult:
    concurrency: int
    accepted: int
    other: dict[int, int]
    seconds: float
    latencies_ms: list[float]
    cpu_us: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


async def run_level(port: int, token: str, concurrency: int, seconds: float) -> LevelResult:
    connections = [Connection("127.0.0.1", port, token) for _ in range(concurrency)]
    await asyncio.gather(*(c.open() for c in connections))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(10**9))
    stop_at = time.perf_counter() + seconds

    async def client(connection: Connection) -> None:
        while time.perf_counter() < stop_at:
            payload = orjson.dumps(body(next(counter)))
            started = time.perf_counter()
            status = await connection.post(payload)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in connections))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(c.close() for c in connections))
    accepted = statuses.pop(202, 0)
    return LevelResult(concurrency, accepted, statuses, elapsed, latencies)


async def raw_producer_rate(
    kafka: KafkaSettings, concurrency: int, seconds: float
) -> tuple[float, float, float]:
    """The same records (encoded as intake publishes them), straight from aiokafka with the
    same producer settings, ``concurrency`` senders each waiting for its acknowledgement."""
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
    )
    await producer.start()
    from datetime import UTC, date, datetime

    now = datetime.now(UTC)
    records = []
    for i in range(2000):
        signal = accept_submission(
            SignalSubmissionV1.model_validate({**body(i), "organisation": "bench"}),
            received_at=now,
            today=date.today(),
        )
        event = signal_submitted_event(signal)
        records.append(
            (
                municipality_key(signal.municipality),
                encode_event(event),
                [(k, v.encode()) for k, v in event_headers(event).items()],
            )
        )
    sent = 0
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def sender(offset: int) -> None:
        nonlocal sent
        i = offset
        while time.perf_counter() < stop_at:
            key, value, headers = records[i % len(records)]
            started = time.perf_counter()
            await producer.send_and_wait(kafka.submitted_topic, value, key=key, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            sent += 1
            i += concurrency

    started = time.perf_counter()
    try:
        await asyncio.gather(*(sender(n) for n in range(concurrency)))
    finally:
        await producer.stop()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return sent / elapsed, ordered[len(ordered) // 2], ordered[int(0.99 * len(ordered))]


def stack_env() -> dict[str, str]:
    out = subprocess.run(  # noqa: S603 - our own script
        ["bash", str(ROOT / "deploy" / "local" / "stack.sh"), "env"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export ") and "=" in line:
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = value.strip().strip("'\"")
    return env


async def main(seconds: float, levels: list[int]) -> None:
    env = {**os.environ, **stack_env()}
    namespace = f"bench-{uuid.uuid4().hex[:8]}."
    kafka = KafkaSettings(
        bootstrap_servers=env["SEINPOST_KAFKA_BOOTSTRAP_SERVERS"], topic_namespace=namespace
    )
    await ensure_topics(kafka)
    admin_dsn = env["SEINPOST_POSTGRES_DSN"]
    database = f"bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{database}"')
    await admin.close()
    dsn = f"{admin_dsn.rpartition('/')[0]}/{database}"
    from pydantic import SecretStr

    pool = await create_pool(PostgresSettings(dsn=SecretStr(dsn)))
    store = AccessStore(pool)
    await store.migrate()
    await store.add_organisation("bench", "Benchmark", ["Gent", "Antwerpen", "Leuven", "Mechelen"])
    token = (await store.create_token(PrincipalKind.ORGANISATION, "bench", "bench")).secret
    await pool.close()

    port = 18000 + os.getpid() % 1000
    intake_env = {
        **env,
        "SEINPOST_KAFKA_TOPIC_NAMESPACE": namespace,
        "SEINPOST_POSTGRES_DSN": dsn,
        "SEINPOST_INTAKE_RATE_LIMIT_PER_S": "1000000",
        "SEINPOST_INTAKE_RATE_LIMIT_BURST": "1000000",
        "SEINPOST_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(  # noqa: S603, ASYNC220 - our own CLI, started once
        [
            sys.executable,
            *(os.environ.get("BENCH_INTAKE_COMMAND") or "-m services.cli intake run").split(),
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=intake_env,
    )
    try:
        async with httpx.AsyncClient() as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError("intake did not become ready")
                await asyncio.sleep(0.2)
        await run_level(port, token, 8, 2.0)  # warm-up: connections, caches, JIT-free paths
        meter = CpuMeter(
            {
                "intake": [process.pid],
                "loadgen": [os.getpid()],
                "kafka": listening_pids(
                    int(kafka.bootstrap_servers.split(",")[0].rsplit(":", 1)[1])
                ),
                "postgres": await postgres_pids(admin_dsn, database),
            }
        )
        print(f"intake, one process, {seconds:.0f} s per level (every request a new signal)")
        print(
            f"{'clients':>8} {'accepted/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'other':>10}"
            "   CPU µs per accepted signal: intake loadgen kafka postgres | others"
        )
        results = []
        for level in levels:
            before = meter.snapshot()
            commits_before = await database_commits(admin_dsn, database)
            result = await run_level(port, token, level, seconds)
            result.cpu_us = CpuMeter.per_signal_us(before, meter.snapshot(), result.accepted)
            commits = await database_commits(admin_dsn, database) - commits_before
            results.append(result)
            cpu = result.cpu_us
            print(
                f"{level:>8} {result.rate:>11.0f} {result.percentile(50):>8.1f} "
                f"{result.percentile(99):>8.1f} {result.other or ''!s:>10}"
                f"   {cpu['intake']:>27.0f} {cpu['loadgen']:>7.0f} {cpu['kafka']:>5.0f} "
                f"{cpu['postgres']:>8.0f} | {cpu['others']:>6.0f}"
                f"   ({commits / max(result.accepted, 1):.2f} PostgreSQL statements per signal)"
            )
        top_cpu = results[-1].cpu_us
        stack = sum(v for k, v in top_cpu.items() if k != "others")
        print(
            f"CPU budget at {levels[-1]} clients: {stack:.0f} µs of CPU per accepted signal for "
            f"intake + load generator + Kafka + PostgreSQL -> at most {2e6 / stack:.0f} signals/s "
            f"on 2 idle cores; intake alone ({top_cpu['intake']:.0f} µs, one core) -> at most "
            f"{1e6 / top_cpu['intake']:.0f}/s"
        )
        top = max(levels)
        raw_rate, raw_p50, raw_p99 = await raw_producer_rate(kafka, top, seconds)
        print(
            f"raw aiokafka producer, {top} concurrent senders, acks=all: {raw_rate:.0f} records/s "
            f"(p50 {raw_p50:.1f} ms, p99 {raw_p99:.1f} ms)"
        )
        intake_top = next(r for r in results if r.concurrency == top)
        print(f"ratio intake / raw producer at {top} clients: {intake_top.rate / raw_rate:.2f}")
        print(
            f"target (>= 2000/s, p99 < 50 ms at 64 clients): "
            f"{'met' if intake_top.rate >= 2000 and intake_top.percentile(99) < 50 else 'NOT met'}"
            " — a shared 2-core machine: broker, PostgreSQL, intake and load generator together"
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
        admin = await asyncpg.connect(admin_dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--levels", default="1,16,64")
    args = parser.parse_args()
    import uvloop  # the load generator's own CPU per request matters as much as intake's

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(args.seconds, [int(n) for n in args.levels.split(",")]))
