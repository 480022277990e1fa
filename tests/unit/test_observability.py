"""deploy/observability: the alert rules pass promtool, the dashboard is what its script
writes, and every PromQL expression in either parses and names only metrics the services
really expose."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from services.aggregator.api import create_api
from services.aggregator.app import create_service as aggregator_service
from services.aggregator.settings import AggregatorSettings
from services.classifier.app import create_service as classifier_service
from services.classifier.settings import ClassifierSettings
from services.common.settings import KafkaSettings
from services.intake.metrics import IntakeMetrics

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
BUILTIN = {"up"}  # set by Prometheus itself for every target


def promtool() -> str:
    found = shutil.which("promtool") or str(ROOT / ".local" / "promtool" / "promtool")
    if not os.access(found, os.X_OK):
        pytest.fail("promtool is missing: run `make setup` (deploy/observability/promtool.sh)")
    return found


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((OBSERVABILITY / "alerts.yml").read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_module() -> Any:
    spec = importlib.util.spec_from_file_location("dashboard", OBSERVABILITY / "dashboard.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text("utf-8"))
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def metric_names(node: Any) -> set[str]:
    """Every metric a PromQL expression selects."""
    if isinstance(node, promql_parser.VectorSelector):
        return {node.name} if node.name else set()
    if isinstance(node, promql_parser.MatrixSelector):
        return metric_names(node.vector_selector)
    names: set[str] = set()
    for attribute in ("lhs", "rhs", "expr", "param"):
        child = getattr(node, attribute, None)
        if child is not None:
            names |= metric_names(child)
    for argument in getattr(node, "args", None) or ():
        names |= metric_names(argument)
    return names


def exposed_names() -> set[str]:
    """Sample names the four services expose, from their real registries."""
    kafka = KafkaSettings(topic_namespace="unit.")
    registries = [
        classifier_service(ClassifierSettings(kafka=kafka)).probes.registry,
        aggregator_service(AggregatorSettings(kafka=kafka)).probes.registry,
        IntakeMetrics().registry,
    ]
    api = create_api(AggregatorSettings(kafka=kafka), scrub=lambda text: text)
    registries.append(api.state.metrics_registry)
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "summary": ("_sum", "_count", "_created"),
        "gauge": ("",),
        "info": ("_info",),
    }
    names: set[str] = set()
    for registry in registries:
        for family in registry.collect():
            names |= {family.name + suffix for suffix in suffixes.get(family.type, ("",))}
    return names


def test_alert_rules_pass_promtool() -> None:
    result = subprocess.run(  # noqa: S603 - our own file, a fixed tool
        [promtool(), "check", "rules", str(OBSERVABILITY / "alerts.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_sample_scrape_config_passes_promtool_and_names_the_jobs_the_rules_expect() -> None:
    result = subprocess.run(  # noqa: S603 - our own file, a fixed tool
        [promtool(), "check", "config", str(OBSERVABILITY / "prometheus.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load((OBSERVABILITY / "prometheus.yml").read_text(encoding="utf-8"))
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert jobs == {
        "seinpost-intake",
        "seinpost-aggregator-api",
        "seinpost-classifier",
        "seinpost-aggregator",
    }


def test_the_alerts_cover_lag_dead_letters_5xx_and_readiness() -> None:
    selected = {
        name for rule in alert_rules() for name in metric_names(promql_parser.parse(rule["expr"]))
    }
    assert {
        "seinpost_consumer_lag",
        "seinpost_dead_letters_total",
        "seinpost_intake_http_requests_total",
        "seinpost_ready",
    } <= selected


def test_dashboard_file_is_what_its_script_writes() -> None:
    committed = (OBSERVABILITY / "grafana-dashboard.json").read_text(encoding="utf-8")
    assert committed == dashboard_module().render(), "run python deploy/observability/dashboard.py"


def test_every_expression_names_only_exposed_metrics() -> None:
    exposed = exposed_names() | BUILTIN
    expressions = dashboard_expressions() + [rule["expr"] for rule in alert_rules()]
    assert len(expressions) > 20
    for expression in expressions:
        names = metric_names(promql_parser.parse(expression))
        assert names, f"selects no metric: {expression}"
        assert names <= exposed, f"{sorted(names - exposed)} not exposed; used in {expression}"


def test_a_misspelt_metric_would_be_caught() -> None:
    names = metric_names(promql_parser.parse("sum(rate(seinpost_consumer_recrods_total[5m]))"))
    assert not names <= exposed_names()
