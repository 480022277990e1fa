"""Intake's claim batcher against the real PostgreSQL: many concurrent claims, gathered into
shared ``INSERT … ON CONFLICT`` statements, give each caller exactly what a claim of its own
would have given — one winner per signal_id, everyone else the winner's claim (same content:
a retry; other content: a conflict), earlier claims with their published mark — and published
marks that ride along with later claims reach the table."""

from __future__ import annotations

import asyncio
import hashlib
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from schemas.v1 import RedactionCountV1, RedactionKind
from services.common.postgres import create_pool, reset_only_open_transactions
from services.common.settings import PostgresSettings
from services.intake.storage import PostgresSubmissionStore, Reservation


def _claim(signal_id: uuid.UUID, content: str, *, redacted: int = 0) -> Reservation:
    return Reservation(
        signal_id=signal_id,
        content_hash=hashlib.sha256(content.encode()).digest(),
        organisation="org",
        received_at=datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=redacted),
        redactions=(
            (RedactionCountV1(kind=RedactionKind.PHONE, count=redacted),) if redacted else ()
        ),
    )


@pytest.fixture
async def store(postgres_settings: PostgresSettings) -> AsyncIterator[PostgresSubmissionStore]:
    pool = await create_pool(postgres_settings, reset=reset_only_open_transactions)
    submissions = PostgresSubmissionStore(pool, max_batch=16)
    await submissions.migrate()
    submissions.start()
    try:
        yield submissions
    finally:
        await submissions.close()
        await pool.close()


async def test_concurrent_claims_keep_per_request_semantics(
    store: PostgresSubmissionStore,
) -> None:
    rng = random.Random(7)
    # Claimed before this burst: one published, one not (a 503 or a crash before the mark).
    published_before = _claim(uuid.uuid4(), "eerder gepubliceerd", redacted=2)
    pending_before = _claim(uuid.uuid4(), "eerder geclaimd")
    assert await store.reserve(published_before) is None
    assert await store.reserve(pending_before) is None
    store.mark_published(published_before.signal_id)
    await store.reserve(_claim(uuid.uuid4(), "flushes the mark"))

    fresh = [uuid.uuid4() for _ in range(120)]
    requests: list[Reservation] = []
    for index, signal_id in enumerate(fresh):
        requests.append(_claim(signal_id, f"signaal {index}", redacted=index % 3))
        if index % 4 == 0:  # a retry with the same content
            requests.append(_claim(signal_id, f"signaal {index}", redacted=index % 3))
        if index % 5 == 0:  # the same id with other content
            requests.append(_claim(signal_id, f"iets anders {index}"))
    requests += [
        _claim(published_before.signal_id, "eerder gepubliceerd"),
        _claim(published_before.signal_id, "andere inhoud"),
        _claim(pending_before.signal_id, "eerder geclaimd"),
    ]
    rng.shuffle(requests)

    answers = await asyncio.gather(*(store.reserve(r) for r in requests))

    by_id: dict[uuid.UUID, list[tuple[Reservation, Reservation | None]]] = {}
    for request, answer in zip(requests, answers, strict=True):
        by_id.setdefault(request.signal_id, []).append((request, answer))
    for signal_id in fresh:
        claims = by_id[signal_id]
        winners = [request for request, answer in claims if answer is None]
        assert len(winners) == 1, (signal_id, claims)
        winner = winners[0]
        for _, answer in claims:
            if answer is not None:
                # What every other claim of this id learns is the winner's claim, unpublished.
                assert answer.content_hash == winner.content_hash
                assert answer.redactions == winner.redactions
                assert answer.received_at == winner.received_at
                assert answer.published is False
    for _, answer in by_id[published_before.signal_id]:
        assert answer is not None
        assert answer.content_hash == published_before.content_hash
        assert answer.redactions == published_before.redactions
        assert answer.published is True
    [(_, pending_answer)] = by_id[pending_before.signal_id]
    assert pending_answer is not None
    assert pending_answer.published is False
    assert pending_answer.content_hash == pending_before.content_hash


async def test_published_marks_ride_along_and_reach_the_table(
    store: PostgresSubmissionStore, postgres_settings: PostgresSettings
) -> None:
    first = [_claim(uuid.uuid4(), f"eerste {i}") for i in range(40)]
    assert await asyncio.gather(*(store.reserve(r) for r in first)) == [None] * 40
    marked = {r.signal_id for r in first[::2]}
    for signal_id in marked:
        store.mark_published(signal_id)
    # The marks queued above go out with these claims (or on their own when none wait).
    second = [_claim(uuid.uuid4(), f"tweede {i}") for i in range(40)]
    assert await asyncio.gather(*(store.reserve(r) for r in second)) == [None] * 40
    await store.close()  # drains whatever is still queued

    pool = await create_pool(postgres_settings)
    try:
        rows = await pool.fetch(
            "SELECT signal_id FROM intake_submissions WHERE published AND signal_id = ANY($1)",
            [r.signal_id for r in first + second],
        )
    finally:
        await pool.close()
    assert {row["signal_id"] for row in rows} == marked


async def test_a_mark_without_later_claims_is_written_after_a_quiet_moment(
    store: PostgresSubmissionStore, postgres_settings: PostgresSettings
) -> None:
    claim = _claim(uuid.uuid4(), "alleen")
    assert await store.reserve(claim) is None
    store.mark_published(claim.signal_id)
    pool = await create_pool(postgres_settings)
    try:

        async def marked() -> bool:
            return bool(
                await pool.fetchval(
                    "SELECT published FROM intake_submissions WHERE signal_id = $1",
                    claim.signal_id,
                )
            )

        deadline = asyncio.get_running_loop().time() + 10
        while not await marked():
            assert asyncio.get_running_loop().time() < deadline, "the mark never reached the table"
            await asyncio.sleep(0.05)
    finally:
        await pool.close()
