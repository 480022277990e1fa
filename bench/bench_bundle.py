"""The aggregator without Kafka: CPU cost of storing, and bundle compile times over a year.

    export SEINPOST_LOCAL_DIR=/work/main/.local   # or any running stack
    .venv/bin/python -m bench.bench_bundle ingest [--signals 50000] [--batch 5000]
    .venv/bin/python -m bench.bench_bundle compile [--signals 1000000] [--profile]

``ingest`` decodes classified events from bytes and stores them through the aggregator's own
handler (``handle_classified_batch``) in batches, in a fresh database, and reports process
CPU seconds per 10,000 signals — robust to a shared machine, unlike a wall-clock rate.
``compile`` loads a synthetic year straight into PostgreSQL with COPY (rows as the storage
writes them, including the theme terms), then times a steering group's quarterly bundle and a
region-wide one. Both use a database of their own, dropped afterwards. Prints numbers; asserts
nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from pydantic import SecretStr

from bench.bench_aggregator import (
    _WEIGHTS,
    MUNICIPALITIES,
    NEIGHBOURHOODS,
    ROLES,
    TEMPLATES,
    VINDPLAATSEN,
    WAT,
    _event,
)
from services.aggregator.bundling import compile_for_group
from services.aggregator.domain.text import theme_terms
from services.aggregator.handlers import handle_classified_batch
from services.aggregator.periods import parse_period
from services.aggregator.storage import PostgresSignalStore, SteeringGroup, migrate
from services.common.events import RecordRef
from services.common.gc_tuning import tune_garbage_collector
from services.common.kafka import Outgoing
from services.common.postgres import create_pool
from services.common.settings import KafkaSettings, PostgresSettings


class _NoPublisher:
    async def publish_all(self, outgoing: list[Outgoing]) -> None:
        assert not outgoing, "the synthetic events are all valid"


async def _ingest(pool: asyncpg.Pool[Any], args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    values = [_event(rng, args.year) for _ in range(args.signals)]
    records = [
        RecordRef("bench.classified", 0, offset, None, value) for offset, value in enumerate(values)
    ]
    store = PostgresSignalStore(pool)
    theme_terms("opwarmen")  # as the service does at start (app._start)
    if not args.default_gc:
        tune_garbage_collector()
    cpu, wall = time.process_time(), time.perf_counter()
    profile = cProfile.Profile() if args.profile else None
    if profile:
        profile.enable()
    for start in range(0, len(records), args.batch):
        await handle_classified_batch(
            records[start : start + args.batch],
            store=store,
            publisher=_NoPublisher(),  # type: ignore[arg-type]
            kafka=KafkaSettings(),
            consumer_group="bench",
            max_record_bytes=1 << 20,
        )
    if profile:
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    stored = await pool.fetchval("SELECT count(*) FROM signals")
    assert stored == args.signals, stored
    return {
        "signals": args.signals,
        "batch": args.batch,
        "process_cpu_s_per_10k": round(cpu / args.signals * 10_000, 3),
        "wall_per_second": round(args.signals / wall),
        "cpu_bound_per_second": round(args.signals / cpu),
    }


def _rows(count: int, seed: int, year: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rng = random.Random(seed)
    signals, tags = [], []
    terms_cache: dict[str, str] = {}
    for _ in range(count):
        domains, template = rng.choice(TEMPLATES)
        municipality = rng.choices(MUNICIPALITIES, weights=_WEIGHTS)[0]
        signal_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        observed = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        at = datetime(observed.year, observed.month, observed.day, 12, tzinfo=UTC)
        text = template.format(n=rng.randint(2, 9), wat=rng.choice(WAT))
        terms = terms_cache.get(text)
        if terms is None:
            terms = terms_cache[text] = theme_terms(text)
        signals.append(
            (signal_id, "1.1", observed, at, at, text, municipality, rng.choice(NEIGHBOURHOODS),
             rng.choice(VINDPLAATSEN), rng.choice(ROLES),
             rng.choice(["professionele_kennis", "ervaringskennis"]),
             '{"age_bands": ["6-11"], "family_situations": []}', rng.randint(1, 9),
             f"org-{rng.randrange(400)}", "[]", "bench.classified", 0, 0, terms)
        )  # fmt: skip
        tags.append(
            (signal_id, "model", 0, at, "bench-1", "bench-1", None, list(domains), domains[0],
             False)
        )  # fmt: skip
    return signals, tags


async def _load(pool: asyncpg.Pool[Any], args: argparse.Namespace) -> float:
    signals, tags = _rows(args.signals, args.seed, args.year)
    started = time.perf_counter()
    async with pool.acquire() as connection, connection.transaction():
        await connection.copy_records_to_table(
            "signals",
            records=signals,
            timeout=900,
            columns=[
                "signal_id", "schema_version", "observed_on", "submitted_at", "received_at",
                "text", "municipality", "neighbourhood", "vindplaats", "reporter_role",
                "knowledge_type", "target_group", "families_count", "organisation",
                "redactions", "source_topic", "source_partition", "source_offset", "terms",
            ],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "signal_current_tags",
            records=tags,
            timeout=900,
            columns=[
                "signal_id", "source", "source_rank", "effective_at", "tie_break",
                "classifier_version", "correction_id", "domains", "primary_domain",
                "needs_review",
            ],
        )  # fmt: skip
    await pool.execute("ANALYZE", timeout=900)
    return time.perf_counter() - started


async def _compile(pool: asyncpg.Pool[Any], args: argparse.Namespace) -> dict[str, Any]:
    load_s = await _load(pool, args)
    print(f"  loaded {args.signals:,} signals with COPY in {load_s:.1f} s", flush=True)
    store = PostgresSignalStore(pool)
    period = parse_period(f"{args.year}-Q3")
    groups = {
        "one_municipality": SteeringGroup(
            "bench-gent", "Stuurgroep Gent", None, ("Gent",), None, None, "quarterly", 3, 5,
            date(args.year, 1, 1),
        ),
        "region_wide": SteeringGroup(
            "bench-regio", "Regio", None, tuple(MUNICIPALITIES), None, None, "quarterly", 3, 5,
            date(args.year, 1, 1),
        ),
    }  # fmt: skip
    result: dict[str, Any] = {"signals": args.signals, "copy_load_seconds": round(load_s, 1)}
    for name, group in groups.items():
        await store.upsert_steering_group(group)
        profile = cProfile.Profile() if args.profile else None
        if profile:
            profile.enable()
        cpu, started = time.process_time(), time.perf_counter()
        compiled = await compile_for_group(
            store, group, period, scheduled=False, baseline_periods=args.baseline_periods
        )
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if profile:
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        assert compiled is not None
        result[name] = {
            "seconds": round(elapsed, 2),
            "process_cpu_seconds": round(cpu, 2),
            "signals": compiled.bundle.signal_count.count,
            "themes": sum(len(section.themes) for section in compiled.bundle.domains),
        }
        print(f"  {name}: {elapsed:.2f} s ({cpu:.2f} s CPU here)", flush=True)
    return result


async def main(args: argparse.Namespace) -> dict[str, Any]:
    admin_dsn = os.environ.get(
        "SEINPOST_POSTGRES_DSN", "postgresql://seinpost:seinpost@127.0.0.1:5433/seinpost"
    )
    database = f"bench_{uuid.uuid4().hex[:8]}"
    dsn = f"{admin_dsn.rpartition('/')[0]}/{database}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{database}"')
    try:
        pool = await create_pool(PostgresSettings(dsn=SecretStr(dsn)))
        try:
            async with pool.acquire() as connection:
                await migrate(connection)
            if args.mode == "ingest":
                return await _ingest(pool, args)
            return await _compile(pool, args)
        finally:
            await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["ingest", "compile"])
    parser.add_argument("--signals", type=int)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--baseline-periods", type=int, default=4)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--default-gc", action="store_true", help="keep CPython's default GC thresholds"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    arguments = parser.parse_args()
    if arguments.signals is None:
        arguments.signals = 50_000 if arguments.mode == "ingest" else 1_000_000
    print(json.dumps(asyncio.run(main(arguments)), indent=2))
