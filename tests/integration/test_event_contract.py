"""Every topic, read the way another system would read it.

Real signals go through the real pipeline (intake over HTTP, classifier, aggregator), a
poison record is dead-lettered, a bundle is compiled and published, a steering group records
a decision and a correction through the aggregator API. Then an outsider reads each topic
with a plain aiokafka consumer in its own consumer group and checks every record against the
*published* contract only: topic names and payload schemas from the committed AsyncAPI
document, JSON Schemas from ``schemas/jsonschema/`` — no import of our models.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from jsonschema import Draft202012Validator

from services.aggregator.api import create_api
from services.aggregator.bundling import compile_for_group, publish_bundle
from services.aggregator.periods import parse_period
from services.aggregator.storage import PostgresSignalStore, SteeringGroup
from services.asyncapi import specification
from services.common.access import AccessStore, PrincipalKind
from services.common.kafka import EventPublisher, create_broker
from services.common.postgres import create_pool
from services.intake.domain.privacy import scrub
from tests.factories import submission_body
from tests.integration.conftest import Pipeline, free_port, issue_token, serving, wait_for

ROOT = Path(__file__).resolve().parents[2]
POISON = b'{"specversion": "1.0", "data": '  # cut off: not JSON


# -- the outsider's side: nothing below imports Seinpost code ------------------------------


def published_contract(namespace: str) -> dict[str, Draft202012Validator]:
    """Topic → validator, from the committed AsyncAPI document and JSON Schema files."""
    asyncapi = json.loads((ROOT / "docs/asyncapi/seinpost.json").read_text("utf-8"))
    schemas = {}
    for path in (ROOT / "schemas/jsonschema").glob("*.json"):
        schema = json.loads(path.read_text("utf-8"))
        schemas[schema["title"]] = schema
    contract: dict[str, Draft202012Validator] = {}
    for operation in asyncapi["operations"].values():
        if operation["action"] != "send":
            continue
        channel = asyncapi["channels"][operation["channel"]["$ref"].rsplit("/", 1)[-1]]
        for message in channel["messages"].values():
            name = message["$ref"].rsplit("/", 1)[-1]
            payload = asyncapi["components"]["messages"][name]["payload"]["$ref"]
            schema = schemas[payload.rsplit("/", 1)[-1]]
            Draft202012Validator.check_schema(schema)
            contract[namespace + channel["address"]] = Draft202012Validator(
                schema, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
    return contract


async def read_as_outsider(
    bootstrap: str, topic: str, group: str, *, at_least: int
) -> list[tuple[bytes | None, bytes]]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[tuple[bytes | None, bytes]] = []
    try:

        async def enough() -> bool:
            batch = await consumer.getmany(timeout_ms=300)
            records.extend((r.key, r.value) for rs in batch.values() for r in rs)
            if batch:
                await consumer.commit()  # after handling: at-least-once, as the guide says
            return len(records) >= at_least

        await wait_for(enough, timeout_s=90, what=f"{at_least} records on {topic}")
    finally:
        await consumer.stop()
    return records


# -- the pipeline's side ---------------------------------------------------------------------


async def test_every_topic_validates_against_the_published_schemas(
    pipeline: Pipeline,
) -> None:
    kafka = pipeline.kafka
    namespace = kafka.topic_namespace
    other_token = await issue_token(pipeline.postgres, "caw-oost", ["Gent"])
    bodies = [
        submission_body(text=f"Ouders kunnen de schooluitstap naar zee niet betalen ({i}).")
        for i in range(12)
    ]
    async with httpx.AsyncClient(base_url=pipeline.url, timeout=30) as client:
        for i, body in enumerate(bodies):
            body.pop("organisation")  # taken from the token: two organisations
            token = pipeline.token if i % 2 == 0 else other_token
            answer = await client.post(
                "/v1/signals", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 202, answer.text
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(kafka.submitted_topic, POISON, key=b"gent")
    finally:
        await producer.stop()

    async def all_stored() -> bool:
        return bool(await pipeline.fetchval("SELECT count(*) FROM signals") == len(bodies))

    await wait_for(all_stored, timeout_s=90, what="every signal stored")

    # A steering group, its bundle (published), a decision and a correction (over HTTP).
    pool = await create_pool(pipeline.postgres)
    broker = create_broker(kafka, client_id="test-bundles")
    await broker.start()
    try:
        store = PostgresSignalStore(pool)
        group = SteeringGroup(
            steering_group_id="gent",
            name="Stuurgroep Gent",
            network_id=None,
            municipalities=("Gent",),
            neighbourhoods=None,
            domains_of_interest=None,
            cadence="quarterly",
            period_months=3,
            min_group_size=5,
            active_from=parse_period("2026-Q4").start,
        )
        await store.upsert_steering_group(group)
        compiled = await compile_for_group(
            store, group, parse_period("2026-Q4"), scheduled=False, baseline_periods=0
        )
        assert compiled is not None
        await publish_bundle(
            compiled.bundle,
            steering_group_id="gent",
            store=store,
            publisher=EventPublisher(broker, timeout_s=30),
            kafka=kafka,
        )
        themes = [t for section in compiled.bundle.domains for t in section.themes]
        assert themes, "six signals on one problem from two organisations make a theme"
        access = AccessStore(pool)
        secret = (await access.create_token(PrincipalKind.STEERING_GROUP, "gent", "t")).secret
    finally:
        await broker.stop()
        await pool.close()

    settings = pipeline.aggregator.model_copy(update={"api_port": free_port()})
    api = create_api(
        settings,
        scrub=lambda text: scrub(text).text,
        asyncapi=lambda: specification(kafka),
    )
    async with (
        serving(api, settings.api_port, what="the aggregator API") as url,
        httpx.AsyncClient(
            base_url=url, timeout=30, headers={"Authorization": f"Bearer {secret}"}
        ) as client,
    ):
        decision = await client.post(
            f"/v1/steering-groups/gent/themes/{themes[0].theme_id}/decisions",
            json={"status": "in_behandeling", "owner": "OCMW"},
        )
        assert decision.status_code == 202, decision.text
        correction = await client.post(
            f"/v1/signals/{bodies[0]['signal_id']}/corrections",
            json={"domains": ["vrije_tijd", "onderwijs"], "reason": "uitstap is vrije tijd"},
        )
        assert correction.status_code == 202, correction.text
        # The contract is served too, with this deployment's topic names.
        served = (await client.get("/asyncapi.json")).json()
        addresses = {channel["address"] for channel in served["channels"].values()}
        assert kafka.submitted_topic in addresses
        assert (await client.get("/asyncapi")).status_code == 200
        metrics = (await client.get("/metrics")).text
        assert f'seinpost_records_published_total{{topic="{kafka.decisions_topic}"}} 1.0' in (
            metrics
        )

    # The outsider: every topic, its own consumer group, the published schemas only.
    contract = published_contract(namespace)
    assert len(contract) == 6, "the AsyncAPI document names six topics"
    expected = {
        kafka.submitted_topic: len(bodies) + 1,  # and the poison record
        kafka.classified_topic: len(bodies) + 1,  # and the correction, re-emitted
        kafka.corrections_topic: 1,
        kafka.decisions_topic: 1,
        kafka.bundles_topic: 1,
        kafka.dead_letter_topic: 1,
    }
    assert set(expected) == set(contract)
    seen: dict[str, list[dict[str, Any]]] = {}
    invalid: list[tuple[str, bytes]] = []
    reads = await asyncio.gather(
        *(
            read_as_outsider(
                kafka.bootstrap_servers, topic, f"{namespace}outsider.contract-test", at_least=n
            )
            for topic, n in expected.items()
        )
    )
    for (topic, count), records in zip(expected.items(), reads, strict=True):
        assert len(records) == count, topic
        for key, value in records:
            assert key, f"every record is keyed: {topic}"
            try:
                event = json.loads(value)
            except ValueError:
                invalid.append((topic, value))
                continue
            errors = [e.message for e in contract[topic].iter_errors(event)]
            assert not errors, f"{topic}: {errors[:3]}"
            seen.setdefault(topic, []).append(event)
    # The only record that breaks the contract is the one we forged, and it was dead-lettered.
    assert invalid == [(kafka.submitted_topic, POISON)]
    [letter] = seen[kafka.dead_letter_topic]
    assert letter["data"]["topic"] == kafka.submitted_topic
    assert letter["data"]["error_code"] == "invalid_json"
    # Ids are what an outsider deduplicates on: unique per event.
    for topic, events in seen.items():
        ids = Counter(event["id"] for event in events)
        assert max(ids.values()) == 1, topic
    submitted_ids = {e["data"]["signal_id"] for e in seen[kafka.submitted_topic]}
    assert submitted_ids == {body["signal_id"] for body in bodies}
    sources = Counter(
        e["data"]["classification"].get("source", "model") for e in seen[kafka.classified_topic]
    )
    assert sources == {"model": len(bodies), "correction": 1}
