"""The aggregator's HTTP API: bundles, themes, decisions, feedback and corrections.

Access: a steering group's token reads and decides only for its own group; an organisation's
token reads feedback on its own signals only; a network coordinator's token reads its network's
audit log and corrects signals in its steering groups' areas; no token is a 401. Exports,
decisions and corrections are written to the audit log (``services.common.access.audit``).

Decisions and corrections are events. The API answers 202 only after Kafka acknowledged the
event (as intake does for signals); the aggregator's consumer stores decisions in PostgreSQL,
so a replay of ``seinpost.decisions.v1`` rebuilds the decision history exactly. The topic is
the source of truth, which is why the API does not write the table itself.
"""

# No `from __future__ import annotations`: FastAPI evaluates the route annotations.

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

import structlog
import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from faststream.kafka import KafkaBroker
from faststream.specification import Specification
from faststream.specification.asyncapi.site import get_asyncapi_html
from pydantic import BaseModel, ConfigDict, Field

from schemas.topics import municipality_key
from schemas.v1 import (
    DECISION_STATUS_LABELS,
    CorrectionV1,
    DecisionRecordedEventV1,
    DecisionStatus,
    DecisionV1,
    SignalCorrectedEventV1,
    Slug,
    correction_event,
    decision_event,
)
from schemas.vocabulary import LIFE_DOMAIN_LABELS
from services.aggregator.domain.render import render_html
from services.aggregator.rendering import html_to_pdf
from services.aggregator.settings import AggregatorSettings
from services.aggregator.storage import PostgresSignalStore, SteeringGroup, migrate
from services.common.access import (
    AUDIT,
    BUNDLES,
    CORRECTIONS,
    DECISIONS,
    FEEDBACK,
    AccessDeniedError,
    AccessStore,
    Actor,
    AuditEntry,
    CachedAuthenticator,
    Principal,
    PrincipalKind,
    audit,
    install_access_errors,
    principal_dependency,
    require_scope,
)
from services.common.kafka import EventPublisher, Outgoing, create_broker, ensure_topics
from services.common.logging import configure_logging
from services.common.metrics import (
    CONTENT_TYPE,
    HttpMetrics,
    MeteredPublisher,
    MetricsMiddleware,
    PublishMetrics,
    ReadyMetric,
    exposition,
    service_registry,
)
from services.common.postgres import create_pool

log = structlog.get_logger(__name__)

TAXONOMY_ID = "seinpost_v1"

Scrub = Callable[[str], str]
AsyncApiDocument = Callable[[], Specification]


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision_id: uuid.UUID | None = Field(
        default=None, description="Choose it yourself to make a retry safe; otherwise we do."
    )
    status: DecisionStatus
    owner: str | None = Field(default=None, max_length=120, description="Trekker.")
    note: str | None = Field(default=None, max_length=2000)


class CorrectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    correction_id: uuid.UUID | None = None
    domains: list[Slug] = Field(min_length=1, max_length=12, description="Primary first.")
    reason: str | None = Field(default=None, max_length=500)
    corrected_by_role: Slug = "coordinator"


class Accepted(BaseModel):
    id: uuid.UUID
    status: str = "accepted"


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": code, "message": message, "problems": []}, status_code=status, headers=headers
    )


class _ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


def _own_group(principal: Principal, steering_group_id: str, scope: str) -> None:
    if principal.kind is not PrincipalKind.STEERING_GROUP:
        raise AccessDeniedError.forbidden(
            "not_a_steering_group", "Alleen een stuurgroep kan dit lezen of beslissen."
        )
    if principal.subject != steering_group_id:
        raise AccessDeniedError.forbidden(
            "other_steering_group", "Deze toegangssleutel hoort bij een andere stuurgroep."
        )
    require_scope(principal, scope)


