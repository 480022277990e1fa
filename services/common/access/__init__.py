"""Access control shared by the services: organisations, API tokens (hashes only), principals.

``tokens`` is pure; ``store`` keeps organisations and tokens in PostgreSQL (component
``access``); ``http`` turns a bearer token into a ``Principal`` for FastAPI routes.
"""

from services.common.access.audit import Actor, AuditEntry
from services.common.access.http import (
    AccessDeniedError,
    Authenticator,
    install_access_errors,
    principal_dependency,
    require_scope,
)
from services.common.access.store import (
    AccessStore,
    CachedAuthenticator,
    Organisation,
    TokenInfo,
    UnknownOrganisationError,
)
from services.common.access.tokens import (
    ALL_SCOPES,
    AUDIT,
    BUNDLES,
    CORRECTIONS,
    DECISIONS,
    DEFAULT_SCOPES,
    FEEDBACK,
    SUBMIT,
    IssuedToken,
    Principal,
    PrincipalKind,
    area_key,
    hash_secret,
)

__all__ = [
    "ALL_SCOPES",
    "AUDIT",
    "BUNDLES",
    "CORRECTIONS",
    "DECISIONS",
    "DEFAULT_SCOPES",
    "FEEDBACK",
    "SUBMIT",
    "AccessDeniedError",
    "AccessStore",
    "Actor",
    "AuditEntry",
    "Authenticator",
    "CachedAuthenticator",
    "IssuedToken",
    "Organisation",
    "Principal",
    "PrincipalKind",
    "TokenInfo",
    "UnknownOrganisationError",
    "area_key",
    "hash_secret",
    "install_access_errors",
    "principal_dependency",
    "require_scope",
]
