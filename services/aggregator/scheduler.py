"""Compiles each steering group's bundle when its period closes — once, with any number of
aggregator replicas.

Every tick (at start and every ``scheduler_interval_s``) it first republishes bundles that were
committed but never published, then, per steering group, compiles the last closed period if it
has no bundle yet. Exactly-once comes from PostgreSQL, not from timing: the compiling replica
holds the period's advisory lock, and the others skip a period that is locked or already has a
bundle. Cron can do the same job: ``seinpost bundle --due`` runs one tick and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram

from services.aggregator import retention
from services.aggregator.bundling import (
    CompiledBundle,
    compile_for_group,
    publish_bundle,
    republish_unpublished,
    write_bundle_files,
)
from services.aggregator.periods import last_closed_period
from services.aggregator.settings import AggregatorSettings
from services.aggregator.storage import PostgresSignalStore
from services.common.access import Actor
from services.common.kafka import Publisher
from services.common.metrics import COMPILE_BUCKETS

log = structlog.get_logger(__name__)


class BundleMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.compile_duration = Histogram(
            "seinpost_bundle_compile_duration_seconds",
            "Time to compile, commit and publish one steering group's bundle.",
            buckets=COMPILE_BUCKETS,
            registry=registry,
        )
        self.bundles = Counter(
            "seinpost_bundles",
            "Scheduled bundles by outcome: compiled (committed and published), failed "
            "(retried at the next tick), republished (committed earlier, published now).",
            ["outcome"],
            registry=registry,
        )
        self.ticks = Counter(
            "seinpost_bundle_scheduler_ticks",
            "Scheduler rounds by outcome (ok, failed).",
            ["outcome"],
            registry=registry,
        )


@dataclass
class TickReport:
    compiled: list[CompiledBundle] = field(default_factory=list)
    republished: list[object] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


async def run_due(
    store: PostgresSignalStore,
    publisher: Publisher,
    settings: AggregatorSettings,
    *,
    today: date | None = None,
    out: Path | None = None,
    metrics: BundleMetrics | None = None,
) -> TickReport:
    """One scheduler tick: republish what is unpublished, compile what is due."""
    today = today or datetime.now(UTC).date()
    report = TickReport()
    report.republished = list(
        await republish_unpublished(
            store, publisher, settings.kafka, older_than_s=settings.republish_after_s
        )
    )
    if metrics is not None and report.republished:
        metrics.bundles.labels("republished").inc(len(report.republished))
    for group in await store.steering_groups():
        period = last_closed_period(today, group.period_months)
        if period.end < group.active_from:
            continue
        started = time.perf_counter()
        try:
            compiled = await compile_for_group(
                store, group, period, scheduled=True, baseline_periods=settings.baseline_periods
            )
            if compiled is None:
                continue
            await publish_bundle(
                compiled.bundle,
                steering_group_id=group.steering_group_id,
                store=store,
                publisher=publisher,
                kafka=settings.kafka,
            )
        except Exception:
            # One group's failure must not stop the others; an unpublished bundle is retried
            # at the next tick, an uncompiled period too (it still has no bundle).
            log.exception("scheduler.group_failed", steering_group_id=group.steering_group_id)
            report.failed.append(group.steering_group_id)
            if metrics is not None:
                metrics.bundles.labels("failed").inc()
            continue
        if metrics is not None:
            metrics.compile_duration.observe(time.perf_counter() - started)
            metrics.bundles.labels("compiled").inc()
        report.compiled.append(compiled)
        if out is not None:
            write_bundle_files(compiled, out)
        log.info(
            "scheduler.bundle_compiled",
            steering_group_id=group.steering_group_id,
            period=period.label,
            bundle_id=str(compiled.bundle.bundle_id),
        )
    return report


class BundleScheduler:
    """The asyncio task the aggregator runs beside its consumers."""

    def __init__(
        self,
        store: PostgresSignalStore,
        publisher: Publisher,
        settings: AggregatorSettings,
        *,
        metrics: BundleMetrics | None = None,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._settings = settings
        self._metrics = metrics
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="bundle-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        out = self._settings.bundle_dir if self._settings.write_files else None
        purged_on: date | None = None
        while True:
            try:
                await run_due(
                    self._store, self._publisher, self._settings, out=out, metrics=self._metrics
                )
            except Exception:
                log.exception("scheduler.tick_failed")
                if self._metrics is not None:
                    self._metrics.ticks.labels("failed").inc()
            else:
                if self._metrics is not None:
                    self._metrics.ticks.labels("ok").inc()
            today = datetime.now(UTC).date()
            if self._settings.retention_purge_daily and purged_on != today:
                try:
                    await retention.purge(
                        self._store.pool,
                        before=retention.default_cutoff(self._settings.retention_months, today),
                        actor=Actor("scheduler", "aggregator"),
                    )
                    purged_on = today
                except Exception:
                    log.exception("scheduler.retention_failed")
            await asyncio.sleep(self._settings.scheduler_interval_s)
