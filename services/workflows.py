"""Operator workflows shared by the CLI and the demo: sending signals, compiling bundles.

These sit above the services (they may use several of them); the services never import this.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

from schemas.v1 import PolicyBundleV1
from services.aggregator.bundling import (
    BundleFiles,
    CompiledBundle,
    compile_ad_hoc,
    compile_for_group,
    publish_bundle,
    republish_unpublished,
    write_bundle_files,
)
from services.aggregator.periods import Period, last_closed_period
from services.aggregator.scheduler import TickReport, run_due
from services.aggregator.settings import AggregatorSettings
from services.aggregator.storage import PostgresSignalStore, migrate
from services.common.access import AccessStore, Actor, AuditEntry, audit
from services.common.kafka import EventPublisher, create_broker, ensure_topics
from services.common.postgres import create_pool


def load_signal_bodies(path: Path) -> list[dict[str, Any]]:
    """JSON lines of signal bodies, or of ``{"signal": body, ...}`` as in the sample set."""
    bodies = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
        bodies.append(item["signal"] if isinstance(item, dict) and "signal" in item else item)
    return bodies


RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
"""Answers that mean "not now": the same request later is safe because it carries its ids."""


def retry_delay_s(response: httpx.Response | None, attempt: int, *, cap_s: float = 30.0) -> float:
    """How long to wait before the next attempt: Retry-After when the server gave one,
    otherwise a back-off that grows with the attempt."""
    backoff: float = min(cap_s, 0.25 * 2.0 ** min(attempt - 1, 10))
    header = response.headers.get("Retry-After") if response is not None else None
    if header is None:
        return backoff
    try:
        return min(cap_s, max(0.0, float(header)))
    except ValueError:  # an HTTP date: rare from intake; the back-off is close enough
        return backoff


async def post_with_retry(
    client: httpx.AsyncClient,
    path: str,
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    max_attempts: int = 20,
    on_retry: Callable[[httpx.Response | None], None] | None = None,
    delay_s: Callable[[httpx.Response | None, int], float] = retry_delay_s,
) -> httpx.Response | None:
    """POST until the answer is not a "try later" (429/503/…) or a lost connection.

    Only for bodies whose every item carries its own id (signal_id): then a retry of a request
    that did reach the server is recognised there, and nothing is doubled. None when every
    attempt failed to connect.
    """
    response: httpx.Response | None = None
    for attempt in range(1, max_attempts + 1):
        try:
            response = await client.post(path, json=body, headers=headers)
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code not in RETRYABLE_STATUSES:
            return response
        if attempt == max_attempts:
            break
        if on_retry is not None:
            on_retry(response)
        await asyncio.sleep(delay_s(response, attempt))
    return response


@dataclass
class SubmitReport:
    accepted: int = 0
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
    retries: int = 0


async def submit_all(
    base_url: str,
    bodies: Sequence[dict[str, Any]],
    *,
    concurrency: int = 8,
    max_attempts: int = 20,
    token: str | None = None,
) -> SubmitReport:
    """POST every body; a 503 or a lost connection is retried with the same body (and thus
    the same signal_id), which is what makes the retry safe."""
    report = SubmitReport()
    gate = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def count_retry(_: httpx.Response | None) -> None:
        report.retries += 1

    def quick(response: httpx.Response | None, attempt: int) -> float:
        # The demo starts intake and sends at once: poll its Kafka connection closely
        # instead of sleeping the full Retry-After meant for clients in the field.
        return min(retry_delay_s(response, attempt), 0.25 * attempt)

    async def send(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
        async with gate:
            response = await post_with_retry(
                client,
                "/v1/signals",
                body,
                headers=headers,
                max_attempts=max_attempts,
                on_retry=count_retry,
                delay_s=quick,
            )
            # 200: accepted before (a retry of a signal that did get through).
            if response is not None and response.status_code in (200, 202):
                report.accepted += 1
            else:
                status = response.status_code if response is not None else 0
                text = response.text[:500] if response is not None else "no connection"
                report.rejected.append((str(body.get("signal_id")), status, text))

    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        await asyncio.gather(*(send(client, body) for body in bodies))
    return report


@dataclass(frozen=True, slots=True)
class BundleResult:
    bundle: PolicyBundleV1
    files: BundleFiles
    version: int = 1
    steering_group_id: str | None = None


@contextlib.asynccontextmanager
async def aggregator_session(
    settings: AggregatorSettings, *, publish: bool
) -> AsyncIterator[tuple[PostgresSignalStore, EventPublisher | None]]:
    """One pool, one migration check and (when publishing) one producer for a CLI run."""
    pool = await create_pool(settings.postgres)
    try:
        async with pool.acquire() as connection:
            await migrate(connection)
        await AccessStore(pool).migrate()  # the audit log records every export
        store = PostgresSignalStore(pool)
        if not publish:
            yield store, None
            return
        await ensure_topics(settings.kafka)
        broker = create_broker(settings.kafka, client_id="bundle-cli")
        await broker.start()
        try:
            yield store, EventPublisher(broker, timeout_s=settings.publish_timeout_s)
        finally:
            await broker.stop()
    finally:
        await pool.close()


async def _publish_and_write(
    compiled: Sequence[CompiledBundle],
    *,
    store: PostgresSignalStore,
    publisher: EventPublisher | None,
    settings: AggregatorSettings,
    out: Path,
) -> list[BundleResult]:
    if publisher is not None:
        # Finish what an earlier run committed but could not publish, then publish the new.
        await republish_unpublished(
            store, publisher, settings.kafka, older_than_s=settings.republish_after_s
        )
        for item in compiled:
            await publish_bundle(
                item.bundle,
                steering_group_id=item.steering_group_id,
                store=store,
                publisher=publisher,
                kafka=settings.kafka,
            )
    results = []
    for item in compiled:
        files = write_bundle_files(item, out)
        await audit.record(
            store.pool,
            AuditEntry(
                audit.BUNDLE_EXPORTED,
                Actor.operator(),
                "steering_group" if item.steering_group_id else "system",
                item.steering_group_id,
                target=str(item.bundle.bundle_id),
                details={"format": "files"},
            ),
        )
        results.append(
            BundleResult(
                bundle=item.bundle,
                files=files,
                version=item.version,
                steering_group_id=item.steering_group_id,
            )
        )
    return results


async def compile_bundle_files(
    settings: AggregatorSettings,
    *,
    municipalities: Sequence[str],
    period_start: date,
    period_end: date,
    min_group_size: int,
    out: Path,
    publish: bool,
) -> list[BundleResult]:
    """One ad-hoc bundle per municipality (no steering group)."""
    async with aggregator_session(settings, publish=publish) as (store, publisher):
        compiled = [
            await compile_ad_hoc(
                store,
                municipality=municipality,
                period_start=period_start,
                period_end=period_end,
                min_group_size=min_group_size,
            )
            for municipality in municipalities
        ]
        return await _publish_and_write(
            compiled, store=store, publisher=publisher, settings=settings, out=out
        )


class UnknownSteeringGroupError(LookupError):
    pass


async def compile_group_bundle_files(
    settings: AggregatorSettings,
    *,
    steering_group_ids: Sequence[str],
    period: Period | None,
    out: Path,
    publish: bool,
) -> list[BundleResult]:
    """A new version of each group's bundle for ``period`` (default: its last closed period)."""
    async with aggregator_session(settings, publish=publish) as (store, publisher):
        compiled = []
        for group_id in steering_group_ids:
            group = await store.steering_group(group_id)
            if group is None:
                raise UnknownSteeringGroupError(group_id)
            chosen = period or last_closed_period(datetime.now(UTC).date(), group.period_months)
            item = await compile_for_group(
                store,
                group,
                chosen,
                scheduled=False,
                baseline_periods=settings.baseline_periods,
            )
            assert item is not None, "on demand, the lock is awaited, so a bundle is made"
            compiled.append(item)
        return await _publish_and_write(
            compiled, store=store, publisher=publisher, settings=settings, out=out
        )


async def run_due_bundles(settings: AggregatorSettings, *, out: Path) -> TickReport:
    """One scheduler tick from the command line (the cron alternative to the in-process one)."""
    async with aggregator_session(settings, publish=True) as (store, publisher):
        assert publisher is not None
        return await run_due(store, publisher, settings, out=out)