def _decision_json(decision: DecisionV1 | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {
        "decision_id": str(decision.decision_id),
        "status": decision.status.value,
        "status_label": DECISION_STATUS_LABELS[decision.status],
        "owner": decision.owner,
        "note": decision.note,
        "decided_at": decision.decided_at.isoformat(),
        "bundle_id": str(decision.bundle_id) if decision.bundle_id else None,
    }


def api_broker(settings: AggregatorSettings) -> KafkaBroker:
    """The API's broker, with what it publishes declared for the AsyncAPI document."""
    broker = create_broker(settings.kafka, client_id="aggregator-api")
    broker.publisher(
        settings.kafka.decisions_topic,
        schema=DecisionRecordedEventV1,
        title="aggregator_api.publishes_decisions",
        description="A steering group's decision on a theme (POST .../themes/{theme_id}/"
        "decisions), published before the API answers 202. The topic is the decision "
        "history's source of truth. Key: the steering group.",
    )
    broker.publisher(
        settings.kafka.corrections_topic,
        schema=SignalCorrectedEventV1,
        title="aggregator_api.publishes_corrections",
        description="A person's correction of a signal's life domains (POST /v1/signals/"
        "{signal_id}/corrections), scrubbed of personal data. Key: the municipality.",
    )
    return broker


def create_api(
    settings: AggregatorSettings, *, scrub: Scrub, asyncapi: AsyncApiDocument | None = None
) -> FastAPI:
    """``scrub`` removes personal data from free text (a correction's reason, a note);
    ``asyncapi`` builds the event contract's AsyncAPI document, served at /asyncapi.json."""
    state: dict[str, Any] = {}
    registry = service_registry()
    http_metrics = HttpMetrics(registry, prefix="seinpost_aggregator_api")
    publish_metrics = PublishMetrics(registry)
    ready_metric = ReadyMetric(registry)
    broker = api_broker(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(settings.postgres)
        async with pool.acquire() as connection:
            await migrate(connection)
        access = AccessStore(pool)
        await access.migrate()
        await ensure_topics(settings.kafka)
        await broker.start()
        state["pool"] = pool
        state["store"] = PostgresSignalStore(pool)
        state["authenticator"] = CachedAuthenticator(access)
        state["publisher"] = MeteredPublisher(
            EventPublisher(broker, timeout_s=settings.publish_timeout_s),
            publish_metrics,
            dead_letter_topic=settings.kafka.dead_letter_topic,
        )
        try:
            yield
        finally:
            state.clear()  # unready while shutting down
            await broker.stop()
            await pool.close()

    app = FastAPI(
        title="Seinpost aggregator",
        version="1",
        summary="Beleidsbundels, thema's, beslissingen en terugkoppeling.",
        lifespan=lifespan,
    )
    app.state.metrics_registry = registry
    install_access_errors(app)
    authenticated = principal_dependency(lambda _: state["authenticator"])
    Authenticated = Annotated[Principal, Depends(authenticated)]  # noqa: N806

    def store() -> PostgresSignalStore:
        value: PostgresSignalStore = state["store"]
        return value

    @app.exception_handler(_ApiError)
    async def _api_error(_: Request, exc: _ApiError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                "code": str(e.get("type", "value_error")),
                "message": "ongeldige waarde",
            }
            for e in exc.errors()
        ]
        return JSONResponse(
            {
                "error": "invalid_request",
                "message": "Het verzoek is ongeldig.",
                "problems": problems,
            },
            status_code=422,
        )

    async def publish(outgoing: Outgoing) -> None:
        try:
            await state["publisher"].publish(outgoing)
        except (TimeoutError, OSError) as exc:
            log.warning("api.publish_failed", topic=outgoing.topic, error=type(exc).__name__)
            raise _ApiError(
                503, "kafka_unavailable", "Tijdelijk niet bewaard; probeer opnieuw."
            ) from None

    async def audited(entry: AuditEntry) -> None:
        await audit.record(state["pool"], entry)

    async def exported(principal: Principal, bundle_id: uuid.UUID, form: str) -> None:
        await audited(
            AuditEntry(
                audit.BUNDLE_EXPORTED,
                Actor.of(principal),
                principal.kind.value,
                principal.subject,
                target=str(bundle_id),
                details={"format": form},
            )
        )

    async def group_of(steering_group_id: str) -> SteeringGroup:
        group = await store().steering_group(steering_group_id)
        if group is None:
            raise _ApiError(404, "steering_group_unknown", "Deze stuurgroep bestaat niet.")
        return group

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """Ready when PostgreSQL answers and Kafka answers a metadata request."""
        pool = state.get("pool")
        postgres = kafka = False
        if pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pool.fetchval("SELECT 1"), timeout=3)
                postgres = True
            with contextlib.suppress(Exception):
                kafka = bool(await broker.ping(timeout=2))
        ready = postgres and kafka
        ready_metric.ready.set(1 if ready else 0)
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "kafka": kafka, "postgres": postgres},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(exposition(registry), media_type=CONTENT_TYPE)

    if asyncapi is not None:
        document = asyncapi

        @app.get("/asyncapi.json", include_in_schema=False)
        async def asyncapi_json() -> JSONResponse:
            """The event contract: every topic, its events and their schemas (AsyncAPI 3)."""
            return JSONResponse(document().to_jsonable())

        @app.get("/asyncapi", include_in_schema=False)
        async def asyncapi_page() -> HTMLResponse:
            # FastStream's page: AsyncAPI's React component, loaded by the reader's browser.
            return HTMLResponse(get_asyncapi_html(document(), try_it_out_path=None))

    @app.get("/v1/steering-groups/{steering_group_id}/bundles")
    async def list_bundles(steering_group_id: str, principal: Authenticated) -> dict[str, Any]:
        _own_group(principal, steering_group_id, BUNDLES)
        group = await group_of(steering_group_id)
        base = f"/v1/steering-groups/{steering_group_id}/bundles"
        return {
            "steering_group_id": group.steering_group_id,
            "name": group.name,
            "bundles": [
                {
                    "bundle_id": str(b.bundle_id),
                    "version": b.version,
                    "period_start": b.period_start.isoformat(),
                    "period_end": b.period_end.isoformat(),
                    "compiled_at": b.compiled_at.isoformat(),
                    "published": b.published_at is not None,
                    "trigger": b.trigger,
                    "links": {
                        "json": f"{base}/{b.bundle_id}",
                        "html": f"{base}/{b.bundle_id}/html",
                        "pdf": f"{base}/{b.bundle_id}/pdf",
                    },
                }
                for b in await store().bundles_of(steering_group_id)
            ],
        }

    async def own_bundle(steering_group_id: str, bundle_id: uuid.UUID) -> Any:
        stored = await store().bundle(bundle_id)
        if stored is None or stored.steering_group_id != steering_group_id:
            raise _ApiError(404, "bundle_unknown", "Deze bundel bestaat niet voor deze stuurgroep.")
        return stored

    @app.get("/v1/steering-groups/{steering_group_id}/bundles/{bundle_id}")
    async def get_bundle(
        steering_group_id: str, bundle_id: uuid.UUID, principal: Authenticated
    ) -> Response:
        _own_group(principal, steering_group_id, BUNDLES)
        stored = await own_bundle(steering_group_id, bundle_id)
        await exported(principal, bundle_id, "json")
        return Response(stored.bundle.model_dump_json(), media_type="application/json")

    @app.get("/v1/steering-groups/{steering_group_id}/bundles/{bundle_id}/html")
    async def get_bundle_html(
        steering_group_id: str, bundle_id: uuid.UUID, principal: Authenticated
    ) -> HTMLResponse:
        _own_group(principal, steering_group_id, BUNDLES)
        stored = await own_bundle(steering_group_id, bundle_id)
        await exported(principal, bundle_id, "html")
        return HTMLResponse(stored.html or render_html(stored.bundle))

    @app.get("/v1/steering-groups/{steering_group_id}/bundles/{bundle_id}/pdf")
    async def get_bundle_pdf(
        steering_group_id: str, bundle_id: uuid.UUID, principal: Authenticated
    ) -> Response:
        _own_group(principal, steering_group_id, BUNDLES)
        stored = await own_bundle(steering_group_id, bundle_id)
        pdf = await pdf_of(stored)
        await exported(principal, bundle_id, "pdf")
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="beleidsbundel-{bundle_id}.pdf"'},
        )

    async def pdf_of(stored: Any) -> bytes:
        # Rendering is CPU-bound and synchronous: keep it off the event loop.
        return await asyncio.to_thread(html_to_pdf, stored.html or render_html(stored.bundle))

    @app.get("/v1/steering-groups/{steering_group_id}/themes")
    async def list_themes(steering_group_id: str, principal: Authenticated) -> dict[str, Any]:
        _own_group(principal, steering_group_id, BUNDLES)
        await group_of(steering_group_id)
        return {
            "steering_group_id": steering_group_id,
            "themes": [
                {
                    "theme_id": t.theme_id,
                    "label": t.label,
                    "domain": t.domain,
                    "signal_count": t.signal_count,
                    "bundle_id": str(t.bundle_id),
                    "bundle_version": t.version,
                    "period_start": t.period_start.isoformat(),
                    "period_end": t.period_end.isoformat(),
                    "decision": _decision_json(t.decision),
                }
                for t in await store().themes_of(steering_group_id)
            ],
        }

    @app.get("/v1/steering-groups/{steering_group_id}/themes/{theme_id}/decisions")
    async def decision_history(
        steering_group_id: str, theme_id: str, principal: Authenticated
    ) -> dict[str, Any]:
        _own_group(principal, steering_group_id, BUNDLES)
        history = await store().decision_history(steering_group_id, theme_id)
        return {
            "theme_id": theme_id,
            "current": _decision_json(history[-1]) if history else None,
            "history": [_decision_json(d) for d in history],
        }

    @app.post(
        "/v1/steering-groups/{steering_group_id}/themes/{theme_id}/decisions", status_code=202
    )
    async def record_decision(
        steering_group_id: str, theme_id: str, body: DecisionRequest, principal: Authenticated
    ) -> Accepted:
        _own_group(principal, steering_group_id, DECISIONS)
        bundle_id = await store().theme_bundle(steering_group_id, theme_id)
        if bundle_id is None:
            raise _ApiError(
                404, "theme_unknown", "Dit thema staat in geen bundel van de stuurgroep."
            )
        decision = DecisionV1(
            decision_id=body.decision_id or uuid.uuid4(),
            steering_group_id=steering_group_id,
            theme_id=theme_id,
            bundle_id=bundle_id,
            status=body.status,
            owner=scrub(body.owner) if body.owner else None,
            note=scrub(body.note) if body.note else None,
            decided_at=datetime.now(UTC),
        )
        await publish(
            Outgoing(
                settings.kafka.decisions_topic,
                steering_group_id.encode(),
                decision_event(decision),
            )
        )
        await audited(
            AuditEntry(
                audit.DECISION_REQUESTED,
                Actor.of(principal),
                principal.kind.value,
                principal.subject,
                target=f"{theme_id}",
                details={"status": decision.status.value, "bundle_id": str(bundle_id)},
                event_id=decision.decision_id,
            )
        )
        log.info(
            "decision.accepted",
            decision_id=str(decision.decision_id),
            steering_group_id=steering_group_id,
            theme_id=theme_id,
        )
        return Accepted(id=decision.decision_id)

    @app.get("/v1/feedback")
    async def feedback(principal: Authenticated) -> dict[str, Any]:
        if principal.kind is not PrincipalKind.ORGANISATION:
            raise AccessDeniedError.forbidden(
                "not_an_organisation", "Terugkoppeling is er voor organisaties die signaleren."
            )
        require_scope(principal, FEEDBACK)
        signals: dict[uuid.UUID, dict[str, Any]] = {}
        for row in await store().feedback(principal.subject):
            item = signals.setdefault(
                row.signal_id,
                {
                    "signal_id": str(row.signal_id),
                    "observed_on": row.observed_on.isoformat(),
                    "themes": [],
                },
            )
            if row.theme_id is not None:
                item["themes"].append(
                    {
                        "steering_group": row.steering_group_name,
                        "period_start": _iso(row.period_start),
                        "period_end": _iso(row.period_end),
                        "theme_id": row.theme_id,
                        "label": row.theme_label,
                        "domain": row.domain,
                        "decision": _decision_json(row.decision),
                    }
                )
        return {"organisation": principal.subject, "signals": list(signals.values())}

    @app.post("/v1/signals/{signal_id}/corrections", status_code=202)
    async def correct(
        signal_id: uuid.UUID, body: CorrectionRequest, principal: Authenticated
    ) -> Accepted:
        if principal.kind not in (PrincipalKind.STEERING_GROUP, PrincipalKind.COORDINATOR):
            raise AccessDeniedError.forbidden(
                "not_a_steering_group", "Alleen een coördinator of stuurgroep kan corrigeren."
            )
        require_scope(principal, CORRECTIONS)
        unknown = [d for d in body.domains if d not in LIFE_DOMAIN_LABELS]
        if unknown or len(set(body.domains)) != len(body.domains):
            raise _ApiError(
                422, "domains_invalid", "Onbekend of herhaald levensdomein: " + ", ".join(unknown)
            )
        if principal.kind is PrincipalKind.COORDINATOR:
            # A coordinator's area is the union of their network's steering groups' areas.
            groups = [
                g for g in await store().steering_groups() if g.network_id == principal.subject
            ]
        else:
            group = await store().steering_group(principal.subject)
            groups = [group] if group is not None else []
        signal = await store().submitted_signal(signal_id)
        if signal is None or not any(
            g.covers(signal.municipality, signal.neighbourhood) for g in groups
        ):
            # Outside the area looks the same as unknown: whether a signal id exists elsewhere
            # is itself another tenant's information.
            raise _ApiError(404, "signal_unknown", "Dit signaal is (nog) niet bekend.")
        correction = CorrectionV1(
            correction_id=body.correction_id or uuid.uuid4(),
            signal=signal,
            domains=body.domains,
            corrected_by_role=body.corrected_by_role,
            corrected_at=datetime.now(UTC),
            reason=scrub(body.reason) if body.reason else None,
            taxonomy_id=TAXONOMY_ID,
        )
        await publish(
            Outgoing(
                settings.kafka.corrections_topic,
                municipality_key(signal.municipality),
                correction_event(correction),
            )
        )
        await audited(
            AuditEntry(
                audit.CORRECTION_REQUESTED,
                Actor.of(principal),
                principal.kind.value,
                principal.subject,
                target=str(signal_id),
                details={"domains": list(body.domains), "role": body.corrected_by_role},
                event_id=correction.correction_id,
            )
        )
        log.info(
            "correction.accepted",
            correction_id=str(correction.correction_id),
            signal_id=str(signal_id),
        )
        return Accepted(id=correction.correction_id)

    @app.get("/v1/audit")
    async def audit_log(
        principal: Authenticated, action: str | None = None, limit: int = 500
    ) -> dict[str, Any]:
        """The audit log of the coordinator's own network, newest first."""
        if principal.kind is not PrincipalKind.COORDINATOR:
            raise AccessDeniedError.forbidden(
                "not_a_coordinator", "Alleen de coördinator van het netwerk leest het auditlog."
            )
        require_scope(principal, AUDIT)
        entries = await audit.list_entries(
            state["pool"],
            network_id=principal.subject,
            action=action,
            limit=max(1, min(limit, 5000)),
        )
        return {"network_id": principal.subject, "entries": [e.as_json() for e in entries]}

    app.add_middleware(MetricsMiddleware, metrics=http_metrics)
    return app


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


async def serve(
    settings: AggregatorSettings, *, scrub: Scrub, asyncapi: AsyncApiDocument | None = None
) -> None:
    configure_logging("aggregator-api", settings.logging)
    server = uvicorn.Server(
        uvicorn.Config(
            create_api(settings, scrub=scrub, asyncapi=asyncapi),
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,
            access_log=False,
        )
    )
    await server.serve()
