"""Writes grafana-dashboard.json: ``python deploy/observability/dashboard.py``.

The panels are listed here as (title, unit, PromQL expressions) so that the dashboard stays
reviewable; tests/unit/test_observability.py checks every expression parses and names only
metrics the services expose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PANELS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "Intake: verzoeken per seconde per status",
        "reqps",
        [("sum by (status) (rate(seinpost_intake_http_requests_total[5m]))", "{{status}}")],
    ),
    (
        "Intake: latentie POST /v1/signals (p50, p99)",
        "s",
        [
            (
                'histogram_quantile(0.5, sum by (le) (rate(seinpost_intake_http_request_duration_seconds_bucket{route="/v1/signals"}[5m])))',
                "p50",
            ),
            (
                'histogram_quantile(0.99, sum by (le) (rate(seinpost_intake_http_request_duration_seconds_bucket{route="/v1/signals"}[5m])))',
                "p99",
            ),
        ],
    ),
    (
        "Intake: signalen per uitkomst",
        "ops",
        [("sum by (outcome) (rate(seinpost_intake_submissions_total[5m]))", "{{outcome}}")],
    ),
    (
        "Intake: 5xx-aandeel",
        "percentunit",
        [
            (
                'sum(rate(seinpost_intake_http_requests_total{status=~"5.."}[5m])) / clamp_min(sum(rate(seinpost_intake_http_requests_total[5m])), 1e-9)',
                "5xx",
            )
        ],
    ),
    (
        "Consumers: records per seconde",
        "ops",
        [("sum by (group, topic) (rate(seinpost_consumer_records_total[5m]))", "{{group}}")],
    ),
    (
        "Consumers: achterstand (lag) per partitie",
        "short",
        [("sum by (group, topic, partition) (seinpost_consumer_lag)", "{{group}} p{{partition}}")],
    ),
    (
        "Consumers: batchduur (p50, p99)",
        "s",
        [
            (
                "histogram_quantile(0.5, sum by (le, group) (rate(seinpost_consumer_batch_duration_seconds_bucket[5m])))",
                "p50 {{group}}",
            ),
            (
                "histogram_quantile(0.99, sum by (le, group) (rate(seinpost_consumer_batch_duration_seconds_bucket[5m])))",
                "p99 {{group}}",
            ),
        ],
    ),
    (
        "Consumers: leeftijd oudste record bij afwerken (p99)",
        "s",
        [
            (
                "histogram_quantile(0.99, sum by (le, group) (rate(seinpost_consumer_record_age_seconds_bucket[5m])))",
                "{{group}}",
            )
        ],
    ),
    (
        "Consumers: mislukte batches",
        "ops",
        [
            (
                'sum by (group) (rate(seinpost_consumer_batches_total{outcome="failed"}[5m]))',
                "{{group}}",
            )
        ],
    ),
    (
        "Consumers: toegewezen partities",
        "short",
        [("sum by (group, topic) (seinpost_consumer_assigned_partitions)", "{{group}}")],
    ),
    (
        "Dead letters per reden",
        "short",
        [
            (
                "sum by (source_topic, reason) (increase(seinpost_dead_letters_total[15m]))",
                "{{source_topic}}: {{reason}}",
            )
        ],
    ),
    (
        "Gepubliceerd per topic",
        "ops",
        [
            ("sum by (topic) (rate(seinpost_records_published_total[5m]))", "{{topic}}"),
            (
                "sum by (topic) (rate(seinpost_intake_records_published_total[5m]))",
                "intake {{topic}}",
            ),
        ],
    ),
    (
        "Classifier: aandeel ter beoordeling (needs_review)",
        "percentunit",
        [
            (
                'sum(rate(seinpost_classifier_signals_classified_total{needs_review="true"}[15m])) / clamp_min(sum(rate(seinpost_classifier_signals_classified_total[15m])), 1e-9)',
                "review rate",
            )
        ],
    ),
    (
        "Aggregator: nieuwe rijen per seconde",
        "ops",
        [("sum by (group) (rate(seinpost_aggregator_rows_stored_total[5m]))", "{{group}}")],
    ),
    (
        "Bundels: compileertijd (p50, max)",
        "s",
        [
            (
                "histogram_quantile(0.5, sum by (le) (rate(seinpost_bundle_compile_duration_seconds_bucket[1h])))",
                "p50",
            ),
            (
                "histogram_quantile(1, sum by (le) (rate(seinpost_bundle_compile_duration_seconds_bucket[1h])))",
                "max",
            ),
        ],
    ),
    (
        "Bundels per uitkomst",
        "short",
        [("sum by (outcome) (increase(seinpost_bundles_total[1h]))", "{{outcome}}")],
    ),
    (
        "Aggregator-API: verzoeken per status",
        "reqps",
        [
            (
                "sum by (status) (rate(seinpost_aggregator_api_http_requests_total[5m]))",
                "{{status}}",
            )
        ],
    ),
    (
        "Klaar (readiness) per dienst",
        "short",
        [("min by (job, instance) (seinpost_ready)", "{{job}} {{instance}}")],
    ),
]


def panel(index: int, title: str, unit: str, targets: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            {"refId": chr(ord("A") + n), "expr": expr, "legendFormat": legend}
            for n, (expr, legend) in enumerate(targets)
        ],
    }


def dashboard() -> dict[str, Any]:
    return {
        "uid": "seinpost",
        "title": "Seinpost",
        "description": "Intake, classifier, aggregator and bundles: throughput, latency, lag, "
        "dead letters, review rate, readiness.",
        "tags": ["seinpost"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Prometheus",
                }
            ]
        },
        "panels": [panel(i, *spec) for i, spec in enumerate(PANELS)],
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    target = Path(__file__).with_name("grafana-dashboard.json")
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
