"""FastAPI edge of access control: bearer tokens in, a ``Principal`` or a Dutch 401/403 out."""

# No `from __future__ import annotations` here: FastAPI must evaluate the annotations of the
# dependency below, which name a local (`bearer`).

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Protocol

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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


def install_access_errors(app: FastAPI) -> None:
    @app.exception_handler(AccessDeniedError)
    async def _denied(_: Request, exc: AccessDeniedError) -> JSONResponse:
        return JSONResponse(
            {"error": exc.code, "message": exc.message, "problems": []},
            status_code=exc.status,
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
