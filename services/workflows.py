"""Operator workflows shared by the CLI and the demo: sending signals, compiling bundles.

These sit above the services (they may use several of them); the services never import this.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from schemas.v1 import PolicyBundleV1
from services.aggregator.bundling import (
    BundleFiles,
    compile_and_store,
    publish_bundle,
    write_bundle_files,
)
from services.aggregator.settings import AggregatorSettings
from services.aggregator.storage import PostgresSignalStore, migrate
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
    """One bundle per municipality, sharing one pool, one migration check and one producer."""
    pool = await create_pool(settings.postgres)
    try:
        async with pool.acquire() as connection:
            await migrate(connection)
        store = PostgresSignalStore(pool)
        bundles = [
            await compile_and_store(
                store,
                municipality=municipality,
                period_start=period_start,
                period_end=period_end,
                min_group_size=min_group_size,
            )
            for municipality in municipalities
        ]
        if publish:
            await ensure_topics(settings.kafka)
            broker = create_broker(settings.kafka, client_id="bundle-cli")
            await broker.start()
            try:
                publisher = EventPublisher(broker, timeout_s=settings.publish_timeout_s)
                for bundle in bundles:
                    await publish_bundle(
                        bundle, store=store, publisher=publisher, kafka=settings.kafka
                    )
            finally:
                await broker.stop()
        return [BundleResult(bundle=b, files=write_bundle_files(b, out)) for b in bundles]
    finally:
        await pool.close()
