"""Intake composition root: the FastAPI app, its Kafka producer, its database and the routes.

Delivery promise: a 2xx is sent only after Kafka acknowledged the record with acks=all.
When Kafka cannot be reached the answer is 503 with Retry-After, and the client retries
with the same ``signal_id`` — the same event again, which every consumer absorbs.
The acceptance path itself (validation, idempotency, publishing) is in ``submissions``.
"""

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Final, Protocol

import orjson
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner, murmur2
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from starlette.types import Receive, Scope, Send

from schemas.v1 import RedactionCountV1, SignalSubmissionV1
from services.common.access import (
    SUBMIT,
    AccessDeniedError,
    AccessStore,
    Authenticator,
    CachedAuthenticator,
    Principal,
    install_access_errors,
    principal_dependency,
    require_scope,
)
from services.common.asgi import BodySizeLimit, too_large
from services.common.events import encode_event
from services.common.kafka import (
    Outgoing,
    Publisher,
    client_security,
    ensure_topics,
    event_headers,
)
from services.common.postgres import create_pool, reset_only_open_transactions
from services.intake.domain.options import IntakeOptions, parse_options
from services.intake.domain.privacy import scrub
from services.intake.domain.ratelimit import TokenBuckets
from services.intake.errors import ErrorBody, FieldProblem, field_problems
from services.intake.form import router as form_router
from services.intake.metrics import IntakeMetrics, MetricsMiddleware
from services.intake.settings import IntakeSettings
from services.intake.storage import PostgresSubmissionStore, SubmissionStore
from services.intake.submissions import (
    AcceptedBody,
    IntakeService,
    Outcome,
    Result,
    invalid,
    unavailable,
)

log = structlog.get_logger(__name__)

__all__ = ["AcceptedBody", "create_app", "run", "serve"]


