"""Operator workflows shared by the CLI and the demo: sending signals, compiling bundles.

These sit above the services (they may use several of them); the services never import this.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
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

    async def send(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
        async with gate:
            for attempt in range(1, max_attempts + 1):
                try:
                    response = await client.post("/v1/signals", json=body, headers=headers)
                except httpx.TransportError:
                    response = None
                if response is not None and response.status_code != 503:
                    break
                report.retries += 1
                retry_after = 1.0
                if response is not None:
                    retry_after = float(response.headers.get("Retry-After", "1"))
                await asyncio.sleep(min(retry_after, 0.25 * attempt))
            if response is not None and response.status_code == 202:
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
