"""FastAPI edge of access control: bearer tokens in, a ``Principal`` or a Dutch 401/403 out."""

# No `from __future__ import annotations` here: FastAPI must evaluate the annotations of the
# dependency below, which name a local (`bearer`).

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Protocol

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from services.common.access.tokens import Principal

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="seinpost"'}


class Authenticator(Protocol):
    async def authenticate(self, secret: str) -> Principal | None: ...


class AccessDeniedError(Exception):
    """Rendered as ``{"error", "message", "problems": []}``, like every other error answer."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    @classmethod
    def token_missing(cls) -> "AccessDeniedError":
        return cls(
            401,
            "token_missing",
            "Aanmelden is nodig: stuur je toegangssleutel mee (Authorization: Bearer …).",
            _CHALLENGE,
        )

    @classmethod
    def token_invalid(cls) -> "AccessDeniedError":
        return cls(
            401,
            "token_invalid",
            "Deze toegangssleutel is onbekend of ingetrokken. Vraag je coördinator om een nieuwe.",
            _CHALLENGE,
        )

    @classmethod
    def forbidden(cls, code: str, message: str) -> "AccessDeniedError":
        return cls(403, code, message)


# What Starlette and FastAPI answer by themselves (an unknown path, a body FastAPI cannot
# parse), in our error format instead of {"detail": "Not Found"}.
_HTTP_ERRORS: Mapping[int, tuple[str, str]] = {
    400: (
        "body_unreadable",
        "De inhoud van het verzoek kon niet gelezen worden (geen geldige JSON?).",
    ),
    404: ("not_found", "Dit adres bestaat niet."),
    405: ("method_not_allowed", "Deze methode is op dit adres niet toegelaten."),
    413: ("payload_too_large", "Het verzoek is te groot."),
    415: ("unsupported_media_type", "Stuur de inhoud als JSON (Content-Type: application/json)."),
}


def install_access_errors(app: FastAPI) -> None:
    """Answer 401/403 (and the HTTP errors the framework raises itself) as
    ``{"error", "message", "problems": []}``, like every other error answer."""

    @app.exception_handler(AccessDeniedError)
    async def _denied(_: Request, exc: AccessDeniedError) -> JSONResponse:
        return JSONResponse(
            {"error": exc.code, "message": exc.message, "problems": []},
            status_code=exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(HTTPException)
    async def _http_error(_: Request, exc: HTTPException) -> JSONResponse:
        code, message = _HTTP_ERRORS.get(
            exc.status_code, (f"http_{exc.status_code}", "Dit verzoek kan niet verwerkt worden.")
        )
        return JSONResponse(
            {"error": code, "message": message, "problems": []},
            status_code=exc.status_code,
            headers=exc.headers,
        )


def principal_dependency(
    authenticator_of: Callable[[Request], Authenticator],
) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency that authenticates the bearer token of a request.

    ``authenticator_of`` finds the authenticator for the request (usually on ``app.state``), so
    the app can build it in its lifespan, after the database pool exists.
    """
    bearer = HTTPBearer(
        auto_error=False,
        bearerFormat="spt_…",
        description="Toegangssleutel van een organisatie, toestel of stuurgroep.",
    )

    async def authenticated(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None or not credentials.credentials:
            raise AccessDeniedError.token_missing()
        principal = await authenticator_of(request).authenticate(credentials.credentials)
        if principal is None:
            raise AccessDeniedError.token_invalid()
        return principal

    return authenticated


def require_scope(principal: Principal, scope: str) -> None:
    if not principal.has_scope(scope):
        raise AccessDeniedError.forbidden(
            "scope_missing", f"Deze toegangssleutel mag dit niet (recht '{scope}' ontbreekt)."
        )