class ProducerPublisher:
    """Publishes with a plain aiokafka producer and returns once Kafka acknowledged.

    Intake only produces, so it needs no FastStream broker: the producer's own send path is
    the fastest way to an acknowledgement. With ``linger_s``, records wait until the first of
    them is that old and are then handed to the producer together (its own linger is 0), so
    that one produce request carries every partition's records of that window. The producer's
    linger counts per partition: with signals spread over a few municipality partitions, it
    gathered next to nothing at moderate rates, and the broker's and the producer's cost is
    per partition batch (bench.bench_e2e: ~0.35 ms of broker CPU per signal at 500/s).
    """

    def __init__(self, producer: Any, *, timeout_s: float, linger_s: float = 0.0) -> None:
        self._producer = producer
        self._timeout_s = timeout_s
        self._linger_s = linger_s
        self._window: list[tuple[str, bytes, bytes, list[tuple[str, bytes]], asyncio.Future[Any]]]
        self._window = []
        self._timer: asyncio.TimerHandle | None = None
        self._sending: set[asyncio.Task[None]] = set()

    async def publish(self, outgoing: Outgoing) -> Any:
        headers = [(k, v.encode()) for k, v in event_headers(outgoing.event).items()]
        value = encode_event(outgoing.event)
        if self._linger_s <= 0:
            acknowledged = await self._producer.send(
                outgoing.topic, value, key=outgoing.key, headers=headers
            )
            return await asyncio.wait_for(acknowledged, timeout=self._timeout_s)
        return await asyncio.wait_for(
            self._publish_in_window(outgoing.topic, value, outgoing.key, headers),
            timeout=self._timeout_s,
        )

    async def _publish_in_window(
        self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> Any:
        loop = asyncio.get_running_loop()
        handed: asyncio.Future[Any] = loop.create_future()
        self._window.append((topic, value, key, headers, handed))
        if self._timer is None:
            self._timer = loop.call_later(self._linger_s, self._close_window)
        # A request that gives up (timeout) may still see its record sent: that is a 503 whose
        # retry publishes the same event again, which every consumer takes once (its id).
        return await (await handed)

    def _close_window(self) -> None:
        self._timer = None
        window, self._window = self._window, []
        task = asyncio.create_task(self._send_window(window))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send_window(
        self, window: list[tuple[str, bytes, bytes, list[tuple[str, bytes]], asyncio.Future[Any]]]
    ) -> None:
        # ``send`` does not yield while there is room in the producer's buffer, so the whole
        # window is in the accumulator before its sender task runs: one request per broker.
        for topic, value, key, headers, handed in window:
            try:
                acknowledged = await self._producer.send(topic, value, key=key, headers=headers)
            except Exception as exc:  # noqa: BLE001 - the waiting request answers 503
                if not handed.done():
                    handed.set_exception(exc)
            else:
                if handed.done():  # its request gave up meanwhile: nobody awaits the ack
                    acknowledged.add_done_callback(_consume_outcome)
                else:
                    handed.set_result(acknowledged)

    async def publish_all(self, items: Any) -> None:
        await asyncio.gather(*(self.publish(item) for item in items))


def _consume_outcome(future: asyncio.Future[Any]) -> None:
    # Retrieve a failure nobody awaits, so asyncio does not log it as never retrieved.
    if not future.cancelled():
        future.exception()


class KeyedPartitioner:
    """aiokafka's default partitioner with the murmur2 hash of each key remembered: intake's
    keys are municipalities (a few hundred), and aiokafka hashes in pure Python on every send.
    Same partition as ``DefaultPartitioner`` for every key and partition count."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self._index: dict[tuple[bytes, int], int] = {}
        self._max_keys = max_keys

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            return int(DefaultPartitioner()(key, all_partitions, available))
        count = len(all_partitions)
        index = self._index.get((key, count))
        if index is None:
            if len(self._index) >= self._max_keys:
                self._index.clear()
            index = self._index[(key, count)] = (murmur2(key) & 0x7FFFFFFF) % count
        return all_partitions[index]


class KafkaLink:
    """The producer connection, (re)established in the background.

    Intake must come up and answer (503) even while Kafka is down, so connecting is never
    allowed to block start-up. The producer loses nothing: acks=all and idempotence, as
    ``services.common.kafka.create_broker`` sets for the other services.
    """

    def __init__(self, settings: IntakeSettings) -> None:
        self._settings = settings
        self.producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka.bootstrap_servers,
            client_id=f"{settings.kafka.client_id}-intake",
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=settings.kafka.request_timeout_ms,
            # Records are gathered before they reach the producer (ProducerPublisher).
            linger_ms=0,
            partitioner=KeyedPartitioner(),
            **client_security(settings.kafka),
        )
        self.publisher = ProducerPublisher(
            self.producer,
            timeout_s=settings.publish_timeout_s,
            linger_s=settings.linger_ms / 1000,
        )
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
                await self.producer.start()
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
        with contextlib.suppress(Exception):
            await self.producer.stop()


class Link(Protocol):
    """What the routes need of the Kafka connection (unit tests use a fake)."""

    @property
    def publisher(self) -> Publisher: ...

    @property
    def connected(self) -> asyncio.Event: ...

    def start(self) -> None: ...

    async def stop(self) -> None: ...


class Backend(Protocol):
    """PostgreSQL-backed parts: idempotency claims and tokens (unit tests use in-memory twins)."""

    @property
    def store(self) -> SubmissionStore: ...

    @property
    def authenticator(self) -> Authenticator: ...

    @property
    def ready(self) -> asyncio.Event: ...

    def start(self) -> None: ...

    async def stop(self) -> None: ...


class _NotReady:
    """Stands in until PostgreSQL is reached: every call is a 503, never a crash."""

    async def authenticate(self, secret: str) -> Principal | None:
        raise ConnectionError("PostgreSQL not reached yet")

    async def reserve(self, reservation: Any) -> Any:
        raise ConnectionError("PostgreSQL not reached yet")

    def mark_published(self, signal_id: Any) -> None:
        raise ConnectionError("PostgreSQL not reached yet")

    async def ping(self) -> None:
        raise ConnectionError("PostgreSQL not reached yet")


class PostgresBackend:
    """Pool, migrations (access + intake) and the submissions writer, connected in the
    background like Kafka, so that intake starts (and answers 503) while PostgreSQL is down."""

    def __init__(self, settings: IntakeSettings) -> None:
        self._settings = settings
        self.ready = asyncio.Event()
        self.store: SubmissionStore = _NotReady()
        self.authenticator: Authenticator = _NotReady()
        self._postgres_store: PostgresSubmissionStore | None = None
        self._cached: CachedAuthenticator | None = None
        self._pool: Any = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._connect_forever(), name="intake-postgres"))

    async def _connect_forever(self) -> None:
        delay = 0.5
        while self._pool is None:
            try:
                # Intake keeps no session state on its connections (see the helper).
                pool = await create_pool(
                    self._settings.postgres, reset=reset_only_open_transactions
                )
                access = AccessStore(pool)
                await access.migrate()
                store = PostgresSubmissionStore(
                    pool,
                    writers=self._settings.claim_writers,
                    linger_s=self._settings.claim_linger_ms / 1000,
                )
                await store.migrate()
            except Exception as exc:  # noqa: BLE001 - any failure here means "try again later"
                log.warning("postgres.unreachable", error=type(exc).__name__, retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            self._pool = pool
            store.start()
            self._postgres_store = store
            self._cached = CachedAuthenticator(access, ttl_s=self._settings.token_cache_ttl_s)
            self.store, self.authenticator = store, self._cached
            self._tasks.append(asyncio.create_task(self._flush_usage(), name="intake-token-use"))
            self.ready.set()
            log.info("postgres.connected")

    async def _flush_usage(self) -> None:
        while True:
            await asyncio.sleep(60)
            if self._cached is not None:
                with contextlib.suppress(Exception):
                    await self._cached.flush_usage()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._postgres_store is not None:
            await self._postgres_store.close()
        if self._cached is not None:
            with contextlib.suppress(Exception):
                await self._cached.flush_usage()
        if self._pool is not None:
            await self._pool.close()


class SignalsFastPath:
    """Answers ``POST /v1/signals`` before FastAPI's middleware stack, routing, dependency
    solving and Request/Response objects: that machinery cost more CPU per signal than the
    idempotency claim and the Kafka send together. Nothing the full stack does is skipped:
    the body limit (413 from Content-Length, before anything else), the bearer token and its
    scope, the rate limit, the metrics by route template and status, and a 500 for an
    unexpected exception. A request without Content-Length (chunked) goes the full way, where
    ``BodySizeLimit`` reads it up to the limit and the route itself answers it."""

    TEMPLATE = "/v1/signals"

    def __init__(
        self,
        *,
        metrics: IntakeMetrics,
        max_bytes: int,
        authenticate: Callable[[bytes], Any],
        limiter: "RateLimiter",
        service: Callable[[], "IntakeService"],
    ) -> None:
        self._metrics = metrics
        self._max_bytes = max_bytes
        self._authenticate = authenticate
        self._limiter = limiter
        self._service = service
        self._children: dict[int, tuple[Any, Any]] = {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer the request and return True, or return False to let the full stack have it."""
        length = authorization = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"authorization":
                authorization = value
        if length is None or not length.isdigit():
            return False
        started = time.perf_counter()
        status = 500
        try:
            if int(length) > self._max_bytes:
                status, content, headers = _answer(too_large(self._max_bytes))
            else:
                answer = await self._accept(authorization or b"", receive)
                if answer is None:
                    return True  # the client went away before it finished sending
                status, content, headers = answer
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content})
        except Exception:
            # As Starlette's ServerErrorMiddleware: a plain 500 when nothing was sent yet, and
            # the exception on to the server, which logs it.
            if status == 500:
                with contextlib.suppress(Exception):
                    await send(
                        {"type": "http.response.start", "status": 500, "headers": _PLAIN_500}
                    )
                    await send({"type": "http.response.body", "body": b"Internal Server Error"})
            raise
        finally:
            self._observe(status, time.perf_counter() - started)
        return True

    async def _accept(
        self, authorization: bytes, receive: Receive
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]] | None:
        try:
            principal = await self._authenticate(authorization)
            self._limiter.check(principal)
        except AccessDeniedError as exc:
            return _answer(_access_denied(exc))
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        try:
            raw = orjson.loads(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        except orjson.JSONDecodeError:
            self._metrics.rejections.labels("json_invalid").inc()
            return _answer(_result_response(_JSON_INVALID))
        result = await self._service().submit(raw, principal, source="api")
        return _result_answer(result)

    def _observe(self, status: int, seconds: float) -> None:
        children = self._children.get(status)
        if children is None:
            labels = (self.TEMPLATE, "POST", str(status))
            children = (
                self._metrics.requests.labels(*labels),
                self._metrics.latency.labels(*labels),
            )
            self._children[status] = children
        children[0].inc()
        children[1].observe(seconds)


class IntakeApp(FastAPI):
    """FastAPI, with ``POST /v1/signals`` answered by ``SignalsFastPath`` in front of it."""

    fast_path: SignalsFastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast_path = self.fast_path
        if (
            fast_path is not None
            and scope["type"] == "http"
            and scope["path"] == SignalsFastPath.TEMPLATE
            and scope["method"] == "POST"
            and await fast_path.handle(scope, receive, send)
        ):
            return
        await super().__call__(scope, receive, send)


_PLAIN_500: Final = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"21")]
_JSON_TYPE: Final = (b"content-type", b"application/json")


