"""Intake composition root: the FastAPI app, its Kafka producer and the HTTP routes.

Delivery promise: a 202 is sent only after Kafka acknowledged the record with acks=all.
When Kafka cannot be reached the answer is 503 with Retry-After, and the client retries
with the same ``signal_id`` — the same event again, which every consumer absorbs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated, Literal, Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

import structlog
from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.topics import municipality_key
from schemas.v1 import RedactionCountV1, SignalSubmissionV1, signal_submitted_event
from services.common.kafka import (
    EventPublisher,
    Outgoing,
    Publisher,
    create_broker,
    ensure_topics,
)
from services.intake.domain.acceptance import SubmissionRejectedError, accept_submission
from services.intake.errors import ErrorBody, FieldProblem, field_problems
from services.intake.form import router as form_router
from services.intake.settings import IntakeSettings

log = structlog.get_logger(__name__)

# Reporters work in Flanders: "today" for the observed date is Brussels' today, not UTC's.
_LOCAL_TIME = ZoneInfo("Europe/Brussels")


class AcceptedBody(BaseModel):
    signal_id: UUID
    status: Literal["aanvaard"] = "aanvaard"
    received_at: datetime
    redactions: list[RedactionCountV1] = Field(
        description="Personal data removed from the text before it was passed on (kinds, counts)."
    )
    message: str = Field(description="Confirmation in Dutch for the reporter.")


class KafkaLink:
    """The producer connection, (re)established in the background.

    Intake must come up and answer (503) even while Kafka is down, so connecting is never
    allowed to block start-up.
    """

    def __init__(self, settings: IntakeSettings) -> None:
        self._settings = settings
        self.broker = create_broker(settings.kafka, client_id="intake")
        self.publisher = EventPublisher(self.broker, timeout_s=settings.publish_timeout_s)
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect_forever(), name="intake-kafka-connect")

    async def _connect_forever(self) -> None:
        delay = 0.5
        while True:
            try:
                await ensure_topics(
                    self._settings.kafka, timeout_s=self._settings.publish_timeout_s
                )
                await self.broker.start()
            except Exception as exc:  # noqa: BLE001 - any failure here means "try again later"
                log.warning("kafka.unreachable", error=type(exc).__name__, retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            self.connected.set()
            log.info("kafka.connected")
            return

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.broker.stop()


class BodySizeLimit:
    """Refuse bodies over the limit with 413 without reading them whole.

    A declared Content-Length is checked before anything is read. A chunked body is read up to
    the limit (never more is held in memory) and then either refused or handed on; FastAPI
    itself would turn an error raised while it reads the body into a vague 400.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                await _too_large(self.max_bytes)(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[Message] = []
        size = 0
        while True:
            message = await receive()
            chunks.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await _too_large(self.max_bytes)(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)


def _too_large(max_bytes: int) -> JSONResponse:
    return _error(
        413,
        "payload_too_large",
        f"Het verzoek is te groot: hoogstens {max_bytes} bytes.",
    )


def _error(
    status: int,
    error: str,
    message: str,
    problems: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(error=error, message=message, problems=problems or [])
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _unavailable(retry_after_s: int) -> JSONResponse:
    return _error(
        503,
        "kafka_unavailable",
        "Seinpost kan het signaal nu niet doorgeven. Probeer later opnieuw met hetzelfde "
        "signal_id; er ontstaat dan geen dubbel signaal.",
        headers={"Retry-After": str(retry_after_s)},
    )


def _confirmation(redactions: list[RedactionCountV1]) -> str:
    if not redactions:
        return "Signaal ontvangen. Bedankt!"
    removed = ", ".join(f"{r.count} × {r.kind.value}" for r in redactions)
    return f"Signaal ontvangen. We haalden persoonsgegevens uit de tekst: {removed}."


class Link(Protocol):
    """What the routes need of the Kafka connection (unit tests use a fake)."""

    @property
    def publisher(self) -> Publisher: ...

    @property
    def connected(self) -> asyncio.Event: ...

    def start(self) -> None: ...

    async def stop(self) -> None: ...


def create_app(
    settings: IntakeSettings | None = None,
    *,
    link_factory: Callable[[IntakeSettings], Link] = KafkaLink,
) -> FastAPI:
    settings = settings or IntakeSettings()
    link_holder: dict[str, Link] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        link = link_factory(settings)
        link_holder["link"] = link
        link.start()
        try:
            yield
        finally:
            await link.stop()

    app = FastAPI(
        title="Seinpost intake",
        version="1",
        summary="Signalen van het terrein, veilig en zonder persoonsgegevens doorgegeven.",
        lifespan=lifespan,
        responses={
            422: {"model": ErrorBody, "description": "Ongeldige invoer: veld en reden."},
            413: {"model": ErrorBody, "description": "Verzoek te groot."},
        },
    )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(
            422,
            "validation_failed",
            "Het signaal is niet volledig of niet geldig; zie de velden hieronder.",
            field_problems(exc.errors()),
        )

    @app.post(
        "/v1/signals",
        status_code=202,
        response_model=AcceptedBody,
        responses={503: {"model": ErrorBody, "description": "Kafka onbereikbaar; probeer later."}},
        summary="Een signaal indienen",
    )
    async def submit_signal(
        submission: Annotated[SignalSubmissionV1, Body()],
    ) -> AcceptedBody | JSONResponse:
        received_at = datetime.now(UTC)
        with structlog.contextvars.bound_contextvars(signal_id=str(submission.signal_id)):
            try:
                signal = accept_submission(
                    submission,
                    received_at=received_at,
                    today=received_at.astimezone(_LOCAL_TIME).date(),
                    future_tolerance_days=settings.observed_on_tolerance_days,
                )
            except SubmissionRejectedError as rejected:
                log.info("signal.rejected", problems=[code for _, code, _ in rejected.problems])
                return _error(
                    422,
                    "validation_failed",
                    "Het signaal is niet geldig; zie de velden hieronder.",
                    [FieldProblem(field=f, code=c, message=m) for f, c, m in rejected.problems],
                )
            link = link_holder["link"]
            if not link.connected.is_set():
                log.warning("signal.not_accepted", reason="kafka_not_connected")
                return _unavailable(settings.retry_after_s)
            try:
                await link.publisher.publish(
                    Outgoing(
                        settings.kafka.submitted_topic,
                        municipality_key(signal.municipality),
                        signal_submitted_event(signal),
                    )
                )
            except Exception as exc:  # noqa: BLE001 - every publish failure is a 503 to the client
                log.warning("signal.not_accepted", reason=type(exc).__name__)
                return _unavailable(settings.retry_after_s)
            log.info(
                "signal.accepted",
                municipality=signal.municipality,
                redactions={r.kind.value: r.count for r in signal.redactions},
            )
            return AcceptedBody(
                signal_id=signal.signal_id,
                received_at=received_at,
                redactions=signal.redactions,
                message=_confirmation(signal.redactions),
            )

    @app.get("/healthz", summary="Leeft de dienst?")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Kan de dienst signalen doorgeven?")
    async def readyz() -> JSONResponse:
        link = link_holder.get("link")
        ready = link is not None and link.connected.is_set()
        return JSONResponse(
            {"status": "ready" if ready else "kafka_unavailable"}, status_code=200 if ready else 503
        )

    app.include_router(form_router)  # the phone form at /formulier/
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app


async def serve(settings: IntakeSettings | None = None) -> None:
    import uvicorn

    from services.common.logging import configure_logging

    settings = settings or IntakeSettings()
    configure_logging("intake", settings.logging)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,  # our structlog handler formats uvicorn's records too
        access_log=False,  # access lines would repeat what signal.accepted says, less carefully
    )
    await uvicorn.Server(config).serve()
