"""Every bad request is answered: intake and the aggregator API, served for real (uvicorn, the
real Kafka broker and PostgreSQL, valid tokens), fuzzed from their own OpenAPI documents with
schemathesis, plus the requests a schema-driven fuzzer never makes (huge, deep, undecodable).

No answer may be a 5xx, and every 4xx carries our error body: a machine code (``error``), a
Dutch ``message`` and, for a 422, the fields with their own code and Dutch reason.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from services.aggregator.api import create_api
from services.aggregator.bundling import compile_for_group
from services.aggregator.periods import parse_period
from services.aggregator.settings import AggregatorSettings
from services.aggregator.storage import PostgresSignalStore, SteeringGroup, migrate
from services.common.access import AccessStore, PrincipalKind
from services.common.events import RecordRef
from services.common.kafka import ensure_topics
from services.common.postgres import create_pool
from services.common.settings import KafkaSettings, PostgresSettings
from services.intake.app import create_app as create_intake
from services.intake.domain.privacy import scrub
from services.intake.settings import IntakeSettings
from tests.factories import classified_signal, submission_body, submitted_signal
from tests.integration.conftest import free_port, issue_token

EXAMPLES = 25  # per operation and generation mode: a few minutes for both services
STARLETTE_DEFAULTS = {"Not Found", "Method Not Allowed", "Unprocessable Entity", "Bad Request"}


# ------------------------------------------------------------------- serving in a thread


@contextlib.contextmanager
def served_in_thread(app: Any, port: int, *, what: str) -> Iterator[str]:
    """Serve ``app`` from its own thread and event loop: schemathesis calls it synchronously,
    which would block a server running in the test's own loop."""
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, name=f"serve-{what}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"{what} did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def wait_ready(url: str, path: str = "/readyz", timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while httpx.get(url + path, timeout=5).status_code != 200:
        if time.monotonic() > deadline:
            pytest.fail(f"{url}{path} not ready after {timeout_s} s")
        time.sleep(0.2)


# ---------------------------------------------------------------------- what is checked


def reason_missing(response: httpx.Response | Any) -> str | None:
    """Why this answer breaks the rules, or None. 2xx and 3xx are not judged here."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if status < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return f"{status} without a JSON body"
    if not isinstance(body, dict):
        return f"{status} body is not an object"
    code, message = body.get("error"), body.get("message")
    if not isinstance(code, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", code):
        return f"{status} without a machine code: {body!r:.200}"
    if not isinstance(message, str) or not message.strip() or message in STARLETTE_DEFAULTS:
        return f"{status} without a Dutch message: {body!r:.200}"
    if status == 422:
        problems = body.get("problems")
        if not problems:
            return f"422 without the fields: {body!r:.200}"
        for problem in problems:
            if not (problem.get("field") and problem.get("code") and problem.get("message")):
                return f"422 problem without field, code or message: {problem!r:.200}"
    return None


@dataclass
class Tally:
    """Answers per operation and status: printed, so the run shows what it covered."""

    counts: dict[str, collections.Counter[int]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    failures: list[str] = field(default_factory=list)

    def record(self, label: str, response: Any) -> None:
        self.counts[label][response.status_code] += 1
        problem = reason_missing(response)
        if problem is not None:
            self.failures.append(f"{label}: {problem}")

    def print(self, title: str) -> None:
        total = sum(sum(c.values()) for c in self.counts.values())
        print(f"\n{title}: {total} requests")
        for label, counter in sorted(self.counts.items()):
            statuses = ", ".join(f"{s}×{n}" for s, n in sorted(counter.items()))
            print(f"  {label:<70} {statuses}")


def fuzz(
    url: str,
    *,
    headers_for: Any,
    path_parameters_for: Any = lambda operation: {},
    tally: Tally,
    examples: int = EXAMPLES,
) -> None:
    """Every operation of the served OpenAPI document, with valid and invalid data."""
    document = httpx.get(f"{url}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the served OpenAPI document is invalid: {result}"
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(
                generation_mode=mode, path_parameters=path_parameters_for(operation) or None
            )
            tag = f"{label} [{mode.value}]"
            run = _examples(strategy, url, tag, headers_for(operation), tally, examples)
            try:
                run()
            except Unsatisfiable:
                # No invalid request exists for an operation without parameters or body.
                assert mode is GenerationMode.NEGATIVE, label


def _examples(
    strategy: Any, url: str, tag: str, headers: dict[str, str], tally: Tally, examples: int
) -> Any:
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(case: Any) -> None:
        response = case.call(base_url=url, headers=headers)
        tally.record(tag, response)
        assert response.status_code < 500, (tag, response.status_code, case)

    return run


# ------------------------------------------------------------------------------- intake


# The forms of services/intake/connectors.toml and the organisations they belong to.
CONNECTOR_FORMS = {
    "/v1/connectors/kobo/{form_id}": ("seinpost-signaal-kobo", "caw-oost-vlaanderen"),
    "/v1/connectors/odk/{form_id}": ("seinpost_signaal", "samenlevingsopbouw-antwerpen"),
}


@dataclass(frozen=True)
class Served:
    url: str
    token: str
    postgres: PostgresSettings
    kafka: KafkaSettings
    form_tokens: dict[str, str] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def intake(kafka_settings: KafkaSettings, postgres_settings: PostgresSettings) -> Iterator[Served]:
    asyncio.run(ensure_topics(kafka_settings))
    token = asyncio.run(
        issue_token(
            postgres_settings,
            "basisschool-de-regenboog",
            ["Gent", "Antwerpen", "Leuven", "Mechelen"],
        )
    )
    form_tokens = {
        organisation: asyncio.run(
            issue_token(postgres_settings, organisation, ["Gent", "Antwerpen"])
        )
        for _, organisation in CONNECTOR_FORMS.values()
    }
    settings = IntakeSettings(
        kafka=kafka_settings,
        postgres=postgres_settings,
        port=free_port(),
        rate_limit_per_s=1e6,
        rate_limit_burst=1_000_000,
        publish_timeout_s=5,
    )
    with served_in_thread(create_intake(settings), settings.port, what="intake") as url:
        wait_ready(url)
        yield Served(url, token, postgres_settings, kafka_settings, form_tokens)


def test_intake_answers_every_generated_request_with_a_reason(intake: Served) -> None:
    def headers_for(operation: Any) -> dict[str, str]:
        if operation.path in CONNECTOR_FORMS:
            _, organisation = CONNECTOR_FORMS[operation.path]
            return {"Authorization": f"Bearer {intake.form_tokens[organisation]}"}
        return intake.auth

    def path_parameters_for(operation: Any) -> dict[str, Any]:
        if operation.path in CONNECTOR_FORMS:
            return {"form_id": CONNECTOR_FORMS[operation.path][0]}
        return {}

    tally = Tally()
    fuzz(intake.url, headers_for=headers_for, path_parameters_for=path_parameters_for, tally=tally)
    tally.print("intake under schemathesis")
    assert not tally.failures, "\n".join(tally.failures[:20])
    # Sanity: the fuzzer got through to the handlers, not only to the token check.
    seen: collections.Counter[int] = collections.Counter()
    for counter in tally.counts.values():
        seen.update(counter)
    assert seen[202] + seen[200] > 0
    assert seen[422] > 0


def raw_request(url: str, head: bytes, body_parts: list[bytes], *, timeout_s: float = 20) -> bytes:
    """Send bytes as they are (httpx would fix what we break on purpose); the whole answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout_s) as connection:
        connection.sendall(head)
        for part in body_parts:
            try:
                connection.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed before reading it all: what we want
        connection.shutdown(socket.SHUT_WR)
        received = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := connection.recv(65536):
                received += chunk
    return received


