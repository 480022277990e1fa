"""deploy/: the Helm chart renders and every object in it validates against Kubernetes' schemas
(core kinds) and the vendored operator schemas (Strimzi, CloudNativePG); the container image
definition is multi-stage, runs as non-root, carries no compiler into the runtime stage and
passes hadolint. A broken manifest must be rejected: the validator is tested too.

The chart is rendered by the real `helm` binary (`make tools` builds it from the Go module in
deploy/tools into .venv/bin; `make test` does that first). There is no cluster here, so
"valid" means schema-valid, not accepted by an API server with its admission webhooks.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from dockerfile_parse import DockerfileParser
from jsonschema import Draft7Validator
from pydantic_settings import BaseSettings

from services.aggregator.settings import AggregatorSettings
from services.classifier.settings import ClassifierSettings
from services.intake.settings import IntakeSettings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "seinpost"
SCHEMAS = ROOT / "deploy" / "schemas"
DOCKERFILE = ROOT / "deploy" / "container" / "Dockerfile"
KUBERNETES_VERSION = "1.30.0"
CUSTOM_GROUPS = ("kafka.strimzi.io", "postgresql.cnpg.io")


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(ROOT / ".venv" / "bin")) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found: run `make tools` (make test does)")
    return found


def render(*overrides: str) -> list[dict[str, Any]]:
    """`helm template` with --set overrides; the objects it renders."""
    command = [_tool("helm"), "template", "seinpost", str(CHART), "--namespace", "seinpost"]
    command += ["--kube-version", KUBERNETES_VERSION]
    for override in overrides:
        command += ["--set", override]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise ChartError(result.stderr)
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


class ChartError(Exception):
    pass


@cache
def _custom_schema(kind: str, api_version: str) -> Draft7Validator:
    group, _, version = api_version.partition("/")
    path = SCHEMAS / f"{kind.lower()}-{group}-{version}.json"
    if not path.exists():
        raise LookupError(f"no vendored schema for {kind} {api_version} ({path.name})")
    return Draft7Validator(json.loads(path.read_text("utf-8")))


def problems(document: dict[str, Any]) -> list[str]:
    """What is wrong with one object: empty when it validates."""
    kind, api_version = document.get("kind", "?"), document.get("apiVersion", "?")
    where = f"{kind} {document.get('metadata', {}).get('name', '?')}"
    if api_version.split("/")[0] in CUSTOM_GROUPS:
        try:
            validator = _custom_schema(kind, api_version)
        except LookupError as error:
            return [f"{where}: {error}"]
        return [
            f"{where}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)
        ]
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{where}: {'/'.join(map(str, error.path))}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [f"{where}: no Kubernetes {KUBERNETES_VERSION} schema: {error}"]
    return []


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    return render()


def by_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def test_every_rendered_object_validates(rendered: list[dict[str, Any]]) -> None:
    found = [problem for document in rendered for problem in problems(document)]
    assert found == []


def test_the_chart_has_what_the_issue_asks_for(rendered: list[dict[str, Any]]) -> None:
    deployments = by_kind(rendered, "Deployment")
    assert set(deployments) == {
        "seinpost-intake",
        "seinpost-classifier",
        "seinpost-aggregator",
        "seinpost-api",
    }
    hpa = by_kind(rendered, "HorizontalPodAutoscaler")["seinpost-intake"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == "seinpost-intake"
    assert set(by_kind(rendered, "PodDisruptionBudget")) == {
        f"seinpost-{name}" for name in ("intake", "classifier", "aggregator", "api")
    }
    cronjobs = by_kind(rendered, "CronJob")
    assert set(cronjobs) == {"seinpost-scheduler", "seinpost-retention"}
    assert all(job["spec"]["concurrencyPolicy"] == "Forbid" for job in cronjobs.values())
    kafka = by_kind(rendered, "Kafka")["seinpost"]
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    pools = by_kind(rendered, "KafkaNodePool")
    assert sorted(role for p in pools.values() for role in p["spec"]["roles"]) == [
        "broker",
        "controller",
    ]
    topics = {t["spec"]["topicName"]: t["spec"] for t in by_kind(rendered, "KafkaTopic").values()}
    from schemas.topics import ALL_TOPICS

    assert set(topics) == set(ALL_TOPICS)
    assert all(t["config"]["retention.ms"] > 0 for t in topics.values())
    users = by_kind(rendered, "KafkaUser").values()
    assert users
    assert all(u["spec"]["authentication"]["type"] == "scram-sha-512" for u in users)
    assert by_kind(rendered, "Cluster")["seinpost-db"]["apiVersion"] == "postgresql.cnpg.io/v1"
    assert by_kind(rendered, "NetworkPolicy")


def test_consumers_and_intake_have_probes_and_run_as_non_root(
    rendered: list[dict[str, Any]],
) -> None:
    for name, deployment in by_kind(rendered, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        (container,) = pod["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], name
    consumers = by_kind(rendered, "Deployment")
    for name in ("seinpost-classifier", "seinpost-aggregator"):
        (container,) = consumers[name]["spec"]["template"]["spec"]["containers"]
        assert container["ports"] == [{"name": "metrics", "containerPort": 9100, "protocol": "TCP"}]


def _setting_names() -> set[str]:
    """Every SEINPOST_* variable the services read, from their settings classes."""
    names = set()
    for settings in (IntakeSettings, ClassifierSettings, AggregatorSettings):
        prefix = str(settings.model_config.get("env_prefix", ""))
        for field_name, info in settings.model_fields.items():
            nested = info.default_factory
            if isinstance(nested, type) and issubclass(nested, BaseSettings):
                inner = str(nested.model_config.get("env_prefix", ""))
                names |= {f"{inner}{n}".upper() for n in nested.model_fields}
            else:
                names.add(f"{prefix}{field_name}".upper())
    return names


def test_every_setting_the_chart_sets_exists(rendered: list[dict[str, Any]]) -> None:
    """A misspelt variable would be ignored silently by pydantic-settings (extra="ignore")."""
    config = by_kind(rendered, "ConfigMap")["seinpost-config"]["data"]
    names = set(config)
    for deployment in by_kind(rendered, "Deployment").values():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            names |= {e["name"] for e in container.get("env", [])}
    unknown = names - _setting_names()
    assert unknown == set()
    assert config["SEINPOST_KAFKA_BOOTSTRAP_SERVERS"] == "seinpost-kafka-bootstrap:9094"


def _pod_specs(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every pod the chart runs: Deployments' and CronJobs' templates, by object name."""
    pods = {n: d["spec"]["template"]["spec"] for n, d in by_kind(documents, "Deployment").items()}
    for name, job in by_kind(documents, "CronJob").items():
        pods[name] = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return pods


