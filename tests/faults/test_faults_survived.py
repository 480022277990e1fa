"""Faults survived (issue 6): the real Kafka and PostgreSQL of the fault stack are killed,
stopped and restarted, the services are killed (-9) and restarted, a consumer falls far behind
and poison is published straight to the topics — and afterwards every signal intake
acknowledged is stored exactly once, classified and counted in a bundle, none that it rejected
is. Each scenario prints its figures (see conftest.py: the table at the end of the run and
``.local/faults-figures.json``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.v1 import DeadLetterEventV1, signal_classified_event, signal_submitted_event
from services.common.events import encode_event
from tests.factories import classified_signal, submitted_signal
from tests.faults.harness import (
    MUNICIPALITIES,
    ROOT,
    FaultPipeline,
    Figures,
    OutboxClient,
    Outcome,
    SendReport,
    assert_ledger,
    check_ledger,
    complete_count,
    mixed_load,
    signal_body,
    wait_complete,
    wait_for,
)

pytestmark = pytest.mark.faults

Record = Callable[[Figures], None]


async def acked_at_least(report: SendReport, count: int) -> bool:
    return len(report.acked) >= count


async def finish(
    pipeline: FaultPipeline,
    scenario: str,
    report: SendReport,
    bodies: list[dict[str, Any]],
    fault_end: float,
    record: Record,
    backlog: asyncio.Task[float] | None = None,
    **extra: Any,
) -> Figures:
    """Wait for the ledger, then fill in, record and check the figures.

    Recovery time: from the end of the fault until every signal acknowledged by then is stored
    and classified (``backlog``, started when the fault ended; the load may go on after that).
    Without a backlog: until the clients' retries are through and the whole ledger is complete.
    """
    load_done = time.monotonic()
    complete_s = await wait_complete(pipeline.pool, report.acked, since=load_done)
    figures = await check_ledger(pipeline, report, Figures(scenario), bodies)
    figures.recovery_s = (
        await backlog if backlog is not None else load_done - fault_end + complete_s
    )
    figures.extra.update(
        extra,
        load_done_after_fault_s=round(load_done - fault_end, 1),
        complete_after_load_s=round(complete_s, 1),
    )
    record(figures)
    assert_ledger(figures, report)
    return figures


def backlog_of(pipeline: FaultPipeline, report: SendReport) -> asyncio.Task[float]:
    """Start timing, now that the fault is over, until what was acknowledged so far is in."""
    return asyncio.create_task(
        wait_complete(pipeline.pool, list(report.acked), since=time.monotonic())
    )


async def test_kafka_broker_killed_mid_load_and_restarted(
    fault_pipeline: FaultPipeline, record_figures: Record
) -> None:
    pipeline = fault_pipeline
    bodies = mixed_load(1500)
    report = SendReport()
    load = asyncio.create_task(
        OutboxClient(pipeline.url, pipeline.headers).send(bodies, rate_per_s=200, report=report)
    )
    await wait_for(lambda: acked_at_least(report, 400), timeout_s=120, what="400 acknowledged")
    await asyncio.to_thread(pipeline.stack.must, "kill", "kafka")
    acked_at_kill = len(report.acked)
    await asyncio.sleep(2)
    await asyncio.to_thread(pipeline.stack.must, "start", "kafka")
    fault_end = time.monotonic()
    backlog = backlog_of(pipeline, report)
    await load
    figures = await finish(
        pipeline,
        "1 kafka kill -9",
        report,
        bodies,
        fault_end,
        record_figures,
        backlog,
        acked_before_kill=acked_at_kill,
    )
    # The fault hit the load: part of it was answered 503 and retried, not lost.
    assert acked_at_kill < figures.acknowledged
    assert figures.unavailable_answers > 0


async def test_classifier_and_aggregator_killed_mid_stream_and_restarted(
    fault_pipeline: FaultPipeline, record_figures: Record
) -> None:
    pipeline = fault_pipeline
    bodies = mixed_load(1500)
    # The last third is sent only once the restarted classifier works again, so the aggregator
    # is killed while signals still arrive, however long the classifier took to come back.
    first, second = bodies[:1000], bodies[1000:]
    second_ids = {str(body["signal_id"]) for body in second}
    report = SendReport()
    client = OutboxClient(pipeline.url, pipeline.headers)
    load = asyncio.create_task(client.send(first, rate_per_s=200, report=report))

    async def stored_at_least(count: int) -> bool:
        return await complete_count(pipeline.pool, report.acked) >= count

    async def second_acked_at_least(count: int) -> bool:
        return sum(1 for signal_id in report.acked if signal_id in second_ids) >= count

    await wait_for(lambda: stored_at_least(300), timeout_s=120, what="300 stored")
    pipeline["classifier"].kill()
    stored_at_classifier_kill = await complete_count(pipeline.pool, report.acked)
    await asyncio.sleep(1)
    pipeline["classifier"].start()
    await wait_for(
        lambda: stored_at_least(stored_at_classifier_kill + 1),
        timeout_s=180,
        what="a signal stored after the classifier's restart",
    )
    second_load = asyncio.create_task(client.send(second, rate_per_s=200, report=report))
    await wait_for(lambda: second_acked_at_least(100), timeout_s=120, what="100 more acked")
    pipeline["aggregator"].kill()
    stored_at_aggregator_kill = await complete_count(pipeline.pool, report.acked)
    await asyncio.sleep(1)
    pipeline["aggregator"].start()
    fault_end = time.monotonic()
    await load
    backlog = backlog_of(pipeline, report)
    await second_load
    figures = await finish(
        pipeline,
        "2 classifier+aggregator kill -9",
        report,
        bodies,
        fault_end,
        record_figures,
        backlog,
        stored_at_classifier_kill=stored_at_classifier_kill,
        stored_at_aggregator_kill=stored_at_aggregator_kill,
    )
    assert stored_at_aggregator_kill < figures.acknowledged, "the kill was not mid-stream"


async def test_postgres_restarted_mid_stream(
    fault_pipeline: FaultPipeline, record_figures: Record
) -> None:
    pipeline = fault_pipeline
    bodies = mixed_load(1500)
    report = SendReport()
    load = asyncio.create_task(
        OutboxClient(pipeline.url, pipeline.headers).send(bodies, rate_per_s=200, report=report)
    )
    await wait_for(lambda: acked_at_least(report, 400), timeout_s=120, what="400 acknowledged")
    await asyncio.to_thread(pipeline.stack.must, "kill", "postgres")
    stored_at_kill = len(report.acked)
    await asyncio.sleep(2)
    await asyncio.to_thread(pipeline.stack.must, "start", "postgres")
    fault_end = time.monotonic()
    backlog = backlog_of(pipeline, report)
    # The test's own pool lost its connections too; asyncpg replaces them on the next use.
    await load
    figures = await finish(
        pipeline,
        "3 postgres immediate stop",
        report,
        bodies,
        fault_end,
        record_figures,
        backlog,
        acked_before_kill=stored_at_kill,
    )
    assert stored_at_kill < figures.acknowledged


async def test_kafka_unreachable_clients_retry_with_the_same_ids(
    fault_pipeline: FaultPipeline, record_figures: Record
) -> None:
    pipeline = fault_pipeline
    tmp_path = pipeline.log_dir
    form = OutboxClient(pipeline.url, pipeline.headers)
    before = mixed_load(400)
    report = await form.send(before)
    assert len(report.acked) > 0

    # The importer's file: JSON lines with their own signal ids, as a spreadsheet export would.
    imported = [signal_body(10_000 + n) for n in range(1000)]
    import_file = tmp_path / "import.jsonl"
    import_file.write_text("".join(json.dumps(body) + "\n" for body in imported))
    during = [signal_body(20_000 + n) for n in range(400)]

    await asyncio.to_thread(pipeline.stack.must, "stop", "kafka")
    outage_started = time.monotonic()
    importer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        "import",
        str(import_file),
        "--url",
        pipeline.url,
        cwd=ROOT,
        env={**pipeline.service_env(), "SEINPOST_TOKEN": pipeline.token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    during_report = SendReport()
    form_task = asyncio.create_task(form.send(during, concurrency=8, report=during_report))

    async def form_was_refused() -> bool:
        return during_report.unavailable > 0

    await wait_for(form_was_refused, timeout_s=60, what="a 503 for the form client")
    await asyncio.sleep(max(0.0, 8 - (time.monotonic() - outage_started)))
    acked_during_outage = len(during_report.acked)
    await asyncio.to_thread(pipeline.stack.must, "start", "kafka")
    fault_end = time.monotonic()
    await form_task
    output, _ = await asyncio.wait_for(importer.communicate(), timeout=300)
    importer_text = output.decode(errors="replace")
    assert importer.returncode == 0, importer_text

    report.merge(during_report)
    # The importer ended with 0: every row was accepted (or found already there).
    for body in imported:
        report.outcomes.setdefault(body["signal_id"], Outcome(202, 1))
    figures = await finish(
        pipeline,
        "4 kafka unreachable (503, retries)",
        report,
        [*before, *imported, *during],
        fault_end,
        record_figures,
        None,
        outage_s=round(fault_end - outage_started, 1),
        importer_rows=len(imported),
        retry_after_seen=sorted(
            {h for o in during_report.outcomes.values() for h in o.retry_after}
        ),
    )
    assert acked_during_outage == 0, "nothing may be acknowledged while Kafka is away"
    assert figures.unavailable_answers > 0
    assert all(o.retry_after for o in during_report.outcomes.values() if o.unavailable)


async def test_consumer_far_behind_catches_up_in_order_per_key(
    fault_pipeline: FaultPipeline, record_figures: Record
) -> None:
    pipeline = fault_pipeline
    pipeline["classifier"].stop()
    per_municipality = 300
    streams = {
        m: [signal_body(i * len(MUNICIPALITIES) + k, m) for i in range(per_municipality)]
        for k, m in enumerate(MUNICIPALITIES)
    }
    client = OutboxClient(pipeline.url, pipeline.headers)
    # One serial stream per municipality: each key's order of acknowledgement is its order.
    reports = await asyncio.gather(*(client.send_serially(b) for b in streams.values()))
    report = SendReport()
    for part in reports:
        report.merge(part)
    assert await complete_count(pipeline.pool, report.acked) == 0
    lag = len(report.acked)
    pipeline["classifier"].start()
    fault_end = time.monotonic()
    backlog = backlog_of(pipeline, report)
    await wait_complete(pipeline.pool, report.acked, since=fault_end)
    # Order per key: each municipality's signals, in the order the classifier published them
    # (the aggregator keeps the classified record's partition and offset), are in the order
    # intake acknowledged them; and the aggregator stored them in that order too.
    out_of_order = 0
    for municipality, part in zip(streams, reports, strict=True):
        rows = await pipeline.pool.fetch(
            """
            SELECT signal_id::text AS id, source_partition, source_offset, stored_at
            FROM signals WHERE municipality = $1 ORDER BY source_partition, source_offset
            """,
            municipality,
        )
        assert len({row["source_partition"] for row in rows}) == 1, "one key, one partition"
        sent_order = part.acked_order
        stored_order = [row["id"] for row in rows]
        out_of_order += sum(a != b for a, b in zip(sent_order, stored_order, strict=True))
        stored_at = [row["stored_at"] for row in rows]
        assert stored_at == sorted(stored_at), f"{municipality} stored out of order"
    bodies = [b for stream in streams.values() for b in stream]
    figures = await finish(
        pipeline,
        "5 consumer far behind",
        report,
        bodies,
        fault_end,
        record_figures,
        backlog,
        lag_at_restart=lag,
        out_of_order=out_of_order,
    )
    assert lag >= 2000
    assert figures.extra["out_of_order"] == 0


async def test_poison_records_are_dead_lettered_and_the_pipeline_keeps_flowing(
    fault_pipeline: FaultPipeline, record_figures: Record
) -> None:
    pipeline = fault_pipeline
    kafka = pipeline.kafka
    client = OutboxClient(pipeline.url, pipeline.headers)
    first = mixed_load(300)
    report = await client.send(first)

    submitted = json.loads(encode_event(signal_submitted_event(submitted_signal())))
    classified = json.loads(encode_event(signal_classified_event(classified_signal())))

    def poison_of(event: dict[str, Any], topic: str) -> list[tuple[str, str, bytes]]:
        wrong_version = json.loads(json.dumps(event))
        wrong_version["data"]["schema_version"] = "2.0"
        missing = json.loads(json.dumps(event))
        missing["data"].pop("signal_id", None)
        if "signal" in missing["data"]:
            missing["data"]["signal"].pop("municipality")
        else:
            missing["data"].pop("municipality")
        wrong_types = json.loads(json.dumps(event))
        target = wrong_types["data"].get("signal", wrong_types["data"])
        target["families_count"] = "veel"
        target["observed_on"] = 20261118
        return [
            (topic, "invalid_json", b"dit is geen JSON {"),
            (topic, "unsupported_schema_version", json.dumps(wrong_version).encode()),
            (topic, "invalid_event", json.dumps(missing).encode()),
            (topic, "payload_too_large", json.dumps({**event, "pad": "x" * 400_000}).encode()),
            (topic, "invalid_event", json.dumps(wrong_types).encode()),
        ]

    poison = [
        *poison_of(submitted, kafka.submitted_topic),
        *poison_of(classified, kafka.classified_topic),
    ]
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers, acks="all", max_request_size=2_000_000
    )
    await producer.start()
    expected: dict[tuple[str, int, int], str] = {}
    try:
        for topic, code, value in poison:
            meta = await producer.send_and_wait(topic, value, key=b"gent")
            expected[(topic, meta.partition, meta.offset)] = code
    finally:
        await producer.stop()
    fault_end = time.monotonic()
    backlog = backlog_of(pipeline, report)

    after = [signal_body(50_000 + n) for n in range(300)]
    report.merge(await client.send(after))

    letters = await read_dead_letters(kafka.bootstrap_servers, kafka.dead_letter_topic, len(poison))
    found: dict[tuple[str, int, int], list[tuple[str, str]]] = {}
    for letter in letters:
        found.setdefault((letter.topic, letter.partition, letter.offset), []).append(
            (letter.error_code, letter.error)
        )
    figures = await finish(
        pipeline,
        "6 poison records",
        report,
        [*first, *after],
        fault_end,
        record_figures,
        backlog,
        poison=len(poison),
        dead_lettered=len(letters),
    )
    for place, code in expected.items():
        assert [c for c, _ in found.get(place, [])] == [code], (place, found.get(place))
        [(_, reason)] = found[place]
        assert reason.strip(), "a dead letter carries its reason"
    assert len(letters) == len(poison)
    assert figures.acknowledged >= len(after)


async def read_dead_letters(bootstrap: str, topic: str, at_least: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    values: list[bytes] = []
    try:

        async def enough() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            values.extend(r.value for records in batch.values() for r in records)
            return len(values) >= at_least

        await wait_for(enough, timeout_s=60, what=f"{at_least} dead letters")
        # Anything more (a letter written twice) would show up within a moment.
        await asyncio.sleep(1)
        batch = await consumer.getmany(timeout_ms=500)
        values.extend(r.value for records in batch.values() for r in records)
    finally:
        await consumer.stop()
    return [DeadLetterEventV1.model_validate_json(value).data for value in values if value]
