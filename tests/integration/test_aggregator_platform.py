"""The aggregator platform against the real PostgreSQL and Kafka: steering groups, versioned
immutable bundles, the scheduler, correction precedence, replay, decisions, feedback, access."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from schemas.v1 import (
    ClassificationSource,
    ClassificationV1,
    CorrectionRefV1,
    DomainTagV1,
    PolicyBundleEventV1,
    SignalClassifiedV1,
    signal_classified_event,
)
from services.aggregator.api import create_api
from services.aggregator.app import create_app as create_aggregator
from services.aggregator.bundling import compile_for_group, publish_bundle
from services.aggregator.domain.text import theme_terms
from services.aggregator.periods import parse_period
from services.aggregator.scheduler import run_due
from services.aggregator.settings import AggregatorSettings
from services.aggregator.storage import PostgresSignalStore, SteeringGroup, migrate
from services.common.access import AccessStore, PrincipalKind
from services.common.events import RecordRef
from services.common.kafka import EventPublisher, Outgoing, create_broker, ensure_topics
from services.common.postgres import create_pool
from services.common.settings import KafkaSettings, PostgresSettings
from services.intake.domain.privacy import scrub
from tests.factories import classified_signal, submitted_signal
from tests.fakes import FakePublisher
from tests.integration.conftest import free_port, serving, wait_for

Q3 = parse_period("2026-Q3")
AFTER_Q3 = date(2026, 10, 2)


def gent_group(**overrides: Any) -> SteeringGroup:
    values: dict[str, Any] = {
        "steering_group_id": "gent",
        "name": "Stuurgroep Gent",
        "network_id": None,
        "municipalities": ("Gent",),
        "neighbourhoods": None,
        "domains_of_interest": None,
        "cadence": "quarterly",
        "period_months": 3,
        "min_group_size": 5,
        "active_from": date(2026, 1, 1),
    }
    values.update(overrides)
    return SteeringGroup(**values)


def ref(offset: int) -> RecordRef:
    return RecordRef(topic="t", partition=0, offset=offset, key=None, value=None)


def model_tags(
    signal: Any, domains: tuple[str, ...], *, at: datetime, version: str = "test-1"
) -> SignalClassifiedV1:
    classified = classified_signal(signal, domains)
    return classified.model_copy(
        update={
            "classification": classified.classification.model_copy(
                update={"classified_at": at, "classifier_version": version}
            )
        }
    )


def corrected_tags(signal: Any, domains: tuple[str, ...], *, at: datetime) -> SignalClassifiedV1:
    correction_id = uuid.uuid4()
    return SignalClassifiedV1(
        signal=signal,
        classification=ClassificationV1(
            classifier_version=f"correctie:{correction_id}",
            taxonomy_version="seinpost_v1",
            domains=[DomainTagV1(domain=d, score=1.0) for d in domains],
            primary_domain=domains[0],
            needs_review=False,
            classified_at=at,
            source=ClassificationSource.CORRECTION,
            correction=CorrectionRefV1(
                correction_id=correction_id, corrected_by_role="coordinator", corrected_at=at
            ),
        ),
    )


def q3_signals(count: int, **overrides: Any) -> list[SignalClassifiedV1]:
    return [
        classified_signal(submitted_signal(observed_on=date(2026, 8, 1 + i % 28), **overrides))
        for i in range(count)
    ]


@dataclass
class Platform:
    settings: AggregatorSettings
    store: PostgresSignalStore
    pool: asyncpg.Pool[Any]


@pytest.fixture
async def platform(
    kafka_settings: KafkaSettings, postgres_settings: PostgresSettings, tmp_path: Path
) -> AsyncIterator[Platform]:
    await ensure_topics(kafka_settings)
    suffix = kafka_settings.topic_namespace.strip(".")
    settings = AggregatorSettings(
        kafka=kafka_settings,
        postgres=postgres_settings,
        group_id=f"{suffix}-aggregator",
        batch_timeout_ms=20,
        bundle_dir=tmp_path,
        scheduler_enabled=False,
        republish_after_s=0,
        baseline_periods=1,
    )
    pool = await create_pool(postgres_settings)
    async with pool.acquire() as connection:
        await migrate(connection)
    try:
        yield Platform(settings, PostgresSignalStore(pool), pool)
    finally:
        await pool.close()


@contextlib.asynccontextmanager
async def kafka_publisher(kafka: KafkaSettings) -> AsyncIterator[EventPublisher]:
    broker = create_broker(kafka, client_id="test")
    await broker.start()
    try:
        yield EventPublisher(broker, timeout_s=30)
    finally:
        await broker.stop()


async def bundles_on_topic(kafka: KafkaSettings, expected: int) -> list[PolicyBundleEventV1]:
    consumer = AIOKafkaConsumer(
        kafka.bundles_topic,
        bootstrap_servers=kafka.bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    seen: list[PolicyBundleEventV1] = []
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(seen) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            seen += [
                PolicyBundleEventV1.model_validate_json(r.value)
                for records in batch.values()
                for r in records
            ]
        # Anything more than expected would be a double publication.
        batch = await consumer.getmany(timeout_ms=500)
        seen += [
            PolicyBundleEventV1.model_validate_json(r.value)
            for records in batch.values()
            for r in records
        ]
    finally:
        await consumer.stop()
    return seen


async def test_a_recompiled_period_is_a_new_version_and_a_published_bundle_never_changes(
    platform: Platform,
) -> None:
    store = platform.store
    await store.upsert_steering_group(gent_group())
    await store.store_classified([(ref(i), c) for i, c in enumerate(q3_signals(7))])
    group = await store.steering_group("gent")
    assert group is not None
    first = await compile_for_group(store, group, Q3, scheduled=False, baseline_periods=1)
    assert first is not None
    await publish_bundle(
        first.bundle,
        steering_group_id="gent",
        store=store,
        publisher=FakePublisher(),
        kafka=platform.settings.kafka,
    )
    await store.store_classified([(ref(100 + i), c) for i, c in enumerate(q3_signals(3))])
    second = await compile_for_group(store, group, Q3, scheduled=False, baseline_periods=1)
    assert second is not None
    assert (first.version, second.version) == (1, 2)
    assert (first.bundle.signal_count.count, second.bundle.signal_count.count) == (7, 10)
    stored = await store.bundles_of("gent")
    assert [(b.version, b.bundle.signal_count.count) for b in stored] == [(2, 10), (1, 7)]
    # A scheduled run for a period that has bundles compiles nothing.
    assert await compile_for_group(store, group, Q3, scheduled=True, baseline_periods=1) is None

    async with platform.pool.acquire() as connection:
        with pytest.raises(asyncpg.PostgresError, match="immutable"):
            await connection.execute(
                "UPDATE bundles SET body = '{}'::jsonb WHERE bundle_id = $1", first.bundle.bundle_id
            )
        with pytest.raises(asyncpg.PostgresError, match="cannot be deleted"):
            await connection.execute(
                "DELETE FROM bundles WHERE bundle_id = $1", first.bundle.bundle_id
            )
        with pytest.raises(asyncpg.UniqueViolationError):
            await connection.execute(
                """
                INSERT INTO bundles (bundle_id, municipality, period_start, period_end, compiled_at,
                                     min_group_size, body, steering_group_id, version)
                SELECT gen_random_uuid(), municipality, period_start, period_end, compiled_at,
                       min_group_size, body, steering_group_id, version
                FROM bundles WHERE bundle_id = $1
                """,
                first.bundle.bundle_id,
            )
    again = await store.bundle(first.bundle.bundle_id)
    assert again is not None
    assert again.bundle == first.bundle


async def test_two_schedulers_compile_a_closed_period_exactly_once(platform: Platform) -> None:
    await platform.store.upsert_steering_group(gent_group())
    await platform.store.upsert_steering_group(
        gent_group(steering_group_id="gent-maandelijks", cadence="monthly", period_months=1)
    )
    await platform.store.store_classified([(ref(i), c) for i, c in enumerate(q3_signals(8))])
    second_pool = await create_pool(platform.settings.postgres)
    try:
        other = PostgresSignalStore(second_pool)
        async with kafka_publisher(platform.settings.kafka) as publisher:
            reports = await asyncio.gather(
                run_due(platform.store, publisher, platform.settings, today=AFTER_Q3),
                run_due(other, publisher, platform.settings, today=AFTER_Q3),
                run_due(other, publisher, platform.settings, today=AFTER_Q3),
            )
            later = await run_due(platform.store, publisher, platform.settings, today=AFTER_Q3)
    finally:
        await second_pool.close()
    compiled = [c for report in reports for c in report.compiled]
    assert sorted(c.steering_group_id or "" for c in compiled) == ["gent", "gent-maandelijks"]
    assert later.compiled == []
    rows = await platform.pool.fetch(
        "SELECT steering_group_id, period_start, period_end, version, trigger, published_at "
        "FROM bundles ORDER BY steering_group_id"
    )
    assert [(r["steering_group_id"], r["period_start"], r["period_end"]) for r in rows] == [
        ("gent", Q3.start, Q3.end),
        ("gent-maandelijks", date(2026, 9, 1), date(2026, 9, 30)),
    ]
    assert all(r["version"] == 1 and r["trigger"] == "scheduled" for r in rows)
    assert all(r["published_at"] is not None for r in rows)
    events = await bundles_on_topic(platform.settings.kafka, expected=2)
    assert sorted(e.data.bundle_id for e in events) == sorted(c.bundle.bundle_id for c in compiled)
    # The files are the last step, written by the replica that compiled.
    assert not list(platform.settings.bundle_dir.glob("*.json"))  # no `out` was given


async def test_a_bundle_committed_but_not_published_is_republished(platform: Platform) -> None:
    await platform.store.upsert_steering_group(gent_group())
    await platform.store.store_classified([(ref(i), c) for i, c in enumerate(q3_signals(5))])
    # The crash between commit and publish: Kafka never acknowledged.
    failing = await run_due(
        platform.store, FakePublisher(fail=True), platform.settings, today=AFTER_Q3
    )
    assert failing.failed == ["gent"]
    [unpublished] = await platform.store.unpublished_bundles(older_than_s=0)
    async with kafka_publisher(platform.settings.kafka) as publisher:
        report = await run_due(
            platform.store, publisher, platform.settings, today=AFTER_Q3, out=None
        )
    assert report.republished == [unpublished.bundle_id]
    assert report.compiled == []  # the period had its bundle: republished, not recompiled
    assert await platform.store.unpublished_bundles(older_than_s=0) == []
    [event] = await bundles_on_topic(platform.settings.kafka, expected=1)
    assert event.data == unpublished.bundle


async def test_a_correction_outranks_the_model_whatever_the_arrival_order(
    platform: Platform,
) -> None:
    store = platform.store
    signal = submitted_signal()
    t0 = datetime(2026, 11, 20, 10, tzinfo=UTC)
    early_fix = corrected_tags(signal, ("wonen",), at=t0 + timedelta(hours=1))
    late_fix = corrected_tags(signal, ("gezondheid", "wonen"), at=t0 + timedelta(hours=2))
    newer_model = model_tags(signal, ("onderwijs",), at=t0 + timedelta(days=3), version="test-2")
    # The later correction arrives first, then an older one, then a newer model run.
    await store.store_classified([(ref(0), model_tags(signal, ("inkomen",), at=t0))])
    assert await store.current_tags(signal.signal_id) == ("model", ("inkomen",))
    await store.store_classified([(ref(1), late_fix)])
    await store.store_classified([(ref(2), early_fix)])
    await store.store_classified([(ref(3), newer_model)])
    assert await store.current_tags(signal.signal_id) == ("correction", ("gezondheid", "wonen"))
    # Within one batch the order does not matter either.
    other = submitted_signal()
    await store.store_classified(
        [
            (ref(4), corrected_tags(other, ("recht",), at=t0)),
            (ref(5), model_tags(other, ("inkomen",), at=t0 + timedelta(days=1))),
        ]
    )
    assert await store.current_tags(other.signal_id) == ("correction", ("recht",))
    history = await store.tag_history(signal.signal_id)
    assert [(h["source"], list(h["domains"])) for h in history] == [
        ("model", ["inkomen"]),
        ("correction", ["wonen"]),
        ("correction", ["gezondheid", "wonen"]),
        ("model", ["onderwijs"]),
    ]
    assert history[1]["changed_by"] == "coordinator"
    # What a bundle is compiled from carries the corrected domains.
    records = {
        r.signal_id: r
        for r in await store.scope_signals(["Gent"], date(2026, 11, 18), date(2026, 11, 18))
    }
    assert records[signal.signal_id].domains == ("gezondheid", "wonen")
    assert records[other.signal_id].domains == ("recht",)


async def test_theme_terms_are_stored_at_ingest_and_a_baseline_comes_without_texts(
    platform: Platform,
) -> None:
    store = platform.store
    signal = submitted_signal()
    t0 = datetime(2026, 11, 20, 10, tzinfo=UTC)
    # The same signal twice in one batch (a redelivery): still one row, stored once.
    item = (ref(1), model_tags(signal, ("onderwijs",), at=t0))
    assert await store.store_classified([item, item]) == 1
    assert await store.store_classified([item]) == 0
    day = signal.observed_on
    [full] = await store.scope_signals([signal.municipality], day, day)
    assert full.terms == theme_terms(signal.text)
    assert full.terms
    assert full.text == signal.text
    [lean] = await store.scope_signals([signal.municipality], day, day, with_text=False)
    assert (lean.text, lean.terms) == ("", full.terms)
    # Rows from before migration 0003 have no terms: their text still comes, for the compiler.
    await store._pool.execute("UPDATE signals SET terms = NULL")
    [old] = await store.scope_signals([signal.municipality], day, day, with_text=False)
    assert (old.text, old.terms) == (signal.text, None)


async def test_deleting_a_signal_removes_its_classifications_and_tags(
    platform: Platform,
) -> None:
    """Migration 0004 replaced the per-row foreign keys with delete triggers: a signal's rows
    still go with it (erasure), and only its own."""
    store = platform.store
    t0 = datetime(2026, 11, 20, 10, tzinfo=UTC)
    gone, kept = submitted_signal(), submitted_signal()
    await store.store_classified(
        [
            (ref(0), model_tags(gone, ("onderwijs", "inkomen"), at=t0)),
            (ref(1), model_tags(kept, ("wonen",), at=t0)),
            (ref(2), model_tags(gone, ("gezin",), at=t0 + timedelta(days=1), version="t-2")),
        ]
    )

    async def rows_of(signal_id: uuid.UUID) -> tuple[int, int, int]:
        row = await platform.pool.fetchrow(
            """
            SELECT (SELECT count(*) FROM signal_classifications WHERE signal_id = $1),
                   (SELECT count(*) FROM signal_domains WHERE signal_id = $1),
                   (SELECT count(*) FROM signal_current_tags WHERE signal_id = $1)
            """,
            signal_id,
        )
        assert row is not None
        return (row[0], row[1], row[2])

    assert await rows_of(gone.signal_id) == (2, 3, 1)
    await platform.pool.execute("DELETE FROM signals WHERE signal_id = $1", gone.signal_id)
    assert await rows_of(gone.signal_id) == (0, 0, 0)
    assert await rows_of(kept.signal_id) == (1, 1, 1)
    # A classification removed alone takes its domains along.
    await platform.pool.execute(
        "DELETE FROM signal_classifications WHERE signal_id = $1", kept.signal_id
    )
    assert await rows_of(kept.signal_id) == (0, 0, 1)


TABLES = {
    "signals": "signal_id",
    "signal_classifications": "signal_id, classifier_version",
    "signal_domains": "signal_id, classifier_version, domain",
    "signal_corrections": "correction_id",
    "signal_current_tags": "signal_id",
    "decisions": "decision_id",
}


async def snapshot(pool: asyncpg.Pool[Any]) -> dict[str, list[dict[str, Any]]]:
    state = {}
    for table, order in TABLES.items():
        rows = await pool.fetch(f"SELECT * FROM {table} ORDER BY {order}")  # noqa: S608
        state[table] = [
            {k: v for k, v in dict(row).items() if k not in {"stored_at"}} for row in rows
        ]
    return state


async def test_consuming_the_topics_twice_leaves_identical_tables(platform: Platform) -> None:
    kafka = platform.settings.kafka
    t0 = datetime(2026, 11, 20, 10, tzinfo=UTC)
    signals = [submitted_signal() for _ in range(40)]
    events = [model_tags(s, ("onderwijs", "inkomen"), at=t0) for s in signals]
    events += [corrected_tags(s, ("wonen",), at=t0 + timedelta(hours=1)) for s in signals[:10]]
    events += [
        model_tags(s, ("gezin",), at=t0 + timedelta(days=1), version="t-2") for s in signals[:20]
    ]
    async with kafka_publisher(kafka) as publisher:
        await publisher.publish_all(
            Outgoing(kafka.classified_topic, b"gent", signal_classified_event(e)) for e in events
        )

    async def consume(group: str) -> dict[str, list[dict[str, Any]]]:
        settings = platform.settings.model_copy(update={"group_id": group})
        async with create_aggregator(settings):

            async def done() -> bool:
                count = await platform.pool.fetchval("SELECT count(*) FROM signal_classifications")
                corrections = await platform.pool.fetchval(
                    "SELECT count(*) FROM signal_corrections"
                )
                return bool(count == 60 and corrections == 10)

            await wait_for(done, timeout_s=60, what="the topic consumed")
            # Let the consumer finish the whole topic before the snapshot.
            await asyncio.sleep(1.0)
        return await snapshot(platform.pool)

    first = await consume(f"{kafka.topic_namespace}replay-1")
    second = await consume(f"{kafka.topic_namespace}replay-2")
    assert first == second
    assert len(first["signals"]) == 40
    current = {row["signal_id"]: row for row in first["signal_current_tags"]}
    assert {s.signal_id for s in signals[:10]} == {
        k for k, row in current.items() if row["source"] == "correction"
    }
    assert all(list(current[s.signal_id]["domains"]) == ["gezin"] for s in signals[10:20])


async def test_the_one_copy_path_writes_the_rows_the_general_path_writes(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch of model classifications of distinct signals goes through one wide staging COPY;
    anything else (here: the same batch with one record redelivered) through the general path.
    Both leave the same rows: zero to three domains, with and without evidence."""
    t0 = datetime(2026, 11, 20, 10, tzinfo=UTC)
    shapes: list[tuple[str, ...]] = [
        (),
        ("wonen",),
        ("onderwijs", "inkomen"),
        ("gezin", "werk", "recht"),
    ]
    events = [
        model_tags(submitted_signal(), shapes[i % len(shapes)], at=t0 + timedelta(minutes=i))
        for i in range(12)
    ]
    bare = events[1].classification
    events[1] = events[1].model_copy(
        update={
            "classification": bare.model_copy(
                update={"domains": [t.model_copy(update={"evidence": []}) for t in bare.domains]}
            )
        }
    )
    items = [
        (RecordRef(platform.settings.kafka.classified_topic, 0, offset, b"gent", b""), event)
        for offset, event in enumerate(events)
    ]
    wide_batches = 0
    store_wide = PostgresSignalStore._store_wide

    async def counted(self: PostgresSignalStore, rows: list[tuple[Any, ...]]) -> int:
        nonlocal wide_batches
        wide_batches += 1
        return await store_wide(self, rows)

    monkeypatch.setattr(PostgresSignalStore, "_store_wide", counted)
    assert await platform.store.store_classified(items) == len(events)
    assert wide_batches == 1
    wide = await snapshot(platform.pool)
    await platform.pool.execute(
        "TRUNCATE signals, signal_classifications, signal_domains, signal_current_tags CASCADE"
    )
    assert await platform.store.store_classified([*items, items[3]]) == len(events)
    assert wide_batches == 1
    general = await snapshot(platform.pool)
    assert wide == general
    assert len(wide["signal_domains"]) == sum(len(e.classification.domains) for e in events)
    evidence = {
        (row["signal_id"], row["domain"]): row["evidence"] for row in wide["signal_domains"]
    }
    assert evidence[(events[1].signal.signal_id, "wonen")] == "[]"
    assert '"schooluitstap"' in evidence[(events[2].signal.signal_id, "inkomen")]


