"""Prometheus metrics of intake, on a registry per app (tests build many apps in one process)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Latency buckets around what matters here: a 50 ms p99 target and a 10 s publish timeout.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class IntakeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
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


class MetricsMiddleware:
    """Counts and times every HTTP request by its route *template* (``/v1/connectors/kobo/
    {form_id}``), so that ids in paths do not explode the number of series."""

    def __init__(self, app: ASGIApp, *, metrics: IntakeMetrics) -> None:
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