def _answer(response: Response) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    return response.status_code, bytes(response.body), response.raw_headers


def _result_answer(result: "Result") -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    body: BaseModel | None = result.accepted if result.accepted is not None else result.error
    assert body is not None  # every Result carries an acceptance or an error
    content = body.model_dump_json().encode()
    headers = [(b"content-length", str(len(content)).encode()), _JSON_TYPE]
    for name, value in result.headers.items():
        headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return result.status, content, headers


_JSON_INVALID: Final = invalid(
    [FieldProblem(field="(body)", code="json_invalid", message="de inhoud is geen geldige JSON")]
)


def _access_denied(exc: AccessDeniedError) -> Response:
    return _json(
        exc.status, {"error": exc.code, "message": exc.message, "problems": []}, exc.headers
    )


class JsonBody(Response):
    media_type = "application/json"


def _json(
    status: int, body: BaseModel | dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    content = body.model_dump_json().encode() if isinstance(body, BaseModel) else orjson.dumps(body)
    return JsonBody(content, status_code=status, headers=headers)


def _error(
    status: int,
    error: str,
    message: str,
    problems: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return _json(status, ErrorBody(error=error, message=message, problems=problems or []), headers)


def _result_response(result: Result) -> Response:
    body: BaseModel | None = result.accepted if result.accepted is not None else result.error
    assert body is not None  # every Result carries an acceptance or an error
    return _json(result.status, body, dict(result.headers))


class BatchItemResult(BaseModel):
    index: int = Field(description="Position of the signal in the request (from 0).")
    signal_id: str | None = Field(description="The signal's id, when it could be read.")
    status: int = Field(description="What a single POST /v1/signals would have answered.")
    outcome: Outcome
    accepted: AcceptedBody | None = None
    error: ErrorBody | None = None


class BatchResponse(BaseModel):
    results: list[BatchItemResult] = Field(description="One result per signal, in request order.")


class PrivacyCheckRequest(BaseModel):
    model_config = {"extra": "forbid"}
    text: str = Field(max_length=10_000, description="The text the reporter is about to send.")


class PrivacyCheckResponse(BaseModel):
    contains_personal_data: bool
    redactions: list[RedactionCountV1]
    scrubbed_text: str = Field(description="The text as it would be passed on.")


class RateLimiter:
    def __init__(self, settings: IntakeSettings, clock: Callable[[], float] = time.monotonic):
        self._buckets = TokenBuckets(
            rate=settings.rate_limit_per_s, burst=settings.rate_limit_burst
        )
        self._clock = clock

    def check(self, principal: Principal, cost: int = 1) -> None:
        wait_s = self._buckets.take(principal.token_id, cost, self._clock())
        if wait_s > 0:
            retry_after = "3600" if math.isinf(wait_s) else str(max(1, math.ceil(wait_s)))
            raise AccessDeniedError(
                429,
                "rate_limited",
                "Te veel signalen na elkaar met deze toegangssleutel. Wacht even en probeer "
                "opnieuw met hetzelfde signal_id.",
                {"Retry-After": retry_after},
            )


def load_options(settings: IntakeSettings) -> IntakeOptions:
    return parse_options(settings.options_file.read_text(encoding="utf-8"))


SUBMISSION_EXAMPLE: dict[str, Any] = {
    "signal_id": "2f0c6a1e-8d4b-4c1f-9b7e-3a5d6c7e8f90",
    "observed_on": "2026-11-18",
    "text": "Drie ouders aan de schoolpoort kunnen de schooluitstap niet betalen.",
    "municipality": "Gent",
    "neighbourhood": "Rabot",
    "vindplaats": "schoolpoort",
    "reporter_role": "brugfiguur",
    "knowledge_type": "professionele_kennis",
    "target_group": {"age_bands": ["6-11"], "family_situations": ["eenoudergezin"]},
    "families_count": 3,
    "organisation": "basisschool-de-regenboog",
}

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Geen of een ongeldige toegangssleutel."},
    403: {"model": ErrorBody, "description": "Buiten het gebied van je organisatie."},
    413: {"model": ErrorBody, "description": "Verzoek te groot."},
    422: {"model": ErrorBody, "description": "Ongeldige invoer: veld en reden."},
    429: {"model": ErrorBody, "description": "Te veel verzoeken; zie Retry-After."},
    503: {"model": ErrorBody, "description": "Kafka of PostgreSQL onbereikbaar; zie Retry-After."},
}


_BEARER: dict[str, Any] = {"security": [{"HTTPBearer": []}]}


def _body_schema(model: str, examples: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{model}"},
                    "examples": examples,
                }
            },
        }
    }