def test_every_service_connects_to_kafka_as_its_own_scram_user(
    rendered: list[dict[str, Any]],
) -> None:
    users = set(by_kind(rendered, "KafkaUser"))
    (listener,) = by_kind(rendered, "Kafka")["seinpost"]["spec"]["kafka"]["listeners"]
    assert listener["tls"] is True
    assert listener["authentication"]["type"] == "scram-sha-512"
    bootstrap = by_kind(rendered, "ConfigMap")["seinpost-config"]["data"]
    assert bootstrap["SEINPOST_KAFKA_BOOTSTRAP_SERVERS"].endswith(f":{listener['port']}")
    pods = _pod_specs(rendered)
    assert len(pods) == 6
    for name, pod in pods.items():
        (container,) = pod["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["SEINPOST_KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL", name
        assert env["SEINPOST_KAFKA_SASL_MECHANISM"]["value"] == "SCRAM-SHA-512", name
        user = env["SEINPOST_KAFKA_SASL_USERNAME"]["value"]
        secret = env["SEINPOST_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert user in users, name
        assert secret == {"name": user, "key": "password"}, name
        cafile = Path(env["SEINPOST_KAFKA_SSL_CAFILE"]["value"])
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert mounts["kafka-ca"] == str(cafile.parent), name
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["kafka-ca"]["secret"]["secretName"] == "seinpost-cluster-ca-cert", name
        assert volumes["kafka-ca"]["secret"]["items"] == [{"key": "ca.crt", "path": cafile.name}]
    # One user per service: a leaked password is revoked for one service, not for all.
    intake = pods["seinpost-intake"]["containers"][0]["env"]
    assert {"name": "SEINPOST_KAFKA_SASL_USERNAME", "value": "seinpost-intake"} in intake


def test_without_scram_the_services_use_the_fenced_plain_listener() -> None:
    documents = render("kafka.servicesUseScram=false")
    listeners = by_kind(documents, "Kafka")["seinpost"]["spec"]["kafka"]["listeners"]
    plain = next(listener for listener in listeners if listener["name"] == "plain")
    assert plain["tls"] is False
    assert plain["networkPolicyPeers"]
    config = by_kind(documents, "ConfigMap")["seinpost-config"]["data"]
    assert config["SEINPOST_KAFKA_BOOTSTRAP_SERVERS"] == "seinpost-kafka-bootstrap:9092"
    for name, pod in _pod_specs(documents).items():
        (container,) = pod["containers"]
        assert not [e for e in container["env"] if "KAFKA" in e["name"]], name
        assert "kafka-ca" not in {v["name"] for v in pod["volumes"]}, name
    assert [p for d in documents for p in problems(d)] == []


def test_the_validator_rejects_broken_manifests(rendered: list[dict[str, Any]]) -> None:
    """The check must be able to fail: one break per kind of schema."""
    deployment = copy.deepcopy(by_kind(rendered, "Deployment")["seinpost-intake"])
    probe = deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    probe["httpGet"]["port"] = {"not": "a port"}
    assert problems(deployment)
    typo = copy.deepcopy(by_kind(rendered, "Deployment")["seinpost-classifier"])
    typo["spec"]["replica"] = 3  # strict: an unknown field
    assert problems(typo)
    topic = copy.deepcopy(next(iter(by_kind(rendered, "KafkaTopic").values())))
    topic["spec"]["partitions"] = "twelve"
    assert problems(topic)
    kafka = copy.deepcopy(by_kind(rendered, "Kafka")["seinpost"])
    kafka["spec"]["zookeeper"] = {"replicas": 3}  # KRaft only
    assert problems(kafka)
    cluster = copy.deepcopy(by_kind(rendered, "Cluster")["seinpost-db"])
    cluster["spec"]["instance"] = 3
    assert problems(cluster)
    unknown = {"apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaBridge", "metadata": {}}
    assert problems(unknown)


def test_a_broken_value_fails_the_render_or_the_validation() -> None:
    with pytest.raises(ChartError, match="extra replicas would idle"):
        render("classifier.replicas=20")
    broken = render("intake.autoscaling.targetCPUUtilizationPercentage=lots")
    assert [p for d in broken for p in problems(d)]


def test_without_operators_the_chart_points_at_existing_servers() -> None:
    documents = render(
        "kafka.create=false",
        "kafka.bootstrapServers=kafka-0.example:9092",
        "postgres.create=false",
        "postgres.existingSecret=seinpost-dsn",
    )
    kinds = {d["kind"] for d in documents}
    assert not kinds & {"Kafka", "KafkaTopic", "Cluster"}
    assert [p for d in documents for p in problems(d)] == []
    with pytest.raises(ChartError, match="bootstrapServers is required"):
        render("kafka.create=false")


def _stages() -> list[list[dict[str, Any]]]:
    parser = DockerfileParser(path=str(DOCKERFILE))
    stages: list[list[dict[str, Any]]] = []
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def test_the_image_is_multi_stage_non_root_and_without_compilers() -> None:
    stages = _stages()
    assert len(stages) >= 2
    runtime = stages[-1]
    instructions = [(i["instruction"], i["value"]) for i in runtime]
    users = [value for name, value in instructions if name == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}
    runtime_runs = " ".join(value for name, value in instructions if name == "RUN")
    assert not any(word in runtime_runs for word in ("build-essential", "gcc", "g++", "clang"))
    assert any(name == "COPY" and "--from=builder" in value for name, value in instructions)
    assert any(name == "HEALTHCHECK" for name, _ in instructions)
    entrypoint = next(value for name, value in instructions if name == "ENTRYPOINT")
    assert "seinpost" in json.loads(entrypoint)


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    result = subprocess.run(  # noqa: S603
        [_tool("hadolint"), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_flags_a_careless_dockerfile(tmp_path: Path) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text("FROM python:3.11-slim\nRUN apt-get update && apt-get install -y gcc\n")
    result = subprocess.run(  # noqa: S603
        [_tool("hadolint"), "--no-color", str(broken)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "DL3008" in result.stdout or "DL3015" in result.stdout


def _commands(documents: list[dict[str, Any]]) -> list[list[str]]:
    commands = []
    for document in documents:
        spec = document.get("spec", {})
        pod = spec.get("template", spec.get("jobTemplate", {}).get("spec", {}).get("template"))
        if pod and document["kind"] in {"Deployment", "CronJob"}:
            commands += [c["args"] for c in pod["spec"]["containers"]]
    return commands


def test_every_command_the_chart_and_compose_run_is_a_seinpost_command(
    rendered: list[dict[str, Any]],
) -> None:
    """The image's entrypoint is `seinpost`: each container's arguments must be a command it
    knows, with options it accepts (a renamed command would otherwise crash-loop in a cluster)."""
    from typer.testing import CliRunner

    from services.cli import app

    compose = yaml.safe_load((ROOT / "deploy" / "compose" / "docker-compose.yml").read_text())
    commands = _commands(rendered) + [
        service["command"]
        for service in compose["services"].values()
        if service.get("image", "").startswith("seinpost")
    ]
    assert len(commands) == 4 + 2 + 4  # 4 Deployments, 2 CronJobs, 4 compose services
    runner = CliRunner()
    for command in commands:
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
    assert runner.invoke(app, ["intake", "serve", "--help"]).exit_code != 0
