"""PostgreSQL for intake: the idempotency record of every signal_id. All SQL lives here.

Hot path: one reservation per new signal, gathered with the others that arrive meanwhile into
one ``INSERT … SELECT unnest(…) ON CONFLICT DO NOTHING`` (a few milliseconds of batching
instead of a round trip per request). Marking a reservation as published is written behind,
in the same statement as the next batch of reservations (its own only when none is waiting):
losing that mark in a crash only means a retry publishes the same event once more, which the
consumers absorb (they are idempotent on signal_id).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import asyncpg
import orjson
import structlog

from schemas.v1 import RedactionCountV1
from services.common import postgres

if TYPE_CHECKING:
    Pool = asyncpg.Pool[Any]

log = structlog.get_logger(__name__)

COMPONENT = "intake"
MIGRATIONS_PACKAGE = "services.intake.migrations"


@dataclass(frozen=True, slots=True)
class Reservation:
    """What intake answered (or is answering) for one signal_id."""

    signal_id: uuid.UUID
    content_hash: bytes
    organisation: str
    received_at: datetime
    redactions: tuple[RedactionCountV1, ...]
    published: bool = False


class SubmissionStore(Protocol):
    async def reserve(self, reservation: Reservation) -> Reservation | None:
        """Claim the signal_id. None: claimed now by this call. Else: the earlier claim."""
        ...

    def mark_published(self, signal_id: uuid.UUID) -> None:
        """Record (eventually) that Kafka acknowledged the signal; never blocks."""
        ...

    async def ping(self) -> None: ...


class InMemorySubmissionStore:
    """Same rules as the PostgreSQL store, for unit tests."""

    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Reservation] = {}
        self.fail = False

    async def reserve(self, reservation: Reservation) -> Reservation | None:
        if self.fail:
            raise ConnectionError("store down")
        existing = self.rows.get(reservation.signal_id)
        if existing is None:
            self.rows[reservation.signal_id] = reservation
        return existing

    def mark_published(self, signal_id: uuid.UUID) -> None:
        self.rows[signal_id] = replace(self.rows[signal_id], published=True)

    async def ping(self) -> None:
        if self.fail:
            raise ConnectionError("store down")


_RESERVE = """
WITH marked AS (
    -- Marks of earlier claims that Kafka acknowledged meanwhile, in the same round trip.
    UPDATE intake_submissions SET published = true
    WHERE signal_id = ANY($6::uuid[]) AND NOT published
), input AS (
    SELECT * FROM unnest($1::uuid[], $2::bytea[], $3::text[], $4::timestamptz[], $5::text[])
        AS t(signal_id, content_hash, organisation, received_at, redactions)
), inserted AS (
    INSERT INTO intake_submissions
        (signal_id, content_hash, organisation, received_at, redactions)
    SELECT signal_id, content_hash, organisation, received_at, redactions::jsonb FROM input
    ON CONFLICT (signal_id) DO NOTHING
    RETURNING signal_id
)
SELECT i.signal_id, (n.signal_id IS NOT NULL) AS claimed,
       s.content_hash, s.organisation, s.received_at, s.redactions::text AS redactions, s.published
