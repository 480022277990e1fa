"""Intake's submission store while PostgreSQL is down: every waiting request gets an error
(intake answers 503 and the client retries), none waits forever.

Found by the fault test "PostgreSQL restarted mid-stream" (tests/faults): when the pool could
not even hand out a connection, the batch's futures were never resolved, so those requests —
and every retry of the same signal_id, queued behind them in the in-flight table — hung.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from services.intake.storage import PostgresSubmissionStore
from tests.unit.intake_support import reservation


class _DownPool:
    """A pool whose server is gone: acquiring a connection fails, as asyncpg's does."""

    def __init__(self) -> None:
        self.attempts = 0

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        self.attempts += 1
        raise ConnectionRefusedError(111, "Connection refused")
        yield  # pragma: no cover - never reached


async def test_reserve_fails_instead_of_hanging_when_no_connection_can_be_had() -> None:
    pool = _DownPool()
    store = PostgresSubmissionStore(cast(Any, pool))
    store.start()
    try:
        results = await asyncio.wait_for(
            asyncio.gather(
                *(store.reserve(reservation()) for _ in range(5)), return_exceptions=True
            ),
            timeout=5,
        )
    finally:
        await store.close()
    assert pool.attempts >= 1
    assert all(isinstance(result, ConnectionRefusedError) for result in results), results


async def test_published_marks_are_kept_for_the_next_write_when_no_connection() -> None:
    store = PostgresSubmissionStore(cast(Any, _DownPool()))
    signal_id = uuid.uuid4()
    store.mark_published(signal_id)
    with pytest.raises(ConnectionRefusedError):
        await store._write_once()
    assert store._published == [signal_id]
