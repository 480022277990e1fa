"""Who may call what: every endpoint of intake and of the aggregator API, for every kind of token.

The endpoints are enumerated from the apps' own routes, so a new endpoint without a row here
fails the test. Two tenants (alfa in Gent, beta in Antwerpen) are seeded with distinctive
markers in their names, ids and texts; every request concerns tenant alfa's resources, and
every response body is searched for the markers of a tenant the caller does not belong to.
The matrix is printed as a table (`pytest -s` shows it).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from services.aggregator.api import create_api
from services.aggregator.settings import AggregatorSettings
from services.common.kafka import ensure_topics
from services.common.settings import KafkaSettings, PostgresSettings
from services.intake.app import create_app as create_intake
from services.intake.connectors import KOBO_EXAMPLE, ODK_EXAMPLE
from services.intake.domain.privacy import scrub
from services.intake.settings import IntakeSettings
from tests.factories import submission_body
from tests.integration.conftest import free_port, running_intake, serving
from tests.integration.tenants import Tenant, seed

ROOT = Path(__file__).resolve().parents[2]

# The columns: who calls. "own" is tenant alfa (whose resources every request is about).
CALLERS = (
    "none",
    "malformed",
    "unknown",
    "revoked",
    "other_org",
    "other_group",
    "other_coord",
    "own_org",
    "own_group",
    "own_coord",
)
ANONYMOUS = {"none", "malformed", "unknown", "revoked"}
OTHERS = {"other_org", "other_group", "other_coord"}

DENIED_ANON = dict.fromkeys(ANONYMOUS, "401")


def expect(default: str, **cells: str) -> dict[str, str]:
    """Anonymous callers get 401; every other caller ``default`` unless named."""
    return {caller: cells.get(caller, default) for caller in CALLERS} | {
        k: "401" for k in ANONYMOUS if k not in cells
    }


PUBLIC = {caller: "200" for caller in CALLERS}


@dataclass
class Row:
    service: str
    method: str
    path: str  # the route's template, as the app declares it
    expected: dict[str, str]
    request: Callable[[Tenant], dict[str, Any]]  # -> url (+ json/content)


def _kobo(t: Tenant) -> dict[str, Any]:
    body = copy.deepcopy(KOBO_EXAMPLE)
    instance = str(uuid.uuid4())
    body["_uuid"] = instance
    body["meta/instanceID"] = f"uuid:{instance}"
    body["group_plaats/gemeente"] = t.municipality
    return {"url": "/v1/connectors/kobo/seinpost-signaal-kobo", "json": body}


def _odk(t: Tenant) -> dict[str, Any]:
    body = copy.deepcopy(ODK_EXAMPLE)
    instance = f"uuid:{uuid.uuid4()}"
    body["__id"] = instance
    body["meta"]["instanceID"] = instance
    body["plaats"] = {"gemeente": t.municipality, "wijk": None}
    return {"url": "/v1/connectors/odk/seinpost_signaal", "json": body}


def _signal(t: Tenant) -> dict[str, Any]:
    body = submission_body(municipality=t.municipality, neighbourhood=None)
    del body["organisation"]  # taken from the token
    return body


SUBMIT = expect("403", own_org="202")
READ_GROUP = expect("403", own_group="200")

INTAKE_ROWS = [
    Row("intake", "GET", "/healthz", PUBLIC, lambda t: {"url": "/healthz"}),
    Row("intake", "GET", "/readyz", PUBLIC, lambda t: {"url": "/readyz"}),
    Row("intake", "GET", "/metrics", PUBLIC, lambda t: {"url": "/metrics"}),
    Row("intake", "GET", "/openapi.json", PUBLIC, lambda t: {"url": "/openapi.json"}),
    Row("intake", "GET", "/docs", PUBLIC, lambda t: {"url": "/docs"}),
    Row(
        "intake", "GET", "/docs/oauth2-redirect", PUBLIC, lambda t: {"url": "/docs/oauth2-redirect"}
    ),
    Row("intake", "GET", "/redoc", PUBLIC, lambda t: {"url": "/redoc"}),
    # The phone form's shell is public: the token lives in the browser, not in the page.
    Row("intake", "GET", "/", dict.fromkeys(CALLERS, "308"), lambda t: {"url": "/"}),
    Row(
        "intake",
        "GET",
        "/formulier",
        dict.fromkeys(CALLERS, "308"),
        lambda t: {"url": "/formulier"},
    ),
    Row("intake", "GET", "/formulier/", PUBLIC, lambda t: {"url": "/formulier/"}),
    Row("intake", "GET", "/formulier/{name}", PUBLIC, lambda t: {"url": "/formulier/sw.js"}),
    Row(
        "intake",
        "POST",
        "/v1/signals",
        SUBMIT,
        lambda t: {"url": "/v1/signals", "json": _signal(t)},
    ),
    Row(
        "intake",
        "POST",
        "/v1/signals/batch",
        # An organisation's batch is answered 200 with a status per item.
        expect("403", own_org="200:202", other_org="200:403"),
        lambda t: {"url": "/v1/signals/batch", "json": {"signals": [_signal(t)]}},
    ),
    # Pick lists and the caller's own area (empty for a group or coordinator): any valid key.
    Row("intake", "GET", "/v1/form-config", expect("200"), lambda t: {"url": "/v1/form-config"}),
    Row(
        "intake",
        "POST",
        "/v1/privacy-check",
        expect("403", own_org="200", other_org="200"),
        lambda t: {"url": "/v1/privacy-check", "json": {"text": "Bel 0478 12 34 56."}},
    ),
    Row("intake", "POST", "/v1/connectors/kobo/{form_id}", SUBMIT, _kobo),
    Row("intake", "POST", "/v1/connectors/odk/{form_id}", SUBMIT, _odk),
]


def _group_path(t: Tenant, tail: str = "") -> str:
    return f"/v1/steering-groups/{t.steering_group_id}{tail}"


AGGREGATOR_ROWS = [
    Row("aggregator", "GET", "/healthz", PUBLIC, lambda t: {"url": "/healthz"}),
    Row("aggregator", "GET", "/readyz", PUBLIC, lambda t: {"url": "/readyz"}),
    Row("aggregator", "GET", "/metrics", PUBLIC, lambda t: {"url": "/metrics"}),
    Row("aggregator", "GET", "/openapi.json", PUBLIC, lambda t: {"url": "/openapi.json"}),
    Row("aggregator", "GET", "/docs", PUBLIC, lambda t: {"url": "/docs"}),
    Row(
        "aggregator",
        "GET",
        "/docs/oauth2-redirect",
        PUBLIC,
        lambda t: {"url": "/docs/oauth2-redirect"},
    ),
    Row("aggregator", "GET", "/redoc", PUBLIC, lambda t: {"url": "/redoc"}),
    Row(
        "aggregator",
        "GET",
        "/v1/steering-groups/{steering_group_id}/bundles",
        READ_GROUP,
        lambda t: {"url": _group_path(t, "/bundles")},
    ),
    Row(
        "aggregator",
        "GET",
        "/v1/steering-groups/{steering_group_id}/bundles/{bundle_id}",
        READ_GROUP,
        lambda t: {"url": _group_path(t, f"/bundles/{t.bundle_id}")},
    ),
    Row(
        "aggregator",
        "GET",
        "/v1/steering-groups/{steering_group_id}/bundles/{bundle_id}/html",
        READ_GROUP,
        lambda t: {"url": _group_path(t, f"/bundles/{t.bundle_id}/html")},
    ),
    Row(
        "aggregator",
        "GET",
        "/v1/steering-groups/{steering_group_id}/bundles/{bundle_id}/pdf",
        READ_GROUP,
        lambda t: {"url": _group_path(t, f"/bundles/{t.bundle_id}/pdf")},
    ),
    Row(
        "aggregator",
        "GET",
        "/v1/steering-groups/{steering_group_id}/themes",
        READ_GROUP,
        lambda t: {"url": _group_path(t, "/themes")},
    ),
    Row(
        "aggregator",
        "GET",
        "/v1/steering-groups/{steering_group_id}/themes/{theme_id}/decisions",
        READ_GROUP,
        lambda t: {"url": _group_path(t, f"/themes/{t.theme_id}/decisions")},
    ),
    Row(
        "aggregator",
        "POST",
        "/v1/steering-groups/{steering_group_id}/themes/{theme_id}/decisions",
        expect("403", own_group="202"),
        lambda t: {
            "url": _group_path(t, f"/themes/{t.theme_id}/decisions"),
            "json": {"status": "in_behandeling", "owner": "OCMW"},
        },
    ),
    # Each organisation reads feedback on its own signals only (checked by the marker search).
    Row(
        "aggregator",
        "GET",
        "/v1/feedback",
        expect("403", own_org="200", other_org="200"),
        lambda t: {"url": "/v1/feedback"},
    ),
    # Another group or network sees alfa's signal as unknown: 404, not an existence oracle.
    Row(
        "aggregator",
        "POST",
        "/v1/signals/{signal_id}/corrections",
        expect("403", own_group="202", own_coord="202", other_group="404", other_coord="404"),
        lambda t: {
            "url": f"/v1/signals/{t.signal_ids[0]}/corrections",
            "json": {"domains": ["onderwijs", "inkomen"]},
        },
    ),
    # Each coordinator reads the audit log of their own network only (marker search).
    Row(
        "aggregator",
        "GET",
        "/v1/audit",
        expect("403", own_coord="200", other_coord="200"),
        lambda t: {"url": "/v1/audit"},
    ),
]


def declared_routes(routes: Sequence[Any], prefix: str = "") -> set[tuple[str, str]]:
    """(method, path) of every route, descending into included routers.

    FastAPI >= 0.165 keeps an included router as one entry (its routes and prefix inside), so
    the walk looks into it rather than trusting a flat ``app.routes``.
    """
    found: set[tuple[str, str]] = set()
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            # The include's prefix (include_router(prefix=…)) comes before the router's own,
            # which its routes' paths already carry.
            found |= declared_routes(inner.routes, prefix + route.include_context.prefix)
            continue
        path = getattr(route, "path", None)
        assert path is not None, f"a route of an unknown kind: {route!r}"
        methods = getattr(route, "methods", None) or {"MOUNT"}
        found |= {(method, prefix + path) for method in methods - {"HEAD"}}
    return found


def headers_of(caller: str, own: Tenant, other: Tenant) -> dict[str, str]:
    secret = {
        "none": None,
        "malformed": "not-a-token",
        "unknown": "spt_" + "x" * 43,
        "revoked": own.revoked,
        "other_org": other.tokens["organisation"],
        "other_group": other.tokens["steering_group"],
        "other_coord": other.tokens["coordinator"],
        "own_org": own.tokens["organisation"],
        "own_group": own.tokens["steering_group"],
        "own_coord": own.tokens["coordinator"],
    }[caller]
    return {} if secret is None else {"Authorization": f"Bearer {secret}"}


def foreign_markers(caller: str, own: Tenant, other: Tenant) -> list[str]:
    if caller in ANONYMOUS:
        return own.markers() + other.markers()
    return other.markers() if caller.startswith("own") else own.markers()


def cell_of(response: httpx.Response) -> str:
    if response.request.url.path.endswith("/batch") and response.status_code == 200:
        [item] = response.json()["results"]
        return f"200:{item['status']}"
    return str(response.status_code)


def print_matrix(rows: list[Row], seen: dict[tuple[str, str, str], dict[str, str]]) -> None:
    width = max(len(f"{r.service} {r.method} {r.path}") for r in rows)
    heading = f"{'endpoint':<{width}} | " + " | ".join(f"{c:>11}" for c in CALLERS)
    print("\nAuthorization matrix (observed; * marks a cell that differs from the expected)")
    print(heading)
    print("-" * len(heading))
    for row in rows:
        cells = seen[(row.service, row.method, row.path)]
        shown = [f"{cells[c] + ('*' if cells[c] != row.expected[c] else ''):>11}" for c in CALLERS]
        print(f"{row.service + ' ' + row.method + ' ' + row.path:<{width}} | " + " | ".join(shown))


async def test_every_endpoint_answers_every_kind_of_token_as_expected_and_leaks_nothing(
    kafka_settings: KafkaSettings, postgres_settings: PostgresSettings, tmp_path: Path
) -> None:
    await ensure_topics(kafka_settings)
    pool = await asyncpg.create_pool(
        postgres_settings.dsn.get_secret_value(), min_size=1, max_size=2
    )
    try:
        alfa, beta = await seed(pool)
    finally:
        await pool.close()
    # Both connector forms belong to alfa's organisation.
    connectors = tmp_path / "connectors.toml"
    text = (ROOT / "services" / "intake" / "connectors.toml").read_text(encoding="utf-8")
    for organisation in ("caw-oost-vlaanderen", "samenlevingsopbouw-antwerpen"):
        text = text.replace(f'"{organisation}"', f'"{alfa.organisation_id}"')
    connectors.write_text(text, encoding="utf-8")
    intake_settings = IntakeSettings(
        kafka=kafka_settings,
        postgres=postgres_settings,
        port=free_port(),
        connectors_file=connectors,
        rate_limit_per_s=1e6,
        rate_limit_burst=1_000_000,
    )
    api_settings = AggregatorSettings(
        kafka=kafka_settings, postgres=postgres_settings, api_port=free_port()
    )
    intake_app = create_intake(intake_settings)
    api_app = create_api(api_settings, scrub=lambda text: scrub(text).text)

    rows = INTAKE_ROWS + AGGREGATOR_ROWS
    # Every route has a row and every row a route: a new endpoint cannot slip past this test.
    for service, app, service_rows in (
        ("intake", intake_app, INTAKE_ROWS),
        ("aggregator", api_app, AGGREGATOR_ROWS),
    ):
        declared = declared_routes(app.routes)
        covered = {(r.method, r.path) for r in service_rows}
        assert declared - covered == set(), f"{service} endpoints without a matrix row"
        assert covered - declared == set(), f"{service} matrix rows without an endpoint"

    seen: dict[tuple[str, str, str], dict[str, str]] = {}
    bodies: dict[tuple[str, str], str] = {}
    leaks: list[str] = []
    async with (
        running_intake(intake_settings) as intake_url,
        serving(api_app, api_settings.api_port, what="aggregator API") as api_url,
    ):
        urls = {"intake": intake_url, "aggregator": api_url}
        for row in rows:
            async with httpx.AsyncClient(base_url=urls[row.service], timeout=60) as client:
                cells = seen.setdefault((row.service, row.method, row.path), {})
                for caller in CALLERS:
                    spec = row.request(alfa)
                    response = await client.request(
                        row.method, headers=headers_of(caller, alfa, beta), **spec
                    )
                    cells[caller] = cell_of(response)
                    body = response.content.decode("utf-8", errors="replace")
                    bodies[(row.path, caller)] = body
                    for marker in foreign_markers(caller, alfa, beta):
                        if marker in body:
                            leaks.append(f"{row.method} {row.path} as {caller}: {marker}")
    print_matrix(rows, seen)
    wrong = [
        f"{r.service} {r.method} {r.path} as {c}: got {seen[(r.service, r.method, r.path)][c]},"
        f" expected {r.expected[c]}"
        for r in rows
        for c in CALLERS
        if seen[(r.service, r.method, r.path)][c] != r.expected[c]
    ]
    assert wrong == []
    assert leaks == []
    # The marker search can only fail if markers reach responses at all: the own callers see
    # their own data, so a search for the other tenant's would find it were it there.
    bundle = "/v1/steering-groups/{steering_group_id}/bundles/{bundle_id}"
    assert alfa.marker in bodies[(bundle, "own_group")]  # an example text
    assert alfa.signal_ids[0] in bodies[("/v1/feedback", "own_org")]
    assert beta.signal_ids[0] in bodies[("/v1/feedback", "other_org")]
    assert alfa.organisation_id in bodies[("/v1/audit", "own_coord")]
    assert beta.organisation_id in bodies[("/v1/audit", "other_coord")]
