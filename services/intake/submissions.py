"""The one acceptance path every way in shares (API, batch, KoboToolbox, ODK Central).

validate → check against the options → area of the token → scrub → idempotency claim →
Kafka (acks=all) → answer. Nothing is answered 2xx before Kafka acknowledged the record.

Idempotency, and why it holds when the process dies at any point:
- a signal_id is claimed in PostgreSQL (with a hash of its content) *before* it is published;
  a second claim with other content is a 409, whichever intake process it reaches;
- the claim is marked "published" after Kafka's acknowledgement, written behind; a claim still
  unmarked (a crash between acknowledgement and mark, or a 503) is published again by the next
  retry with the same content — the identical event, with the original received_at — and the
  consumers, idempotent on signal_id, keep one signal;
- concurrent duplicates in one process wait for the first (an in-flight table), so they put
  exactly one record on the topic; a published claim is remembered in memory, so ordinary
  retries cost no database round trip.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

import structlog
from pydantic import BaseModel, Field, ValidationError

from schemas.topics import municipality_key
from schemas.v1 import (
    RedactionCountV1,
    SignalSubmissionV1,
    SignalSubmittedV1,
    signal_submitted_event,
)
from services.common.access import Principal
from services.common.kafka import Outgoing, Publisher
from services.intake.domain.acceptance import SubmissionRejectedError, accept_submission
from services.intake.domain.fingerprint import content_hash
from services.intake.domain.options import IntakeOptions, check_choices
from services.intake.errors import ErrorBody, FieldProblem, field_problems
from services.intake.metrics import IntakeMetrics
from services.intake.settings import IntakeSettings
from services.intake.storage import Reservation, SubmissionStore

log = structlog.get_logger(__name__)
# structlog's stdlib logger drops a line below the level only after building its event dict;
# the one line every accepted signal writes asks the level first.
_INFO_ENABLED = functools.partial(logging.getLogger(__name__).isEnabledFor, logging.INFO)

# Reporters work in Flanders: "today" for the observed date is Brussels' today, not UTC's.
_LOCAL_TIME = ZoneInfo("Europe/Brussels")


class AcceptedBody(BaseModel):
    signal_id: uuid.UUID
    status: Literal["aanvaard"] = "aanvaard"
    received_at: datetime
    redactions: list[RedactionCountV1] = Field(
        description="Personal data removed from the text before it was passed on (kinds, counts)."
    )
    message: str = Field(description="Confirmation in Dutch for the reporter.")


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    INVALID = "invalid"
    FORBIDDEN = "forbidden"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    status: int
    signal_id: uuid.UUID | None = None
    accepted: AcceptedBody | None = None
    error: ErrorBody | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


class KafkaState(Protocol):
    @property
    def publisher(self) -> Publisher: ...

    @property
    def connected(self) -> asyncio.Event: ...


def confirmation(redactions: list[RedactionCountV1]) -> str:
    if not redactions:
        return "Signaal ontvangen. Bedankt!"
    removed = ", ".join(f"{r.count} × {r.kind.value}" for r in redactions)
    return f"Signaal ontvangen. We haalden persoonsgegevens uit de tekst: {removed}."


def invalid(problems: list[FieldProblem], signal_id: uuid.UUID | None = None) -> Result:
    return Result(
        Outcome.INVALID,
        422,
        signal_id,
        error=ErrorBody(
            error="validation_failed",
            message="Het signaal is niet volledig of niet geldig; zie de velden hieronder.",
            problems=problems,
        ),
    )


def unavailable(retry_after_s: int, code: str = "kafka_unavailable") -> Result:
    return Result(
        Outcome.UNAVAILABLE,
        503,
        error=ErrorBody(
            error=code,
            message="Seinpost kan het signaal nu niet doorgeven. Probeer later opnieuw met "
            "hetzelfde signal_id; er ontstaat dan geen dubbel signaal.",
        ),
        headers={"Retry-After": str(retry_after_s)},
    )


def _signal_id_of(raw: Any) -> uuid.UUID | None:
    if isinstance(raw, Mapping):
        try:
            return uuid.UUID(str(raw.get("signal_id")))
        except ValueError:
            return None
    return None


class IntakeService:
    def __init__(
        self,
        settings: IntakeSettings,
        *,
        options: IntakeOptions,
        store: SubmissionStore,
        kafka: KafkaState,
        metrics: IntakeMetrics,
    ) -> None:
        self._settings = settings
        self._options = options
        self._store = store
        self._kafka = kafka
        self._metrics = metrics
        self._in_flight: dict[uuid.UUID, asyncio.Future[None]] = {}
        self._recent: OrderedDict[uuid.UUID, Reservation] = OrderedDict()
        self._topic = settings.kafka.submitted_topic
        self._children: dict[tuple[Any, ...], Any] = {}

    @property
    def options(self) -> IntakeOptions:
        return self._options

    async def submit(self, raw: Any, principal: Principal | None, *, source: str) -> Result:
        result = await self._submit(raw, principal)
        self._counter(self._metrics.outcomes, result.outcome.value, source).inc()
        if result.error is not None:
            codes = {p.code for p in result.error.problems} or {result.error.error}
            for code in codes:
                self._metrics.rejections.labels(code).inc()
        return result

    def _counter(self, metric: Any, *labels: str) -> Any:
        # ``labels()`` looks its child up under a lock on every call; the label sets on the
        # accepting path are few, so their children are kept here once found.
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    async def _submit(self, raw: Any, principal: Principal | None) -> Result:
        if not isinstance(raw, Mapping):
            return invalid(
                [FieldProblem(field="(body)", code="model_type", message="moet een object zijn")]
            )
        if principal is not None:
            given = raw.get("organisation")
            if given is not None and given != principal.subject:
                return invalid(
                    [
                        FieldProblem(
                            field="organisation",
                            code="organisation_mismatch",
                            message="dit is niet de organisatie van je toegangssleutel; laat het "
                            "veld weg of vul je eigen organisatie in",
                        )
                    ],
                    _signal_id_of(raw),
                )
            raw = {**raw, "organisation": principal.subject}
        try:
            submission = SignalSubmissionV1.model_validate(raw)
        except ValidationError as exc:
            return invalid(field_problems(exc.errors(include_input=False)), _signal_id_of(raw))
        signal_id = submission.signal_id
        canonical, problems = check_choices(submission, self._options)
        if problems:
            return invalid(
                [FieldProblem(field=f, code=c, message=m) for f, c, m in problems], signal_id
            )
        # Most submissions are already spelled canonically: no copy of the model for them.
        canonical = {k: v for k, v in canonical.items() if getattr(submission, k) != v}
        if canonical:
            submission = submission.model_copy(update=canonical)
        if principal is not None and not self._may_submit(principal, submission.municipality):
            return Result(
                Outcome.FORBIDDEN,
                403,
                signal_id,
                error=ErrorBody(
                    error="municipality_not_allowed",
                    message=f"Je organisatie mag geen signalen indienen voor "
                    f"{submission.municipality}.",
                ),
            )
        return await self._claim_and_publish(submission)

    def _may_submit(self, principal: Principal, municipality: str) -> bool:
        # An organisation registered under a pre-2025 name keeps its area after the merger.
        configured = self._options.municipality(municipality)
        names = (municipality,) if configured is None else (configured.name, *configured.aliases)
        return any(principal.may_submit_for(name) for name in names)

    async def _claim_and_publish(self, submission: SignalSubmissionV1) -> Result:
        signal_id = submission.signal_id
        digest = content_hash(submission)
        # The log lines below name the signal_id themselves: binding it as a context variable
        # for every request cost more than all of them together.
        while True:
            known = self._recent.get(signal_id)
            if known is not None:
                return self._answer_existing(known, digest)
            running = self._in_flight.get(signal_id)
            if running is None:
                break
            # The same signal_id is being handled right now: its outcome decides ours.
            await asyncio.shield(running)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._in_flight[signal_id] = done
        try:
            return await self._claim_and_publish_alone(submission, digest)
        finally:
            del self._in_flight[signal_id]
            done.set_result(None)

    async def _claim_and_publish_alone(
        self, submission: SignalSubmissionV1, digest: bytes
    ) -> Result:
        if not self._kafka.connected.is_set():
            log.warning(
                "signal.not_accepted",
                signal_id=str(submission.signal_id),
                reason="kafka_not_connected",
            )
            return unavailable(self._settings.retry_after_s)
        received_at = datetime.now(UTC)
        try:
            signal = self._accept(submission, received_at)
        except SubmissionRejectedError as rejected:
            log.info(
                "signal.rejected",
                signal_id=str(submission.signal_id),
                problems=[code for _, code, _ in rejected.problems],
            )
            return invalid(
                [FieldProblem(field=f, code=c, message=m) for f, c, m in rejected.problems],
                submission.signal_id,
            )
        claim = Reservation(
            signal_id=submission.signal_id,
            content_hash=digest,
            organisation=submission.organisation,
            received_at=received_at,
            redactions=tuple(signal.redactions),
        )
        try:
            earlier = await self._store.reserve(claim)
        except Exception as exc:  # noqa: BLE001 - no claim, no publish: the client retries
            log.warning(
                "signal.not_accepted",
                signal_id=str(submission.signal_id),
                reason="store_unavailable",
                error=type(exc).__name__,
            )
            return unavailable(self._settings.retry_after_s, "storage_unavailable")
        status, outcome = 202, Outcome.ACCEPTED
        if earlier is not None:
            if earlier.content_hash != digest or earlier.published:
                if earlier.published:
                    self._remember(earlier)
                return self._answer_existing(earlier, digest)
            # Claimed before but perhaps never published (503, or a stop between Kafka's
            # acknowledgement and the mark): publish the identical event again.
            claim = earlier
            signal = self._accept(submission, earlier.received_at)
            status, outcome = 200, Outcome.DUPLICATE
        try:
            await self._kafka.publisher.publish(
                Outgoing(
                    self._topic,
                    municipality_key(signal.municipality),
                    signal_submitted_event(signal),
                )
            )
        except Exception as exc:  # noqa: BLE001 - every publish failure is a 503 to the client
            log.warning(
                "signal.not_accepted",
                signal_id=str(submission.signal_id),
                reason=type(exc).__name__,
            )
            return unavailable(self._settings.retry_after_s)
        self._counter(self._metrics.published, self._topic).inc()
        for redaction in signal.redactions:
            self._counter(self._metrics.redactions, redaction.kind.value).inc(redaction.count)
        self._store.mark_published(claim.signal_id)
        self._remember(
            Reservation(
                claim.signal_id,
                claim.content_hash,
                claim.organisation,
                claim.received_at,
                claim.redactions,
                published=True,
            )
        )
        if _INFO_ENABLED():
            log.info(
                "signal.accepted",
                signal_id=str(claim.signal_id),
                municipality=signal.municipality,
                redactions={r.kind.value: r.count for r in signal.redactions},
            )
        return Result(outcome, status, claim.signal_id, accepted=_accepted_body(claim))

    def _accept(self, submission: SignalSubmissionV1, received_at: datetime) -> SignalSubmittedV1:
        return accept_submission(
            submission,
            received_at=received_at,
            today=received_at.astimezone(_LOCAL_TIME).date(),
            future_tolerance_days=self._settings.observed_on_tolerance_days,
        )

    def _answer_existing(self, earlier: Reservation, digest: bytes) -> Result:
        if earlier.content_hash != digest:
            log.info("signal.conflict", signal_id=str(earlier.signal_id))
            return Result(
                Outcome.CONFLICT,
                409,
                earlier.signal_id,
                error=ErrorBody(
                    error="signal_id_conflict",
                    message="Er is al een ander signaal met dit signal_id ontvangen. Geef een "
                    "nieuw signaal een nieuw signal_id.",
                    problems=[
                        FieldProblem(
                            field="signal_id",
                            code="signal_id_conflict",
                            message="dit signal_id hoort bij een signaal met andere inhoud",
                        )
                    ],
                ),
            )
        log.info("signal.duplicate", signal_id=str(earlier.signal_id))
        return Result(Outcome.DUPLICATE, 200, earlier.signal_id, accepted=_accepted_body(earlier))

    def _remember(self, reservation: Reservation) -> None:
        limit = self._settings.idempotency_cache_entries
        if limit <= 0:
            return
        self._recent[reservation.signal_id] = reservation
        if len(self._recent) > limit:
            self._recent.popitem(last=False)


def _accepted_body(reservation: Reservation) -> AcceptedBody:
    # Built from values intake itself validated: no second validation on the hot path.
    redactions = list(reservation.redactions)
    return AcceptedBody.model_construct(
        signal_id=reservation.signal_id,
        received_at=reservation.received_at,
        redactions=redactions,
        message=confirmation(redactions),
    )
