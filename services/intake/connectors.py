"""HTTP edge of the KoboToolbox and ODK Central connectors.

Credentials per form: the request carries an organisation token (``Authorization: Bearer
spt_…``; KoboToolbox REST Services and webhook relays for ODK Central can both send a custom
header), and the form's configured organisation must be the token's. The signal then takes the
same path as ``POST /v1/signals``: scrubbed, validated, idempotent, 2xx only after Kafka's ack.
"""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from services.common.access import SUBMIT, AccessDeniedError, Principal, require_scope
from services.intake.domain.connectors import ConnectorForm, map_submission, parse_connectors
from services.intake.errors import ErrorBody, FieldProblem
from services.intake.settings import IntakeSettings
from services.intake.submissions import AcceptedBody, IntakeService, Result, invalid

if TYPE_CHECKING:
    from services.intake.app import RateLimiter

KOBO_EXAMPLE: dict[str, Any] = {
    "_id": 48211,
    "formhub/uuid": "5d3d2c7f8e6a4b1c9f0e1d2c3b4a5f6e",
    "start": "2026-11-18T09:12:44.123+01:00",
    "end": "2026-11-18T09:16:02.456+01:00",
    "group_signaal/beschrijving": "Drie gezinnen kunnen de schoolfactuur voor de zeeklassen "
    "niet betalen en houden hun kinderen thuis.",
    "group_signaal/datum": "2026-11-18",
    "group_signaal/vindplaats": "schoolpoort",
    "group_signaal/soort_kennis": "professioneel",
    "group_plaats/gemeente": "Gent",
    "group_plaats/wijk": "Brugse Poort",
    "group_doelgroep/aantal_gezinnen": "3",
    "group_doelgroep/leeftijd": "jaar_6_11",
    "group_doelgroep/gezinssituatie": "eenoudergezin groot_gezin",
    "__version__": "vHk3n9QyR7aZ2",
    "meta/instanceID": "uuid:0b8f0c2e-7f1a-4d55-9a3c-2e4b6d8f1a10",
    "_xform_id_string": "seinpost-signaal-kobo",
    "_uuid": "0b8f0c2e-7f1a-4d55-9a3c-2e4b6d8f1a10",
    "_attachments": [],
    "_status": "submitted_via_web",
    "_geolocation": [None, None],
    "_submission_time": "2026-11-18T08:16:05",
    "_tags": [],
    "_notes": [],
    "_validation_status": {},
    "_submitted_by": None,
}

ODK_EXAMPLE: dict[str, Any] = {
    "__id": "uuid:6a1d9c3e-2b4f-4e8a-9d7c-5f3e1a2b4c6d",
    "__system": {
        "submissionDate": "2026-11-18T10:02:11.532Z",
        "updatedAt": None,
        "submitterId": "27",
        "submitterName": "tablet-kiel-1",
        "attachmentsPresent": 0,
        "attachmentsExpected": 0,
        "status": None,
        "reviewState": None,
        "deviceId": "collect:Xy7a1b2C3d4E5f6G",
        "edits": 0,
        "formVersion": "2026111801",
    },
    "meta": {"instanceID": "uuid:6a1d9c3e-2b4f-4e8a-9d7c-5f3e1a2b4c6d"},
    "signaal": {
        "tekst": "In de wachtzaal van het Huis van het Kind vertellen ouders dat de "
        "kinderopvang in de wijk een wachtlijst van een jaar heeft.",
        "datum": "2026-11-17",
        "vindplaats": "huis_van_het_kind",
    },
    "plaats": {"gemeente": "Antwerpen", "wijk": "Kiel"},
    "melder": {"rol": "opgroeicoach", "kennis": "professioneel"},
    "doelgroep": {"gezinnen": 5, "leeftijden": "a0_2 a3_5"},
}


def load_connectors(settings: IntakeSettings) -> dict[tuple[str, str], ConnectorForm]:
    if not settings.connectors_file.exists():
        return {}
    return parse_connectors(settings.connectors_file.read_text(encoding="utf-8"))


