"""Bundles from the real database, published on the real broker; migrations on a real server."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from schemas.v1 import PolicyBundleEventV1
from services.aggregator.settings import AggregatorSettings
from services.aggregator.storage import load_migrations, migrate
from services.common.settings import KafkaSettings, PostgresSettings
from services.workflows import compile_bundle_files, load_signal_bodies
from tests.integration.conftest import Pipeline, wait_for
from tests.integration.test_pipeline import post_all

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples" / "signals.jsonl"


async def test_sample_set_becomes_a_published_bundle_with_small_groups_suppressed(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    bodies = load_signal_bodies(SAMPLES)
    assert len(bodies) >= 40
    assert set(await post_all(pipeline.url, bodies)) == {202}

    async def stored() -> bool:
        count = await pipeline.fetchval("SELECT count(*) FROM signal_classifications")
        return bool(count == len(bodies))

    await wait_for(stored, timeout_s=60, what="the sample set stored")
    gent = [b for b in bodies if b["municipality"] == "Gent"]
    observed = [date.fromisoformat(b["observed_on"]) for b in gent]
    settings = AggregatorSettings(kafka=pipeline.kafka, postgres=pipeline.postgres)
    [result] = await compile_bundle_files(
        settings,
        municipalities=["Gent"],
        period_start=min(observed),
        period_end=max(observed),
        min_group_size=5,
        out=tmp_path,
        publish=True,
    )
    bundle = result.bundle
    assert bundle.signal_count.count == len(gent)
    neighbourhoods = {c.key: c for c in bundle.by_neighbourhood}
    small = {
        name
        for name in {b["neighbourhood"] for b in gent if b["neighbourhood"]}
        if sum(1 for b in gent if b["neighbourhood"] == name) < 5
    }
    assert small, "the sample set should have small neighbourhoods"
    for name in small:
        assert neighbourhoods[name].suppressed
        assert neighbourhoods[name].count is None
    assert bundle.suppression_note

    # Committed first, then published: the row exists and is marked published.
    row = await pipeline.fetch(
        "SELECT body, published_at FROM bundles WHERE bundle_id = $1", bundle.bundle_id
    )
    assert row
    assert row[0]["published_at"] is not None
    assert json.loads(row[0]["body"])["bundle_id"] == str(bundle.bundle_id)

    consumer = AIOKafkaConsumer(
        pipeline.kafka.bundles_topic,
        bootstrap_servers=pipeline.kafka.bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        record = await consumer.getone()
    finally:
        await consumer.stop()
    event = PolicyBundleEventV1.model_validate_json(record.value)
    assert event.data == bundle
    assert record.key == b"gent"

    markdown = result.files.markdown.read_text(encoding="utf-8")
    assert "Beleidsbundel Gent" in markdown
    for name in small:
        assert f"| {name} | < 5 |" in markdown
    for body in gent:  # no reporter organisation ever reaches a bundle
        assert body["organisation"] not in markdown
        assert body["organisation"] not in result.files.json.read_text(encoding="utf-8")


async def test_migrations_apply_once_and_refuse_an_edited_history(
    postgres_settings: PostgresSettings,
) -> None:
    connection = await asyncpg.connect(postgres_settings.dsn.get_secret_value())
    try:
        first = await migrate(connection)
        assert first == [m.version for m in load_migrations()]
        assert await migrate(connection) == []
        tables = {
            row["tablename"]
            for row in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        assert {"signals", "signal_classifications", "signal_domains", "bundles"} <= tables
        await connection.execute(
            "UPDATE seinpost_schema_migrations SET checksum = 'edited' "
            "WHERE component = 'aggregator' AND version = 1"
        )
        with pytest.raises(RuntimeError, match="changed after it was applied"):
            await migrate(connection)
    finally:
        await connection.close()


async def test_idempotent_acks_all_producer_and_group_commits_work_with_this_broker(
    kafka_settings: KafkaSettings,
) -> None:
    """aiokafka and the broker version must agree on the protocol features we rely on."""
    from aiokafka import AIOKafkaProducer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topic = kafka_settings.topic("pairing")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_settings.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_settings.bootstrap_servers, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        for number in range(20):
            await producer.send(topic, f"record {number}".encode(), key=b"k")
        last = await producer.send_and_wait(topic, b"last", key=b"k")
    finally:
        await producer.stop()
    assert last.offset == 20

    group = f"{kafka_settings.topic_namespace}pairing"
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_settings.bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        seen: list[bytes] = []
        while len(seen) < 21:
            batch = await consumer.getmany(timeout_ms=1000)
            seen.extend(r.value for records in batch.values() for r in records)
        await consumer.commit()
        assert await consumer.committed(TopicPartition(topic, 0)) == 21
    finally:
        await consumer.stop()
    assert seen[0] == b"record 0"
    assert seen[-1] == b"last"


async def test_a_database_of_the_first_release_is_upgraded_in_place(
    postgres_settings: PostgresSettings,
) -> None:
    connection = await asyncpg.connect(postgres_settings.dsn.get_secret_value())
    try:
        [first] = load_migrations()[:1]
        # What release 0.1 left behind: its own version table and the tables of migration 1.
        await connection.execute(
            """
            CREATE TABLE schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        await connection.execute(first.sql)
        await connection.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            first.version,
            first.name,
            first.checksum,
        )
        applied = await migrate(connection)
        assert first.version not in applied
        assert (
            await connection.fetchval(
                "SELECT checksum FROM seinpost_schema_migrations "
                "WHERE component = 'aggregator' AND version = 1"
            )
            == first.checksum
        )
    finally:
        await connection.close()