@contextlib.asynccontextmanager
async def running_api(settings: AggregatorSettings) -> AsyncIterator[str]:
    app = create_api(settings, scrub=lambda text: scrub(text).text)
    async with serving(app, settings.api_port, what="the aggregator API") as url:
        yield url


async def test_decisions_feedback_corrections_and_who_may_see_what(platform: Platform) -> None:
    store = platform.store
    # Six signals on one problem from two organisations make a theme the bundle shows; the
    # other six are about different problems, three each, too few for a theme.
    trip = q3_signals(3, organisation="basisschool-de-regenboog") + q3_signals(
        3, organisation="caw-oost"
    )
    mould = [
        classified_signal(
            submitted_signal(
                observed_on=date(2026, 8, 3 + i),
                organisation="basisschool-de-regenboog",
                text=f"Schimmel op de muren van de slaapkamer in blok {i}, de kinderen hoesten.",
            ),
            ("wonen",),
        )
        for i in range(3)
    ]
    doctor = [
        classified_signal(
            submitted_signal(
                observed_on=date(2026, 8, 5 + i),
                organisation="caw-oost",
                text=f"Gezin {i} stelt het bezoek aan de tandarts uit wegens de kosten.",
            ),
            ("gezondheid",),
        )
        for i in range(3)
    ]
    own = trip[:3] + mould
    others = trip[3:] + doctor
    antwerp = q3_signals(1, organisation="caw-oost", municipality="Antwerpen")
    everything = own + others + antwerp
    await store.store_classified([(ref(i), c) for i, c in enumerate(everything)])
    await store.upsert_steering_group(gent_group())
    await store.upsert_steering_group(
        gent_group(
            steering_group_id="antwerpen", name="Stuurgroep A", municipalities=("Antwerpen",)
        )
    )
    group = await store.steering_group("gent")
    assert group is not None
    earlier = await compile_for_group(store, group, Q3, scheduled=False, baseline_periods=0)
    assert earlier is not None
    # The membership comes from the compilation itself, stored beside the bundle.
    compiled = await compile_for_group(store, group, Q3, scheduled=False, baseline_periods=0)
    assert compiled is not None
    assert compiled.version == 2
    themed = compiled.bundle
    [shown_theme] = [t for section in themed.domains for t in section.themes]
    assert shown_theme.domain == "onderwijs"
    assert shown_theme.signal_count.count == 6
    theme_id = shown_theme.theme_id
    # The published bundle never names a signal.
    published = themed.model_dump_json()
    assert not any(str(c.signal.signal_id) in published for c in everything)
    stored_members = await platform.pool.fetch(
        "SELECT signal_id FROM theme_signals WHERE bundle_id = $1 AND theme_id = $2",
        themed.bundle_id,
        theme_id,
    )
    assert {r["signal_id"] for r in stored_members} == {c.signal.signal_id for c in trip}
    await store.mark_bundle_published(themed)
    other_group = await store.steering_group("antwerpen")
    assert other_group is not None
    antwerp_bundle = await compile_for_group(
        store, other_group, Q3, scheduled=False, baseline_periods=0
    )
    assert antwerp_bundle is not None

    access = AccessStore(platform.pool)
    await access.migrate()
    await access.add_organisation("basisschool-de-regenboog", "De Regenboog", ["Gent"])
    await access.add_organisation("caw-oost", "CAW Oost", ["Gent", "Antwerpen"])
    school = (
        await access.create_token(PrincipalKind.ORGANISATION, "basisschool-de-regenboog", "t")
    ).secret
    caw = (await access.create_token(PrincipalKind.ORGANISATION, "caw-oost", "t")).secret
    gent = (await access.create_token(PrincipalKind.STEERING_GROUP, "gent", "t")).secret
    antwerpen = (await access.create_token(PrincipalKind.STEERING_GROUP, "antwerpen", "t")).secret
    gent_reader = (
        await access.create_token(
            PrincipalKind.STEERING_GROUP, "gent", "t", scopes=["bundles:read"]
        )
    ).secret

    def auth(secret: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret}"}

    settings = platform.settings.model_copy(update={"api_port": free_port()})
    async with (
        create_aggregator(settings),
        running_api(settings) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        bundles = "/v1/steering-groups/gent/bundles"
        # 401 without or with a wrong token; 403 for other groups and organisations.
        assert (await client.get(bundles)).status_code == 401
        assert (await client.get(bundles, headers=auth("spt_" + "x" * 43))).status_code == 401
        assert (await client.get(bundles, headers=auth(antwerpen))).status_code == 403
        assert (await client.get(bundles, headers=auth(school))).status_code == 403
        listing = await client.get(bundles, headers=auth(gent))
        assert listing.status_code == 200
        assert [b["version"] for b in listing.json()["bundles"]] == [2, 1]
        one = await client.get(f"{bundles}/{themed.bundle_id}", headers=auth(gent))
        assert one.status_code == 200
        assert one.json()["bundle_id"] == str(themed.bundle_id)
        foreign = f"{bundles}/{antwerp_bundle.bundle.bundle_id}"
        assert (await client.get(foreign, headers=auth(gent))).status_code == 404
        themes = await client.get("/v1/steering-groups/gent/themes", headers=auth(gent))
        assert [t["theme_id"] for t in themes.json()["themes"]] == [theme_id]
        assert (
            await client.get("/v1/steering-groups/gent/themes", headers=auth(antwerpen))
        ).status_code == 403

        decide = f"/v1/steering-groups/gent/themes/{theme_id}/decisions"
        first = await client.post(
            decide, headers=auth(gent), json={"status": "in_behandeling", "owner": "OCMW"}
        )
        assert first.status_code == 202, first.text
        second = await client.post(
            decide,
            headers=auth(gent),
            json={
                "status": "doorgestuurd_stad",
                "owner": "Sociaal Huis",
                "note": "Bel Nadia op 0478 12 34 56 voor details.",
            },
        )
        assert second.status_code == 202
        for body, who, code in [
            ({"status": "geen_actie"}, antwerpen, 403),
            ({"status": "geen_actie"}, gent_reader, 403),
            ({"status": "geen_actie"}, school, 403),
            ({"status": "misschien"}, gent, 422),
        ]:
            assert (await client.post(decide, headers=auth(who), json=body)).status_code == code
        unknown_theme = decide.replace(theme_id, "bestaat-niet")
        assert (
            await client.post(unknown_theme, headers=auth(gent), json={"status": "geen_actie"})
        ).status_code == 404

        async def both_stored() -> bool:
            return bool(await platform.pool.fetchval("SELECT count(*) FROM decisions") == 2)

        await wait_for(both_stored, what="the decisions consumed into PostgreSQL")
        history = (await client.get(decide, headers=auth(gent))).json()
        assert [d["status"] for d in history["history"]] == [
            "in_behandeling",
            "doorgestuurd_stad",
        ]
        assert history["current"]["owner"] == "Sociaal Huis"
        assert "0478" not in history["current"]["note"]

        # Feedback: own signals only, with the theme and the current decision.
        feedback = await client.get("/v1/feedback", headers=auth(school))
        assert feedback.status_code == 200
        items = {s["signal_id"]: s for s in feedback.json()["signals"]}
        assert set(items) == {str(c.signal.signal_id) for c in own}
        placed = [s for s in items.values() if s["themes"]]
        assert {s["signal_id"] for s in placed} == {str(c.signal.signal_id) for c in trip[:3]}
        assert all(
            [t["theme_id"] for t in s["themes"]] == [theme_id]
            and s["themes"][0]["decision"]["status"] == "doorgestuurd_stad"
            for s in placed
        )
        # Another organisation's signals in the same theme never show up.
        assert not {str(c.signal.signal_id) for c in others + antwerp} & set(items)
        assert str(trip[3].signal.signal_id) not in feedback.text
        theirs = (await client.get("/v1/feedback", headers=auth(caw))).json()
        assert {s["signal_id"] for s in theirs["signals"]} == {
            str(c.signal.signal_id) for c in others + antwerp
        }
        assert {s["signal_id"] for s in theirs["signals"] if s["themes"]} == {
            str(c.signal.signal_id) for c in trip[3:]
        }
        assert str(trip[0].signal.signal_id) not in str(theirs)
        assert (await client.get("/v1/feedback", headers=auth(gent))).status_code == 403
        assert (await client.get("/v1/feedback")).status_code == 401

        # Corrections: only in the group's own area, only by a steering group.
        target = own[0].signal.signal_id
        correct = f"/v1/signals/{target}/corrections"
        fix: dict[str, Any] = {
            "domains": ["wonen", "gezondheid"],
            "reason": "Mail jan.peeters@telenet.be",
        }
        answer = await client.post(correct, headers=auth(gent), json=fix)
        assert answer.status_code == 202, answer.text
        outside = f"/v1/signals/{antwerp[0].signal.signal_id}/corrections"
        # Outside the group's area looks like an unknown signal: no existence oracle.
        assert (await client.post(outside, headers=auth(gent), json=fix)).status_code == 404
        assert (await client.post(correct, headers=auth(school), json=fix)).status_code == 403
        assert (await client.post(correct, json=fix)).status_code == 401
        bad = {"domains": ["toverkunst"]}
        assert (await client.post(correct, headers=auth(gent), json=bad)).status_code == 422
        nobody = f"/v1/signals/{uuid.uuid4()}/corrections"
        assert (await client.post(nobody, headers=auth(gent), json=fix)).status_code == 404

        async def corrected() -> bool:
            return await store.current_tags(target) == ("correction", ("wonen", "gezondheid"))

        await wait_for(corrected, what="the correction applied from its topic")
        [history_row] = [h for h in await store.tag_history(target) if h["source"] == "correction"]
        assert "telenet" not in (history_row["reason"] or "")