def connector_router(
    settings: IntakeSettings,
    holder: dict[str, Any],
    authenticated: Callable[..., Awaitable[Principal]],
    limiter: "RateLimiter",
) -> APIRouter:
    forms = load_connectors(settings)  # a broken mapping stops start-up, loudly
    router = APIRouter(prefix="/v1/connectors", tags=["connectors"])

    async def receive(
        kind: Literal["kobo", "odk"], form_id: str, request: Request, principal: Principal
    ) -> Response:
        require_scope(principal, SUBMIT)
        form = forms.get((kind, form_id))
        if form is None:
            return _error(404, "form_unknown", "Dit formulier is niet gekoppeld aan Seinpost.")
        if form.organisation != principal.subject:
            raise AccessDeniedError.forbidden(
                "form_not_allowed",
                "Deze toegangssleutel hoort niet bij de organisatie van dit formulier.",
            )
        limiter.check(principal)
        try:
            payload = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict):
            result = invalid(
                [FieldProblem(field="(body)", code="json_invalid", message="geen JSON-object")]
            )
            return _respond(result)
        body, problems = map_submission(form, payload)
        if problems:
            result = invalid([FieldProblem(field=f, code=c, message=m) for f, c, m in problems])
            return _respond(result)
        service: IntakeService = holder["service"]
        return _respond(await service.submit(body, principal, source=kind))

    responses: dict[int | str, dict[str, Any]] = {
        200: {"model": AcceptedBody, "description": "Deze inzending was al aanvaard."},
        202: {"model": AcceptedBody, "description": "Aanvaard, na bevestiging door Kafka."},
        **{
            code: {"model": ErrorBody, "description": text}
            for code, text in (
                (401, "Geen of een ongeldige toegangssleutel."),
                (403, "Sleutel van een andere organisatie, of gemeente buiten haar gebied."),
                (404, "Onbekend formulier."),
                (409, "Zelfde inzending, andere inhoud."),
                (422, "De inzending past niet: veld en reden."),
                (429, "Te veel verzoeken; zie Retry-After."),
                (503, "Kafka of PostgreSQL onbereikbaar; zie Retry-After."),
            )
        },
    }

    def body_doc(example: dict[str, Any], summary: str) -> dict[str, Any]:
        return {
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "additionalProperties": True},
                        "examples": {"inzending": {"summary": summary, "value": example}},
                    }
                },
            }
        }

    Authenticated = Annotated[Principal, Depends(authenticated)]  # noqa: N806 - a type alias
    FormId = Annotated[  # noqa: N806 - a type alias
        str, Path(description="Form id as configured in the connectors file.")
    ]

    @router.post(
        "/kobo/{form_id}",
        status_code=202,
        responses=responses,
        summary="KoboToolbox REST Service",
        description="Point a KoboToolbox REST Service (JSON) at this URL, with the header "
        "`Authorization: Bearer spt_…` of the form's organisation.",
        openapi_extra=body_doc(KOBO_EXAMPLE, "KoboToolbox REST Services JSON"),
    )
    async def kobo(form_id: FormId, request: Request, principal: Authenticated) -> Response:
        return await receive("kobo", form_id, request, principal)

    @router.post(
        "/odk/{form_id}",
        status_code=202,
        responses=responses,
        summary="ODK Central submission (JSON)",
        description="One ODK Central submission as JSON (the OData shape: `__id`, `__system`, "
        "`meta.instanceID`, groups nested), forwarded by a webhook relay with the header "
        "`Authorization: Bearer spt_…` of the form's organisation.",
        openapi_extra=body_doc(ODK_EXAMPLE, "ODK Central submission"),
    )
    async def odk(form_id: FormId, request: Request, principal: Authenticated) -> Response:
        return await receive("odk", form_id, request, principal)

    return router


def _error(status: int, code: str, message: str) -> Response:
    body = ErrorBody(error=code, message=message)
    return Response(body.model_dump_json(), status_code=status, media_type="application/json")


def _respond(result: Result) -> Response:
    body = result.accepted if result.accepted is not None else result.error
    assert body is not None
    return Response(
        body.model_dump_json(),
        status_code=result.status,
        media_type="application/json",
        headers=dict(result.headers),
    )
