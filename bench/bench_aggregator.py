"""The aggregator under a synthetic year: rows stored per second from Kafka, and the time to
compile a steering group's quarterly bundle and a region-wide one.

    export SEINPOST_LOCAL_DIR=/work/main/.local   # or any running stack
    .venv/bin/python -m bench.bench_aggregator [--signals 200000] [--batch 20000] [--skip-compile]

It uses the stack named by the environment (SEINPOST_KAFKA_BOOTSTRAP_SERVERS,
SEINPOST_POSTGRES_DSN), but its own database and topic namespace, which it removes afterwards
(``--keep`` keeps them). Signals go straight onto the classified topic: this measures the
aggregator, not the classifier. Texts come from Dutch templates per life domain, so that the
same problems recur across municipalities and themes exist. Progress is read from the
consumer group's committed offsets (a ``count(*)`` every 0.2 s took CPU from the process
under test). Besides the wall-clock rate it prints CPU seconds per 10,000 signals stored of
this process (the aggregator), of PostgreSQL's backends for the bench database, of the broker
and of the whole machine, read from /proc: on a shared machine those say more than the rate.
Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import resource
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import SecretStr

from bench.bench_intake import cpu_seconds, listening_pids, machine_busy_seconds
from schemas.v1 import SignalClassifiedEventV1
from services.aggregator.app import create_app
from services.aggregator.bundling import compile_for_group
from services.aggregator.periods import parse_period
from services.aggregator.settings import AggregatorSettings
from services.aggregator.storage import PostgresSignalStore, SteeringGroup, migrate
from services.common.kafka import ensure_topics
from services.common.logging import configure_logging
from services.common.postgres import create_pool
from services.common.settings import KafkaSettings, LoggingSettings, PostgresSettings

MUNICIPALITIES = [
    "Gent", "Antwerpen", "Brugge", "Leuven", "Mechelen", "Aalst", "Kortrijk", "Hasselt",
    "Sint-Niklaas", "Oostende", "Genk", "Roeselare", "Turnhout", "Dendermonde", "Lokeren",
    "Beveren", "Vilvoorde", "Herentals", "Geel", "Lier", "Mol", "Waregem", "Ieper", "Lommel",
    "Ninove", "Tienen", "Wetteren", "Zottegem", "Eeklo", "Tielt", "Torhout", "Diest", "Aarschot",
    "Heist-op-den-Berg", "Mortsel", "Schoten", "Brasschaat", "Kapellen", "Boom", "Willebroek",
    "Bilzen", "Tongeren", "Maaseik", "Beringen", "Deinze", "Harelbeke", "Menen", "Poperinge",
    "Ronse", "Oudenaarde",
]  # fmt: skip
NEIGHBOURHOODS = ["Centrum", "Noord", "Zuid", "Oost", "West", "Station", "Kerkwijk", "Heide"]
VINDPLAATSEN = ["schoolpoort", "huisbezoek", "ouderkoffie", "huiswerkklas", "jeugdhuis",
                "voedselbedeling", "ocmw_loket", "buurtrestaurant"]  # fmt: skip
ROLES = ["brugfiguur", "schoolcoach", "jeugdwerker", "maatschappelijk_werker", "vrijwilliger",
         "ervaringsdeskundige"]  # fmt: skip

# (domains, template): {n} families, {wat} varies a little so texts are paraphrases, not copies.
TEMPLATES: list[tuple[tuple[str, ...], str]] = [
    (("onderwijs", "inkomen"), "{n} ouders kunnen de schooluitstap naar {wat} niet betalen."),
    (("onderwijs", "inkomen"), "De schoolrekening voor {wat} is te hoog voor {n} gezinnen."),
    (("wonen", "gezondheid"), "Schimmel in de sociale woning, {n} kinderen zijn vaak ziek."),
    (("wonen",), "{n} gezinnen staan al jaren op de wachtlijst voor een sociale woning."),
    (("wonen", "inkomen"), "Energiefactuur onbetaalbaar, {n} gezinnen zetten de verwarming af."),
    (("gezondheid", "inkomen"), "Geen geld voor een bril of tandartsbezoek bij {n} kinderen."),
    (("gezondheid",), "Lange wachttijden voor de kinderpsychiater, {n} jongeren wachten maanden."),
    (("vrije_tijd", "inkomen"), "Kamp in de zomer is te duur, {n} kinderen blijven thuis."),
    (("vrije_tijd",), "Geen speelruimte in de wijk, {n} kinderen spelen op de parking."),
    (("digitaal", "onderwijs"), "{n} leerlingen hebben geen laptop voor Smartschool of Bingel."),
    (("digitaal",), "Ouders vinden de weg niet in de digitale formulieren van {wat}."),
    (("dienstverlening",), "{n} gezinnen weten niet dat ze recht hebben op de schooltoelage."),
    (("dienstverlening", "gezin"), "Wachtlijst bij het CLB, {n} gezinnen krijgen geen hulp."),
    (("gezin",), "Geen plaats in de kinderopvang voor {n} alleenstaande moeders."),
    (("werk",), "{n} ouders vinden geen opleiding bij de VDAB die past bij hun uren."),
    (("participatie",), "{n} nieuwkomers voelen zich eenzaam en kennen niemand in de buurt."),
    (("recht",), "Onzeker verblijfsstatuut, {n} gezinnen durven geen hulp te vragen."),
    (("mobiliteit", "onderwijs"), "De bus van De Lijn rijdt niet, {n} kinderen komen te laat."),
    (("inkomen",), "{n} gezinnen hebben schulden en een budgetmeter voor {wat}."),
]  # fmt: skip
# Cities are larger than towns: Zipf-like weights, so Gent (first) has about 8 % of the signals.
_WEIGHTS = [1 / (rank + 1) ** 0.8 for rank in range(50)]
WAT = ["zee", "het museum", "de zoo", "Parijs", "de Ardennen", "water", "gas", "de stad"]


def _event(rng: random.Random, year: int) -> bytes:
    domains, template = rng.choice(TEMPLATES)
    municipality = rng.choices(MUNICIPALITIES, weights=_WEIGHTS)[0]
    signal_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    observed = date(year, 1, 1) + timedelta(days=rng.randrange(365))
    at = datetime(observed.year, observed.month, observed.day, 12, tzinfo=UTC).isoformat()
    tags = [
        {"domain": d, "score": round(0.9 - 0.1 * i, 2), "evidence": []}
        for i, d in enumerate(domains)
    ]
    data = {
        "schema_version": "1.1",
        "signal": {
            "schema_version": "1.1",
            "signal_id": signal_id,
            "observed_on": observed.isoformat(),
            "text": template.format(n=rng.randint(2, 9), wat=rng.choice(WAT)),
            "municipality": municipality,
            "neighbourhood": rng.choice(NEIGHBOURHOODS),
            "vindplaats": rng.choice(VINDPLAATSEN),
            "reporter_role": rng.choice(ROLES),
            "knowledge_type": rng.choice(["professionele_kennis", "ervaringskennis"]),
            "target_group": {"age_bands": ["6-11"], "family_situations": []},
            "families_count": rng.randint(1, 9),
            "organisation": f"org-{rng.randrange(400)}",
            "submitted_at": at,
            "received_at": at,
            "redactions": [],
        },
        "classification": {
            "classifier_version": "bench-1",
            "taxonomy_version": "v1",
            "domains": tags,
            "scores": {t["domain"]: t["score"] for t in tags},
            "primary_domain": domains[0],
            "needs_review": False,
            "classified_at": at,
        },
    }
    return orjson.dumps(
        {
            "specversion": "1.0",
            "id": signal_id,
            "source": "/seinpost/classifier",
            "type": "be.seinpost.signal.classified.v1",
            "time": at,
            "subject": signal_id,
            "datacontenttype": "application/json",
            "data": data,
        }
    )


async def _produce(kafka: KafkaSettings, count: int, seed: int, year: int) -> float:
    rng = random.Random(seed)
    # Check once that what we generate is a valid event.
    SignalClassifiedEventV1.model_validate_json(_event(random.Random(seed), year))
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers,
        acks="all",
        linger_ms=20,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for number in range(count):
            value = _event(rng, year)
            key = orjson.loads(value)["data"]["signal"]["municipality"].casefold().encode()
            pending.append(await producer.send(kafka.classified_topic, value, key=key))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
                print(f"  produced {number + 1:,}", flush=True)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


# PostgreSQL's background processes that write for every backend: their CPU is shared with
# whatever else runs on the server, so it is reported apart from the bench's own backends.
_SHARED_WRITERS = ("walwriter", "checkpointer", "background writer")


class _PostgresCpu:
    """CPU seconds of the PostgreSQL backends serving the bench's database (the bench's own
    probe connection excluded) and of the server's shared writers, read from /proc: only
    meaningful when PostgreSQL runs on this machine. Sampled repeatedly, so a connection the
    pool closes midway still counts up to its last sample."""

    def __init__(self, connection: asyncpg.Connection[Any], database: str) -> None:
        self._connection = connection
        self._database = database
        self._backends: dict[int, float] = {}
        self._writers_start: dict[int, float] = {}
        self._writers: dict[int, float] = {}

    async def sample(self) -> None:
        rows = await self._connection.fetch(
            "SELECT pid, datname FROM pg_stat_activity "
            "WHERE (datname = $1 AND pid <> pg_backend_pid()) OR backend_type = ANY($2::text[])",
            self._database,
            list(_SHARED_WRITERS),
        )
        for row in rows:
            cpu = cpu_seconds(row["pid"])
            if not cpu:
                continue
            if row["datname"] == self._database:
                self._backends[row["pid"]] = cpu
            else:
                self._writers_start.setdefault(row["pid"], cpu)
                self._writers[row["pid"]] = cpu

    @property
    def backends_s(self) -> float:
        return sum(self._backends.values())

    @property
    def shared_writers_s(self) -> float:
        return sum(cpu - self._writers_start[pid] for pid, cpu in self._writers.items())


@dataclass
class _Consumed:
    seconds: float  # from start to the last signal stored
    steady_seconds: float  # from the first batch committed to the last
    process_cpu_s: float  # this process: the aggregator (and the bench's light probing)
    postgres: _PostgresCpu
    kafka_cpu_s: float  # the broker's process, shared with anything else it serves meanwhile
    machine_busy_s: float  # every process on the machine, ours and others'


async def _committed(admin: AIOKafkaAdminClient, group_id: str) -> int:
    """Records the consumer group has committed: stored and durable (the aggregator commits
    only after PostgreSQL did). Cheap for the broker, unlike counting a growing table."""
    offsets = await admin.list_consumer_group_offsets(group_id)
    return sum(max(0, meta.offset) for meta in offsets.values())


def _per_10k(seconds: float, signals: int) -> float:
    return round(seconds / signals * 10_000, 3)


async def _consume(settings: AggregatorSettings, dsn: str, database: str, count: int) -> _Consumed:
    """Runs the aggregator until it committed ``count`` records, then checks the row count.

    Progress is read from the consumer group's committed offsets, not from ``count(*)``: on
    two cores a count over a table of hundreds of thousands of rows every 0.2 s took CPU from
    the process under test. Besides wall time it measures CPU seconds of this process, of
    PostgreSQL and of the broker: robust to a shared machine, unlike the wall-clock rate."""
    connection = await asyncpg.connect(dsn)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    await admin.start()
    broker_port = int(settings.kafka.bootstrap_servers.split(",")[0].rsplit(":", 1)[1])
    kafka_pids = listening_pids(broker_port)
    app = create_app(settings)
    postgres_cpu = _PostgresCpu(connection, database)
    await postgres_cpu.sample()
    kafka_cpu = sum(cpu_seconds(pid) for pid in kafka_pids)
    machine = machine_busy_seconds()
    started, cpu = time.perf_counter(), time.process_time()
    first_row: float | None = None
    last_print = started
    try:
        async with app:
            while True:
                await postgres_cpu.sample()
                stored = await _committed(admin, settings.group_id)
                now = time.perf_counter()
                if stored and first_row is None:
                    first_row = now
                if now - last_print > 10:
                    rate = stored / (now - started)
                    print(f"  stored {stored:,} ({rate:,.0f}/s so far)", flush=True)
                    last_print = now
                if stored >= count:
                    cpu = time.process_time() - cpu
                    await postgres_cpu.sample()
                    rows = await connection.fetchval("SELECT count(*) FROM signals")
                    assert rows == count, f"{count} committed, but {rows} rows stored"
                    return _Consumed(
                        seconds=now - started,
                        steady_seconds=now - (first_row or started),
                        process_cpu_s=cpu,
                        postgres=postgres_cpu,
                        kafka_cpu_s=sum(cpu_seconds(pid) for pid in kafka_pids) - kafka_cpu,
                        machine_busy_s=machine_busy_seconds() - machine,
                    )
                await asyncio.sleep(0.2)
    finally:
        await admin.close()
        await connection.close()


async def _compile_times(settings: AggregatorSettings, year: int) -> dict[str, Any]:
    pool = await create_pool(settings.postgres)
    try:
        store = PostgresSignalStore(pool)
        period = parse_period(f"{year}-Q3")
        groups = {
            "one_municipality": SteeringGroup(
                "bench-gent", "Stuurgroep Gent", None, ("Gent",), None, None, "quarterly", 3, 5,
                date(year, 1, 1),
            ),
            "region_wide": SteeringGroup(
                "bench-regio", "Regio", None, tuple(MUNICIPALITIES), None, None, "quarterly", 3, 5,
                date(year, 1, 1),
            ),
        }  # fmt: skip
        await pool.execute("ANALYZE")
        result = {}
        for name, group in groups.items():
            await store.upsert_steering_group(group)
            started = time.perf_counter()
            compiled = await compile_for_group(
                store, group, period, scheduled=False, baseline_periods=settings.baseline_periods
            )
            elapsed = time.perf_counter() - started
            assert compiled is not None
            result[name] = {
                "seconds": round(elapsed, 2),
                "signals": compiled.bundle.signal_count.count,
                "themes": sum(len(section.themes) for section in compiled.bundle.domains),
            }
            print(f"  {name}: {elapsed:.2f} s ({compiled.bundle.signal_count.count} signals)")
        return result
    finally:
        await pool.close()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    configure_logging("bench", LoggingSettings(level="WARNING"))
    logging.getLogger("faststream").setLevel(logging.WARNING)
    run = uuid.uuid4().hex[:8]
    admin_dsn = os.environ.get(
        "SEINPOST_POSTGRES_DSN", "postgresql://seinpost:seinpost@127.0.0.1:5433/seinpost"
    )
    database = f"bench_{run}"
    base, _, _ = admin_dsn.rpartition("/")
    dsn = f"{base}/{database}"
    kafka = KafkaSettings(topic_namespace=f"bench-{run}.", partitions=args.partitions)
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{database}"')
    settings = AggregatorSettings(
        kafka=kafka,
        postgres=PostgresSettings(dsn=SecretStr(dsn), pool_max_size=args.partitions + 2),
        group_id=f"bench-{run}",
        batch_max_records=args.batch,
        batch_timeout_ms=200,
        scheduler_enabled=False,
        baseline_periods=args.baseline_periods,
        logging=LoggingSettings(level="WARNING"),
    )
    try:
        pool = await create_pool(settings.postgres)
        async with pool.acquire() as connection:
            await migrate(connection)
        await pool.close()
        await ensure_topics(kafka)
        print(f"producing {args.signals:,} classified signals ...", flush=True)
        produce_s = await _produce(kafka, args.signals, args.seed, args.year)
        print(f"consuming with batches of {args.batch} ...", flush=True)
        consumed = await _consume(settings, dsn, database, args.signals)
        compile_times: dict[str, Any] = {}
        if not args.skip_compile:
            print("compiling Q3 bundles ...", flush=True)
            compile_times = await _compile_times(settings, args.year)
        return {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}",
            "signals": args.signals,
            "batch_max_records": args.batch,
            "partitions": args.partitions,
            "produce_per_second": round(args.signals / produce_s),
            "stored_per_second": round(args.signals / consumed.seconds),
            "stored_per_second_after_first_row": round(args.signals / consumed.steady_seconds),
            "store_seconds": round(consumed.seconds, 1),
            "process_cpu_s_per_10k_stored": _per_10k(consumed.process_cpu_s, args.signals),
            "postgres_backends_cpu_s_per_10k_stored": _per_10k(
                consumed.postgres.backends_s, args.signals
            ),
            # walwriter, checkpointer, background writer, and the broker: shared with anything
            # else they do meanwhile, so upper bounds on a busy machine.
            "postgres_shared_writers_cpu_s_per_10k_stored": _per_10k(
                consumed.postgres.shared_writers_s, args.signals
            ),
            "kafka_broker_cpu_s_per_10k_stored": _per_10k(consumed.kafka_cpu_s, args.signals),
            "machine_busy_cpu_s_per_10k_stored": _per_10k(consumed.machine_busy_s, args.signals),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
            # Producing, consuming and compiling together: an upper bound for the aggregator.
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "quarterly_bundle": compile_times,
        }
    finally:
        if not args.keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            client = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
            await client.start()
            try:
                await client.delete_topics(kafka.all_topics())
            finally:
                await client.close()
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # The compile timings over the 1M-signal year: `bench.bench_bundle compile` loads it with
    # COPY, which takes a minute instead of the better part of an hour through Kafka.
    parser.add_argument("--signals", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=20_000, help="aggregator batch_max_records")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--baseline-periods", type=int, default=4)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database and topics")
    parser.add_argument(
        "--skip-compile", action="store_true", help="measure ingest only, no bundle compile"
    )
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
