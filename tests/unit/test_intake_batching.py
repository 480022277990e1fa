"""Intake's deliberate lingers: at moderate rates requests arrive one at a time, so without a
few milliseconds of waiting every request would be a PostgreSQL transaction and a Kafka
produce request of its own (bench.bench_e2e). The claim batcher waits until a batch's first
claim is ``linger_s`` old; the publisher hands the records of a window to the producer
together, and each caller still gets its own record's outcome."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from schemas.v1 import signal_submitted_event
from services.common.kafka import Outgoing
from services.intake.app import ProducerPublisher
from services.intake.storage import PostgresSubmissionStore
from tests.factories import submitted_signal
from tests.unit.intake_support import reservation


class _CountingPool:
    """Every batch of claims acquires one connection: counting acquisitions counts batches.
    Its one statement answers "claimed now" for every signal_id it is given."""

    def __init__(self) -> None:
        self.acquired_at: list[float] = []

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        self.acquired_at.append(asyncio.get_running_loop().time())
        yield self

    async def fetch(self, _sql: str, signal_ids: list[uuid.UUID], *_: Any) -> list[Any]:
        return [{"signal_id": signal_id, "claimed": True} for signal_id in signal_ids]


async def _claims_spaced(store: PostgresSubmissionStore, count: int, gap_s: float) -> list[Any]:
    async def claim(delay_s: float) -> Any:
        await asyncio.sleep(delay_s)
        return await store.reserve(reservation())

    return await asyncio.gather(*(claim(i * gap_s) for i in range(count)), return_exceptions=True)


@pytest.mark.parametrize(("linger_s", "batches"), [(1.0, 1), (0.0, 5)])
async def test_claims_arriving_within_the_linger_share_one_batch(
    linger_s: float, batches: int
) -> None:
    pool = _CountingPool()
    store = PostgresSubmissionStore(cast(Any, pool), writers=1, linger_s=linger_s)
    store.start()
    started = asyncio.get_running_loop().time()
    try:
        results = await asyncio.wait_for(_claims_spaced(store, 5, 0.1), timeout=10)
    finally:
        await store.close()
    assert results == [None] * 5  # each claimed by its own call
    assert len(pool.acquired_at) == batches
    if linger_s:
        # Not sent before the first claim had waited its linger.
        assert pool.acquired_at[0] - started >= linger_s * 0.9


class _FakeProducer:
    """Records when each record reached the producer; acknowledges at once, or fails the
    send of one key."""

    def __init__(self, failing_key: bytes | None = None) -> None:
        self.sent: list[tuple[float, bytes]] = []
        self.failing_key = failing_key

    async def send(
        self, topic: str, value: bytes, *, key: bytes, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[Any]:
        if key == self.failing_key:
            raise ConnectionError("broker gone")
        loop = asyncio.get_running_loop()
        self.sent.append((loop.time(), key))
        acknowledged: asyncio.Future[Any] = loop.create_future()
        acknowledged.set_result(("metadata", key))
        return acknowledged


def _outgoing(key: bytes) -> Outgoing:
    return Outgoing(
        topic="unit.submitted", key=key, event=signal_submitted_event(submitted_signal())
    )


async def _publish_spaced(publisher: ProducerPublisher, keys: list[bytes], gap_s: float) -> Any:
    async def one(index: int, key: bytes) -> Any:
        await asyncio.sleep(index * gap_s)
        return await publisher.publish(_outgoing(key))

    return await asyncio.gather(
        *(one(i, key) for i, key in enumerate(keys)), return_exceptions=True
    )


async def test_records_of_one_window_reach_the_producer_together() -> None:
    producer = _FakeProducer()
    publisher = ProducerPublisher(producer, timeout_s=5, linger_s=0.3)
    started = asyncio.get_running_loop().time()
    keys = [b"gent", b"antwerpen", b"leuven", b"mechelen"]
    results = await _publish_spaced(publisher, keys, 0.02)
    assert results == [("metadata", key) for key in keys]
    times = [at for at, _ in producer.sent]
    # Asked for over 60 ms, handed over together (one loop turn: one produce request).
    assert max(times) - min(times) < 0.01
    assert min(times) - started >= 0.3 * 0.9
    assert [key for _, key in producer.sent] == keys  # in arrival order


async def test_without_linger_each_record_goes_at_once() -> None:
    producer = _FakeProducer()
    publisher = ProducerPublisher(producer, timeout_s=5, linger_s=0)
    started = asyncio.get_running_loop().time()
    await publisher.publish(_outgoing(b"gent"))
    assert producer.sent[0][0] - started < 0.1


async def test_a_failed_send_fails_only_its_own_request() -> None:
    producer = _FakeProducer(failing_key=b"leuven")
    publisher = ProducerPublisher(producer, timeout_s=5, linger_s=0.05)
    results = await _publish_spaced(publisher, [b"gent", b"leuven", b"mechelen"], 0.0)
    assert results[0] == ("metadata", b"gent")
    assert isinstance(results[1], ConnectionError)
    assert results[2] == ("metadata", b"mechelen")
