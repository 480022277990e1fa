"""Prometheus metrics every service shares: HTTP requests, consumed batches, consumer lag,
published records and dead letters, readiness.

One registry per app, never the global one: tests build many apps in one process, and two
apps registering the same metric in one registry is an error. Metric names are the contract
of ``deploy/observability/`` (dashboard and alert rules); a test checks that every name those
files use is exposed.

Observations are per batch or per request, never per record: at thousands of records a
second a histogram observation per record would be a visible share of the CPU.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from services.common.events import RecordRef
    from services.common.kafka import Outgoing, Publisher

# Around what matters for HTTP: a 50 ms p99 target and a 10 s publish timeout.
HTTP_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A batch of up to 5,000 records takes milliseconds to seconds; a stuck one up to the timeouts.
BATCH_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Compiling a bundle reads a period of signals and clusters themes: up to minutes for a region.
COMPILE_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST


def service_registry() -> CollectorRegistry:
    """A fresh registry with the process, platform and garbage-collector metrics."""
    registry = CollectorRegistry(auto_describe=True)
    process_collector.ProcessCollector(registry=registry)
    platform_collector.PlatformCollector(registry=registry)
    gc_collector.GCCollector(registry=registry)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


class HttpMetrics:
    """Requests and their latency by route template, method and status."""

    def __init__(self, registry: CollectorRegistry, *, prefix: str) -> None:
        self.requests = Counter(
            f"{prefix}_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            f"{prefix}_http_request_duration_seconds",
            "Time from request to the last byte of the answer, by route template and status.",
            ["route", "method", "status"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )


class MetricsMiddleware:
    """Counts and times every HTTP request by its route *template* (``/v1/connectors/kobo/
    {form_id}``), so that ids in paths do not explode the number of series.

    ``metrics`` is anything with ``requests`` and ``latency`` (:class:`HttpMetrics`, or
    intake's metrics, which keep their historical names)."""

    def __init__(self, app: ASGIApp, *, metrics: Any) -> None:
        self.app = app
        self.metrics = metrics
        # ``labels()`` looks its child up under a lock each time; there are few label sets
        # (routes by methods by statuses), so their children are kept here once found.
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "(unmatched)"
            labels = (template, scope.get("method", ""), str(status))
            children = self._children.get(labels)
            if children is None:
                children = (
                    self.metrics.requests.labels(*labels),
                    self.metrics.latency.labels(*labels),
                )
                self._children[labels] = children
            children[0].inc()
            children[1].observe(time.perf_counter() - started)


class PublishMetrics:
    """Records Kafka acknowledged, by topic; dead letters by source topic and reason."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.published = Counter(
            "seinpost_records_published",
            "Records Kafka acknowledged (acks=all), by topic.",
            ["topic"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "seinpost_dead_letters",
            "Records sent to the dead-letter topic (and acknowledged), by the topic they came "
            "from and the machine-readable reason (invalid_json, invalid_event, "
            "unsupported_schema_version, payload_too_large, unknown_domain, ...).",
            ["source_topic", "reason"],
            registry=registry,
        )


class MeteredPublisher:
    """A :class:`~services.common.kafka.Publisher` that counts what Kafka acknowledged.

    Counted after the acknowledgement, so a batch that fails and is redelivered is counted
    once, when it finally goes through."""

    def __init__(self, inner: Publisher, metrics: PublishMetrics, *, dead_letter_topic: str):
        self._inner = inner
        self._metrics = metrics
        self._dead_letter_topic = dead_letter_topic

    async def publish(self, outgoing: Outgoing) -> Any:
        result = await self._inner.publish(outgoing)
        self._count([outgoing])
        return result

    async def publish_all(self, items: Iterable[Outgoing]) -> None:
        items = list(items)
        await self._inner.publish_all(items)
        self._count(items)

    def _count(self, items: list[Outgoing]) -> None:
        per_topic: dict[str, int] = {}
        for item in items:
            per_topic[item.topic] = per_topic.get(item.topic, 0) + 1
            if item.topic == self._dead_letter_topic:
                letter = item.event.data
                self._metrics.dead_letters.labels(letter.topic, letter.error_code).inc()
        for topic, count in per_topic.items():
            self._metrics.published.labels(topic).inc(count)


class ConsumerMetrics:
    """Batches handled by a consumer group: throughput, latency, lag, failures."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.records = Counter(
            "seinpost_consumer_records",
            "Records handled in batches whose offsets were then committed, by group and topic.",
            ["group", "topic"],
            registry=registry,
        )
        self.batches = Counter(
            "seinpost_consumer_batches",
            "Batches by outcome: committed, or failed (not committed; redelivered after a "
            "back-off).",
            ["group", "topic", "outcome"],
            registry=registry,
        )
        self.batch_duration = Histogram(
            "seinpost_consumer_batch_duration_seconds",
            "Time to handle one batch: decode, work, durable output (published and "
            "acknowledged, or committed to PostgreSQL).",
            ["group", "topic"],
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.record_age = Histogram(
            "seinpost_consumer_record_age_seconds",
            "Age of the oldest record of a batch (since Kafka's record timestamp) when its "
            "batch was done: how far behind the producer this stage runs. One observation per "
            "batch.",
            ["group", "topic"],
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.lag = Gauge(
            "seinpost_consumer_lag",
            "Records not yet handed to this consumer: the partition's high watermark minus "
            "the consumer's position (refreshed every few seconds).",
            ["group", "topic", "partition"],
            registry=registry,
        )
        self.assigned = Gauge(
            "seinpost_consumer_assigned_partitions",
            "Partitions assigned to this process, by group and topic.",
            ["group", "topic"],
            registry=registry,
        )

    def batch_done(
        self, group: str, topic: str, records: list[RecordRef], started: float, now_s: float
    ) -> None:
        self.records.labels(group, topic).inc(len(records))
        self.batches.labels(group, topic, "committed").inc()
        self.batch_duration.labels(group, topic).observe(time.perf_counter() - started)
        stamps = [r.timestamp_ms for r in records if r.timestamp_ms is not None]
        if stamps:
            self.record_age.labels(group, topic).observe(max(0.0, now_s - min(stamps) / 1000))

    def batch_failed(self, group: str, topic: str) -> None:
        self.batches.labels(group, topic, "failed").inc()


class ReadyMetric:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.ready = Gauge(
            "seinpost_ready",
            "1 when the last readiness check passed (Kafka, PostgreSQL where used, and for "
            "consumers an assignment), else 0.",
            registry=registry,
        )