def status_of(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


def test_intake_refuses_an_oversized_body_without_reading_it(intake: Served) -> None:
    # Declared: 50 MB announced, a few bytes sent; the answer comes without waiting for the rest.
    head = (
        f"POST /v1/signals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {intake.token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n"
    ).encode()
    started = time.monotonic()
    answer = raw_request(intake.url, head, [b'{"text": "'])
    assert status_of(answer) == 413
    assert b"payload_too_large" in answer
    assert time.monotonic() - started < 10
    # Chunked: refused once the limit is passed, not after the client finished.
    head = head.replace(b"Content-Length: 50000000", b"Transfer-Encoding: chunked")
    chunk = b"x" * 65536
    chunks = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 400  # 26 MB if it were all read
    answer = raw_request(intake.url, head, chunks)
    assert status_of(answer) == 413
    # Batch: its own, larger limit, also enforced.
    response = httpx.post(
        f"{intake.url}/v1/signals/batch",
        content=b"[" + b" " * 3_000_000 + b"]",
        headers={**intake.auth, "content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert reason_missing(response) is None


EXPLICIT_BODIES: dict[str, tuple[str, bytes]] = {
    "text/plain": ("text/plain", b'{"text": "x"}'),
    "form": ("application/x-www-form-urlencoded", b"text=x&municipality=Gent"),
    "xml": ("application/xml", b"<signal><text>x</text></signal>"),
    "no content type": ("", b'{"text": "x"}'),
    "multipart": ("multipart/form-data; boundary=x", b"--x\r\n\r\nhallo\r\n--x--\r\n"),
    "broken UTF-8": ("application/json", b'{"text": "caf\xc3\x28 \xff\xfe en meer tekst"}'),
    "latin-1": ("application/json; charset=latin-1", '{"text": "café"}'.encode("latin-1")),
    "UTF-16": ("application/json", '{"text": "kinderen"}'.encode("utf-16")),
    "empty": ("application/json", b""),
    "null": ("application/json", b"null"),
    "array": ("application/json", b"[1, 2, 3]"),
    "deep arrays": ("application/json", b"[" * 10_000 + b"]" * 10_000),
    "deep objects": ("application/json", b'{"a":' * 10_000 + b"1" + b"}" * 10_000),
    "deep unclosed": ("application/json", b"[" * 60_000),
    "huge integer": (
        "application/json",
        b'{"families_count": 1' + b"0" * 5000 + b', "text": "Ouders kunnen niet betalen."}',
    ),
    "huge float": ("application/json", b'{"families_count": 1e999}'),
    "NaN": ("application/json", b'{"families_count": NaN}'),
    "NUL in a string": ("application/json", b'{"text": "Ouders \\u0000 kunnen niet betalen."}'),
    "raw NUL": ("application/json", b'{"text": "Ouders \x00 kunnen niet betalen."}'),
    "NUL in a key": ("application/json", b'{"te\\u0000xt": "Ouders kunnen niet betalen."}'),
    "lone surrogate": ("application/json", b'{"text": "Ouders \\ud800 kunnen niet betalen."}'),
    "duplicate keys": ("application/json", b'{"text": "a", "text": "b"}'),
    "trailing garbage": ("application/json", b'{"text": "a"} {"text": "b"}'),
    "BOM": ("application/json", b'\xef\xbb\xbf{"text": "a"}'),
}


def _full_body(**overrides: Any) -> bytes:
    import json

    return json.dumps(submission_body(**overrides)).encode()


# Valid submissions around one hostile value: the field checks must catch it, or it is inert.
EXPLICIT_BODIES.update(
    {
        "NUL in the signal text": (
            "application/json",
            _full_body(text="Ouders \u0000 kunnen de schooluitstap niet betalen."),
        ),
        "NUL in a code": ("application/json", _full_body(vindplaats="school\u0000poort")),
        "NUL in the municipality": ("application/json", _full_body(municipality="Ge\u0000nt")),
        "huge families_count": ("application/json", _full_body(families_count=10**400)),
        "negative families_count": ("application/json", _full_body(families_count=-(10**30))),
        "float families_count": ("application/json", _full_body(families_count=1e308)),
        "year 0": ("application/json", _full_body(observed_on="0000-01-01")),
        "year 10000": ("application/json", _full_body(observed_on="10000-01-01")),
        "lone surrogate in the text": (
            "application/json",
            _full_body(text="x").replace(b'"x"', b'"Ouders \\udfff kunnen niet betalen."'),
        ),
    }
)
INTAKE_POSTS = [
    "/v1/signals",
    "/v1/signals/batch",
    "/v1/privacy-check",
    "/v1/connectors/kobo/seinpost-signaal-kobo",
    "/v1/connectors/odk/seinpost_signaal",
]


def test_intake_answers_what_a_schema_fuzzer_never_sends(intake: Served) -> None:
    tally = Tally()
    with httpx.Client(base_url=intake.url, timeout=30) as client:
        for path in INTAKE_POSTS:
            for name, (content_type, body) in EXPLICIT_BODIES.items():
                headers = dict(intake.auth)
                for template, (form_id, organisation) in CONNECTOR_FORMS.items():
                    if path.endswith(form_id):
                        headers["Authorization"] = f"Bearer {intake.form_tokens[organisation]}"
                        assert template
                if content_type:
                    headers["content-type"] = content_type
                started = time.monotonic()
                response = client.post(path, content=body, headers=headers)
                elapsed = time.monotonic() - started
                tally.record(f"POST {path} {name}", response)
                assert elapsed < 10, f"{path} {name}: {elapsed:.1f} s"
                if response.status_code < 400:
                    # Accepted: then it was a valid signal (or a privacy check) after all.
                    assert name in {"BOM", "duplicate keys", "NUL in the signal text"} or (
                        path == "/v1/privacy-check"
                    ), (path, name, response.status_code, response.text[:200])
    tally.print("intake, explicit bad requests")
    assert not tally.failures, "\n".join(tally.failures[:30])
    # Still serving after all that.
    assert httpx.get(f"{intake.url}/readyz", timeout=5).status_code == 200


# ------------------------------------------------------------------- the aggregator API


@dataclass(frozen=True)
class Tokens:
    steering_group: str
    organisation: str


async def _prepare_aggregator(postgres: PostgresSettings) -> tuple[Tokens, str]:
    """A steering group with one compiled bundle, and the tokens that may read it."""
    pool = await create_pool(postgres)
    try:
        async with pool.acquire() as connection:
            await migrate(connection)
        store = PostgresSignalStore(pool)
        signals = [
            classified_signal(
                submitted_signal(
                    observed_on=date(2026, 8, 1 + i),
                    organisation="basisschool-de-regenboog" if i % 2 else "caw-oost",
                )
            )
            for i in range(12)
        ]
        await store.store_classified(
            [
                (RecordRef(topic="t", partition=0, offset=i, key=None, value=None), signal)
                for i, signal in enumerate(signals)
            ]
        )
        group = SteeringGroup(
            steering_group_id="gent",
            name="Stuurgroep Gent",
            network_id=None,
            municipalities=("Gent",),
            neighbourhoods=None,
            domains_of_interest=None,
            cadence="quarterly",
            period_months=3,
            min_group_size=5,
            active_from=date(2026, 1, 1),
        )
        await store.upsert_steering_group(group)
        compiled = await compile_for_group(
            store, group, parse_period("2026-Q3"), scheduled=False, baseline_periods=0
        )
        assert compiled is not None
        access = AccessStore(pool)
        await access.migrate()
        await access.add_organisation(
            "basisschool-de-regenboog", "basisschool-de-regenboog", ["Gent"]
        )
        steering = await access.create_token(PrincipalKind.STEERING_GROUP, "gent", "test")
        organisation = await access.create_token(
            PrincipalKind.ORGANISATION, "basisschool-de-regenboog", "test"
        )
        bundle_id = await pool.fetchval("SELECT bundle_id::text FROM bundles LIMIT 1")
        return Tokens(steering.secret, organisation.secret), str(bundle_id)
    finally:
        await pool.close()


def test_aggregator_api_answers_every_generated_request_with_a_reason(
    kafka_settings: KafkaSettings, postgres_settings: PostgresSettings, tmp_path: Any
) -> None:
    asyncio.run(ensure_topics(kafka_settings))
    tokens, bundle_id = asyncio.run(_prepare_aggregator(postgres_settings))
    settings = AggregatorSettings(
        kafka=kafka_settings,
        postgres=postgres_settings,
        bundle_dir=tmp_path,
        scheduler_enabled=False,
        api_port=free_port(),
    )
    app = create_api(settings, scrub=lambda text: scrub(text).text)

    def headers_for(operation: Any) -> dict[str, str]:
        token = tokens.organisation if operation.path == "/v1/feedback" else tokens.steering_group
        return {"Authorization": f"Bearer {token}"}

    def path_parameters_for(operation: Any) -> dict[str, Any]:
        # The group the token belongs to, half of the time the real bundle: otherwise nearly
        # every request would stop at 403 or 404 before reaching the handler.
        fixed: dict[str, Any] = {}
        if "{steering_group_id}" in operation.path:
            fixed["steering_group_id"] = "gent"
        if "{bundle_id}" in operation.path:
            fixed["bundle_id"] = bundle_id
        return fixed

    tally = Tally()
    with served_in_thread(app, settings.api_port, what="aggregator API") as url:
        wait_ready(url, "/healthz")
        fuzz(url, headers_for=headers_for, path_parameters_for=path_parameters_for, tally=tally)
        # Once more with random ids everywhere (404/403 must carry reasons too).
        fuzz(url, headers_for=headers_for, tally=tally, examples=EXAMPLES // 3)
        explicit = Tally()
        with httpx.Client(base_url=url, timeout=30) as client:
            for path in [
                "/v1/steering-groups/gent/themes/t1/decisions",
                f"/v1/signals/{uuid.uuid4()}/corrections",
            ]:
                for name, (content_type, body) in EXPLICIT_BODIES.items():
                    headers = {"Authorization": f"Bearer {tokens.steering_group}"}
                    if content_type:
                        headers["content-type"] = content_type
                    started = time.monotonic()
                    response = client.post(path, content=body, headers=headers)
                    assert time.monotonic() - started < 10, (path, name)
                    explicit.record(f"POST {path.split('/')[2]}… {name}", response)
            huge = client.post(
                "/v1/steering-groups/gent/themes/t1/decisions",
                content=b'{"note": "' + b"x" * 3_000_000 + b'"}',
                headers={
                    "Authorization": f"Bearer {tokens.steering_group}",
                    "content-type": "application/json",
                },
            )
            explicit.record("POST decisions 3 MB", huge)
            assert huge.status_code == 413
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    tally.print("aggregator API under schemathesis")
    explicit.print("aggregator API, explicit bad requests")
    assert not tally.failures, "\n".join(tally.failures[:20])
    assert not explicit.failures, "\n".join(explicit.failures[:30])