FROM input AS i
LEFT JOIN inserted AS n ON n.signal_id = i.signal_id
LEFT JOIN intake_submissions AS s ON s.signal_id = i.signal_id AND n.signal_id IS NULL
"""

_MARK_PUBLISHED = """
UPDATE intake_submissions SET published = true
WHERE signal_id = ANY($1::uuid[]) AND NOT published
"""


def _redactions_json(redactions: Sequence[RedactionCountV1]) -> str:
    return orjson.dumps([{"kind": r.kind.value, "count": r.count} for r in redactions]).decode()


class PostgresSubmissionStore:
    """Reservations gathered into batches by one writer task; ``close`` drains what is queued."""

    def __init__(
        self,
        pool: Pool,
        *,
        max_batch: int = 500,
        writers: int = 3,
        mark_delay_s: float = 0.05,
        linger_s: float = 0.0,
    ) -> None:
        self._pool = pool
        self._linger_s = linger_s
        self._first_queued_at = 0.0
        self._mark_delay_s = mark_delay_s
        self._mark_timer: asyncio.TimerHandle | None = None
        self._send_marks = False
        self._max_batch = max_batch
        self._writers = writers
        self._queue: list[tuple[Reservation, asyncio.Future[Reservation | None]]] = []
        self._published: list[uuid.UUID] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def migrate(self) -> list[int]:
        async with self._pool.acquire() as connection:
            return await postgres.migrate(connection, COMPONENT, MIGRATIONS_PACKAGE)

    def start(self) -> None:
        self._task = asyncio.create_task(self._write_forever(), name="intake-submissions-writer")

    async def close(self) -> None:
        if self._mark_timer is not None:
            self._mark_timer.cancel()
            self._mark_timer = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # Whatever is still queued is written now, so a clean stop loses no published mark.
        with contextlib.suppress(Exception):
            await self._write_once()

    async def ping(self) -> None:
        await self._pool.fetchval("SELECT 1")

    async def reserve(self, reservation: Reservation) -> Reservation | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Reservation | None] = loop.create_future()
        if not self._queue:
            self._first_queued_at = loop.time()
        self._queue.append((reservation, future))
        self._wake.set()
        return await future

    def mark_published(self, signal_id: uuid.UUID) -> None:
        self._published.append(signal_id)
        self._schedule_marks()

    def _schedule_marks(self) -> None:
        # No statement of its own while claims keep coming: a mark rides along with the next
        # batch of claims, and only after a quiet moment does the writer send marks alone.
        if self._mark_timer is None:
            self._mark_timer = asyncio.get_running_loop().call_later(
                self._mark_delay_s, self._marks_due
            )

    def _marks_due(self) -> None:
        self._mark_timer = None
        if self._published:
            self._send_marks = True
            self._wake.set()

    async def _write_forever(self) -> None:
        # Up to ``writers`` batches in flight on their own connections: while one waits for
        # its commit, the requests arriving meanwhile already form the next batch.
        # A batch also waits until its first claim is ``linger_s`` old (or the batch is full):
        # at moderate rates a writer is mostly idle, so every claim would be a transaction,
        # a commit and a WAL flush of its own; a few ms of waiting makes them a handful.
        gate = asyncio.Semaphore(self._writers)
        running: set[asyncio.Task[None]] = set()
        loop = asyncio.get_running_loop()
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue or (self._send_marks and self._published):
                    await gate.acquire()
                    if (
                        0 < len(self._queue) < self._max_batch
                        and (wait_s := self._first_queued_at + self._linger_s - loop.time()) > 0
                    ):
                        await asyncio.sleep(wait_s)
                    batch = self._queue[: self._max_batch]
                    del self._queue[: self._max_batch]
                    # Left over from a full batch: they have waited long enough already.
                    self._first_queued_at = 0.0
                    published, self._published = self._published, []
                    self._send_marks = False
                    task = asyncio.create_task(self._write(batch, published, gate))
                    running.add(task)
                    task.add_done_callback(running.discard)
        finally:
            for task in list(running):
                with contextlib.suppress(Exception):
                    await task

    async def _write(
        self,
        batch: list[tuple[Reservation, asyncio.Future[Reservation | None]]],
        published: list[uuid.UUID],
        gate: asyncio.Semaphore,
    ) -> None:
        try:
            await self._write_batch(batch, published)
        except Exception:
            log.warning("intake.store_write_failed", exc_info=True)
        finally:
            gate.release()

    async def _write_once(self) -> None:
        batch, self._queue = self._queue, []
        published, self._published = self._published, []
        await self._write_batch(batch, published)

    async def _write_batch(
        self,
        batch: list[tuple[Reservation, asyncio.Future[Reservation | None]]],
        published: list[uuid.UUID],
    ) -> None:
        if not batch and not published:
            return
        try:
            # Acquiring fails too while PostgreSQL is down or restarting (connection refused,
            # "the database system is starting up"): that must answer the waiting requests
            # (503, the client retries), never leave them waiting for a future nobody resolves.
            async with self._pool.acquire() as connection:
                if batch:
                    rows = await self._reserve_batch(connection, [r for r, _ in batch], published)
                    for (_, future), row in zip(batch, rows, strict=True):
                        if not future.done():
                            future.set_result(row)
                elif published:
                    await connection.execute(_MARK_PUBLISHED, published)
        except BaseException as exc:
            error = (
                exc if isinstance(exc, Exception) else ConnectionError("submission store stopped")
            )
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            if published:
                # Marking twice is harmless; losing a mark would republish on the next claim.
                self._published[:0] = published
                with contextlib.suppress(RuntimeError):  # no running loop: shutting down
                    self._schedule_marks()
            raise

    async def _reserve_batch(
        self,
        connection: Any,
        reservations: list[Reservation],
        published: Sequence[uuid.UUID] = (),
    ) -> list[Reservation | None]:
        # One signal_id twice in a batch would make the join ambiguous; intake's in-flight
        # table prevents it, but a second occurrence is simply retried in the next batch.
        first: dict[uuid.UUID, int] = {}
        unique = []
        for index, reservation in enumerate(reservations):
            if reservation.signal_id not in first:
                first[reservation.signal_id] = index
                unique.append(reservation)
        rows = await connection.fetch(
            _RESERVE,
            [r.signal_id for r in unique],
            [r.content_hash for r in unique],
            [r.organisation for r in unique],
            [r.received_at for r in unique],
            [_redactions_json(r.redactions) for r in unique],
            list(published),
        )
        by_id: dict[uuid.UUID, Reservation | None] = {}
        retry: list[Reservation] = []
        for row in rows:
            signal_id = row["signal_id"]
            if row["claimed"]:
                by_id[signal_id] = None
            elif row["content_hash"] is None:
                # Claimed by a transaction that committed after this statement's snapshot: the
                # row exists but is not visible yet; ask again.
                retry.append(next(r for r in unique if r.signal_id == signal_id))
            else:
                by_id[signal_id] = Reservation(
                    signal_id=signal_id,
                    content_hash=bytes(row["content_hash"]),
                    organisation=row["organisation"],
                    received_at=row["received_at"],
                    redactions=tuple(
                        RedactionCountV1.model_validate(item)
                        for item in orjson.loads(row["redactions"])
                    ),
                    published=row["published"],
                )
        if retry:
            again = await self._reserve_batch(connection, retry)
            for reservation, result in zip(retry, again, strict=True):
                by_id[reservation.signal_id] = result
        results: list[Reservation | None] = []
        for index, reservation in enumerate(reservations):
            if first[reservation.signal_id] == index:
                results.append(by_id[reservation.signal_id])
            else:
                claimed = by_id[reservation.signal_id]
                # A later duplicate in the same batch sees the claim of the first one.
                results.append(
                    claimed if claimed is not None else reservations[first[reservation.signal_id]]
                )
        return results