def create_app(
    settings: IntakeSettings | None = None,
    *,
    link_factory: Callable[[IntakeSettings], Link] = KafkaLink,
    backend_factory: Callable[[IntakeSettings], Backend] = PostgresBackend,
    clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    settings = settings or IntakeSettings()
    options = load_options(settings)  # a broken options file stops start-up, loudly
    metrics = IntakeMetrics()
    limiter = RateLimiter(settings, clock)
    holder: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        link = link_factory(settings)
        backend = backend_factory(settings)
        holder["link"], holder["backend"] = link, backend
        holder["service"] = IntakeService(
            settings, options=options, store=_StoreOf(backend), kafka=link, metrics=metrics
        )
        link.start()
        backend.start()
        try:
            yield
        finally:
            await link.stop()
            await backend.stop()

    app = IntakeApp(
        title="Seinpost intake",
        version="1",
        summary="Signalen van het terrein, veilig en zonder persoonsgegevens doorgegeven.",
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    install_access_errors(app)

    def authenticator_of(_: Request) -> Authenticator:
        return _GuardedAuthenticator(holder["backend"], settings.retry_after_s)

    authenticated = principal_dependency(authenticator_of)

    async def submitter(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        require_scope(principal, SUBMIT)
        return principal

    Submitter = Annotated[Principal, Depends(submitter)]  # noqa: N806 - a type alias

    guarded = _GuardedAuthenticator(_BackendOf(holder), settings.retry_after_s)

    async def bearer_principal(authorization: str) -> Principal:
        """The same checks as the dependency, without FastAPI's dependency machinery: on the
        hot path its per-request cost was a measurable share of intake's CPU."""
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise AccessDeniedError.token_missing()
        principal = await guarded.authenticate(secret.strip())
        if principal is None:
            raise AccessDeniedError.token_invalid()
        require_scope(principal, SUBMIT)
        return principal

    async def bearer_submitter(request: Request) -> Principal:
        return await bearer_principal(request.headers.get("authorization", ""))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        metrics.rejections.labels("validation_failed").inc()
        return _error(
            422,
            "validation_failed",
            "Het verzoek is niet volledig of niet geldig; zie de velden hieronder.",
            field_problems(exc.errors()),
        )

    async def read_json(request: Request) -> tuple[Any, Response | None]:
        try:
            return orjson.loads(await request.body()), None
        except orjson.JSONDecodeError:
            metrics.rejections.labels("json_invalid").inc()
            return None, _result_response(_JSON_INVALID)

    @app.post(
        "/v1/signals",
        status_code=202,
        response_model=AcceptedBody,
        responses={
            200: {"model": AcceptedBody, "description": "Dit signaal was al aanvaard."},
            409: {"model": ErrorBody, "description": "Zelfde signal_id, andere inhoud."},
            **_ERRORS,
        },
        summary="Een signaal indienen",
        description="Answers 202 only after Kafka acknowledged the signal. The same signal_id "
        "with the same content again gets 200 and the original acceptance; with other content "
        "409. `organisation` may be left out: it is taken from the token.",
        openapi_extra=_BEARER
        | _body_schema(
            "SignalSubmissionV1",
            {"schoolpoort": {"summary": "Eén signaal", "value": SUBMISSION_EXAMPLE}},
        ),
    )
    async def submit_signal(request: Request) -> Response:
        principal = await bearer_submitter(request)
        limiter.check(principal)
        raw, error = await read_json(request)
        if error is not None:
            return error
        result = await holder["service"].submit(raw, principal, source="api")
        return _result_response(result)

    @app.post(
        "/v1/signals/batch",
        response_model=BatchResponse,
        responses={**_ERRORS},
        summary="Meerdere signalen tegelijk indienen",
        description=f"Up to `SEINPOST_INTAKE_BATCH_MAX_ITEMS` signals (default "
        f"{IntakeSettings.model_fields['batch_max_items'].default}); one result per signal, in "
        "order, with the status a single POST would have had. 503 for the whole batch when "
        "Kafka cannot be reached: retry it whole, the signals already accepted then answer 200.",
        openapi_extra=_BEARER
        | _body_schema(
            "BatchRequest",
            {
                "twee": {
                    "summary": "Twee signalen",
                    "value": {
                        "signals": [
                            SUBMISSION_EXAMPLE,
                            {
                                **SUBMISSION_EXAMPLE,
                                "signal_id": "6b1f7f0e-2c55-4c3e-9d5c-0a7f1e2b3c4d",
                                "municipality": "Antwerpen",
                                "neighbourhood": "Kiel",
                            },
                        ]
                    },
                }
            },
        ),
    )
    async def submit_batch(request: Request) -> Response:
        principal = await bearer_submitter(request)
        raw, error = await read_json(request)
        if error is not None:
            return error
        items = raw.get("signals") if isinstance(raw, dict) else None
        if not isinstance(items, list) or set(raw) != {"signals"}:
            metrics.rejections.labels("batch_invalid").inc()
            return _error(
                422,
                "validation_failed",
                'Verwacht: {"signals": [ … ]}.',
                [FieldProblem(field="signals", code="list_type", message="moet een lijst zijn")],
            )
        if len(items) > settings.batch_max_items:
            metrics.rejections.labels("batch_too_large").inc()
            return _error(
                422,
                "batch_too_large",
                f"Te veel signalen in één keer: hoogstens {settings.batch_max_items}.",
                [
                    FieldProblem(
                        field="signals",
                        code="batch_too_large",
                        message=f"hoogstens {settings.batch_max_items} signalen per verzoek",
                    )
                ],
            )
        limiter.check(principal, max(1, len(items)))
        link: Link = holder["link"]
        if not link.connected.is_set():
            return _result_response(unavailable(settings.retry_after_s))
        service: IntakeService = holder["service"]
        results = await asyncio.gather(
            *(service.submit(item, principal, source="batch") for item in items)
        )
        down = next((r for r in results if r.outcome is Outcome.UNAVAILABLE), None)
        if down is not None:
            return _result_response(down)
        return _json(
            200,
            BatchResponse(
                results=[
                    BatchItemResult(
                        index=index,
                        signal_id=str(r.signal_id) if r.signal_id is not None else None,
                        status=r.status,
                        outcome=r.outcome,
                        accepted=r.accepted,
                        error=r.error,
                    )
                    for index, r in enumerate(results)
                ]
            ),
        )

    @app.get(
        "/v1/form-config",
        summary="Keuzelijsten voor het formulier",
        description="Municipalities (limited to the token's area), neighbourhoods and the pick "
        "lists, from the options file (`SEINPOST_INTAKE_OPTIONS_FILE`).",
        responses={401: _ERRORS[401]},
    )
    async def form_config(
        principal: Annotated[Principal, Depends(authenticated)],
    ) -> dict[str, Any]:
        return options.form_config(principal.municipalities)

    @app.post(
        "/v1/privacy-check",
        response_model=PrivacyCheckResponse,
        summary="Bevat deze tekst persoonsgegevens?",
        description="Runs the scrubber on a text without storing, publishing or logging "
        "anything, so the form can warn before sending.",
        responses={401: _ERRORS[401], 422: _ERRORS[422], 429: _ERRORS[429]},
    )
    async def privacy_check(body: PrivacyCheckRequest, principal: Submitter) -> Response:
        limiter.check(principal)
        scrubbed = scrub(body.text)
        return _json(
            200,
            PrivacyCheckResponse(
                contains_personal_data=scrubbed.changed,
                redactions=scrubbed.counts(),
                scrubbed_text=scrubbed.text,
            ),
        )

    @app.get("/healthz", summary="Leeft de dienst?")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Kan de dienst signalen doorgeven?")
    async def readyz() -> JSONResponse:
        link: Link | None = holder.get("link")
        backend: Backend | None = holder.get("backend")
        kafka = link is not None and link.connected.is_set()
        database = backend is not None and backend.ready.is_set()
        ready = kafka and database
        metrics.ready.set(1 if ready else 0)
        status = (
            "ready" if ready else ("kafka_unavailable" if not kafka else "postgres_unavailable")
        )
        return JSONResponse(
            {"status": status, "kafka": kafka, "postgres": database},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", summary="Prometheus-metingen", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    from services.intake.connectors import connector_router

    app.include_router(connector_router(settings, holder, authenticated, limiter))

    app.include_router(form_router)  # the phone form at /formulier/
    app.openapi = lambda: intake_openapi(app)  # type: ignore[method-assign]
    app.fast_path = SignalsFastPath(
        metrics=metrics,
        max_bytes=settings.max_body_bytes,
        authenticate=lambda header: bearer_principal(header.decode("latin-1")),
        limiter=limiter,
        service=lambda: holder["service"],
    )
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger={"/v1/signals/batch": settings.batch_max_body_bytes},
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


class _StoreOf:
    """The backend's current store: it changes from "not ready" to PostgreSQL at connection."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def reserve(self, reservation: Any) -> Any:
        return await self._backend.store.reserve(reservation)

    def mark_published(self, signal_id: Any) -> None:
        self._backend.store.mark_published(signal_id)

    async def ping(self) -> None:
        await self._backend.store.ping()


class _BackendOf:
    """The backend of the running app (set at start-up, after the routes were made)."""

    def __init__(self, holder: dict[str, Any]) -> None:
        self._holder = holder

    @property
    def authenticator(self) -> Authenticator:
        backend: Backend = self._holder["backend"]
        return backend.authenticator


class _HasAuthenticator(Protocol):
    @property
    def authenticator(self) -> Authenticator: ...


class _GuardedAuthenticator:
    """Turns "PostgreSQL unreachable" into a 503 instead of a 500 or a wrong 401."""

    def __init__(self, backend: _HasAuthenticator, retry_after_s: int) -> None:
        self._backend = backend
        self._retry_after_s = retry_after_s

    async def authenticate(self, secret: str) -> Principal | None:
        try:
            return await self._backend.authenticator.authenticate(secret)
        except Exception as exc:  # noqa: BLE001 - any storage failure: try again later
            log.warning("auth.unavailable", error=type(exc).__name__)
            raise AccessDeniedError(
                503,
                "storage_unavailable",
                "Seinpost kan je toegangssleutel nu niet nakijken. Probeer later opnieuw.",
                {"Retry-After": str(self._retry_after_s)},
            ) from None


def intake_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus the request models the routes read themselves (they parse the
    body by hand, to fill ``organisation`` from the token and to answer per item)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi
    from pydantic.json_schema import models_json_schema

    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    _, definitions = models_json_schema(
        [(SignalSubmissionV1, "validation"), (BatchRequest, "validation")],
        ref_template="#/components/schemas/{model}",
    )
    document.setdefault("components", {}).setdefault("schemas", {}).update(
        definitions.get("$defs", {})
    )
    app.openapi_schema = document
    return document


class BatchRequest(BaseModel):
    """Body of ``POST /v1/signals/batch``."""

    model_config = {"extra": "forbid"}
    signals: list[SignalSubmissionV1] = Field(
        description="The signals; at most SEINPOST_INTAKE_BATCH_MAX_ITEMS (default 100)."
    )


async def serve(settings: IntakeSettings | None = None) -> None:
    import uvicorn

    from services.common.gc_tuning import tune_garbage_collector
    from services.common.logging import configure_logging
    from services.intake.server import CoalescingHttpToolsProtocol

    settings = settings or IntakeSettings()
    configure_logging("intake", settings.logging)
    # The scrubber loads its Dutch dictionary on first use (about a second of CPU): pay that
    # before the first request, not inside it.
    scrub("mama van Jan")
    app = create_app(settings)
    tune_garbage_collector()
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        # uvicorn's httptools protocol, writing each answer to the socket in one go.
        http=CoalescingHttpToolsProtocol,
        server_header=False,
        # Nothing in intake reads the client's address; uvicorn's X-Forwarded-For handling
        # would be one more middleware on every request.
        proxy_headers=False,
        log_config=None,  # our structlog handler formats uvicorn's records too
        access_log=False,  # access lines would repeat what signal.accepted says, less carefully
    )
    await uvicorn.Server(config).serve()


def run(settings: IntakeSettings | None = None) -> None:
    """Serve on uvloop: ``asyncio.run`` would give the default loop whatever uvicorn is
    configured with, and uvloop's event loop and transports cost measurably less CPU per
    request than asyncio's."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(settings))
