"""Prometheus metrics of intake, on a registry per app (tests build many apps in one process).

The HTTP middleware and the shared metrics live in ``services.common.metrics``; intake keeps
its historical metric names (``seinpost_intake_*``).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from services.common.metrics import (
    HTTP_BUCKETS,
    MetricsMiddleware,
    ReadyMetric,
    service_registry,
)

__all__ = ["IntakeMetrics", "MetricsMiddleware"]

_BUCKETS = HTTP_BUCKETS


class IntakeMetrics:
    def __init__(self) -> None:
        self.registry = service_registry()
        self.ready = ReadyMetric(self.registry).ready
        self.requests = Counter(
            "seinpost_intake_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "seinpost_intake_http_request_duration_seconds",
            "Time from request to the last byte of the answer, by route template and status.",
            ["route", "method", "status"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.published = Counter(
            "seinpost_intake_records_published",
            "Records Kafka acknowledged, by topic.",
            ["topic"],
            registry=self.registry,
        )
        self.outcomes = Counter(
            "seinpost_intake_submissions",
            "Submitted signals by outcome (accepted, duplicate, conflict, invalid, forbidden, "
            "unavailable) and source (api, batch, kobo, odk).",
            ["outcome", "source"],
            registry=self.registry,
        )
        self.rejections = Counter(
            "seinpost_intake_rejections",
            "Rejected requests and signals by machine-readable reason (the error or field code).",
            ["reason"],
            registry=self.registry,
        )
        self.redactions = Counter(
            "seinpost_intake_redactions",
            "Personal data removed from accepted signals, by kind.",
            ["kind"],
            registry=self.registry,
        )
