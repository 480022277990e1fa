"""Organisations and API tokens in PostgreSQL (component ``access``)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from services.common import postgres
from services.common.access import audit
from services.common.access.audit import Actor, AuditEntry
from services.common.access.tokens import (
    ALL_SCOPES,
    DEFAULT_SCOPES,
    IssuedToken,
    Principal,
    PrincipalKind,
    area_key,
    generate_secret,
    hash_secret,
    hashes_match,
    looks_like_token,
)

if TYPE_CHECKING:
    Pool = asyncpg.Pool[Any]

COMPONENT = "access"
MIGRATIONS_PACKAGE = "services.common.access.migrations"


class UnknownOrganisationError(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Organisation:
    organisation_id: str
    name: str
    municipalities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TokenInfo:
    token_id: uuid.UUID
    kind: PrincipalKind
    subject: str
    label: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


_AUTHENTICATE = """
SELECT t.token_id, t.token_hash, t.kind, t.subject, t.label, t.scopes,
       coalesce(o.municipalities, '{}') AS municipalities
FROM api_tokens AS t
LEFT JOIN organisations AS o
       ON t.kind = 'organisation' AND o.organisation_id = t.subject
WHERE t.token_hash = $1 AND t.revoked_at IS NULL
"""


class AccessStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    @property
    def pool(self) -> Pool:
        return self._pool

    async def migrate(self) -> list[int]:
        async with self._pool.acquire() as connection:
            return await postgres.migrate(connection, COMPONENT, MIGRATIONS_PACKAGE)

    async def add_organisation(
        self, organisation_id: str, name: str, municipalities: Iterable[str]
    ) -> Organisation:
        """Create the organisation, or replace its name and area (the command is re-runnable)."""
        area = sorted({area_key(m) for m in municipalities if m.strip()})
        await self._pool.execute(
            """
            INSERT INTO organisations (organisation_id, name, municipalities)
            VALUES ($1, $2, $3)
            ON CONFLICT (organisation_id)
            DO UPDATE SET name = excluded.name, municipalities = excluded.municipalities
            """,
            organisation_id,
            name,
            area,
        )
        return Organisation(organisation_id, name, tuple(area))

    async def list_organisations(self) -> list[Organisation]:
        rows = await self._pool.fetch(
            "SELECT organisation_id, name, municipalities FROM organisations "
            "ORDER BY organisation_id"
        )
        return [
            Organisation(r["organisation_id"], r["name"], tuple(r["municipalities"])) for r in rows
        ]

    async def create_token(
        self,
        kind: PrincipalKind,
        subject: str,
        label: str,
        scopes: Iterable[str] | None = None,
        *,
        actor: Actor | None = None,
    ) -> IssuedToken:
        granted = frozenset(scopes) if scopes is not None else DEFAULT_SCOPES[kind]
        unknown = granted - ALL_SCOPES
        if unknown:
            raise ValueError(f"unknown scopes: {sorted(unknown)}")
        if kind is PrincipalKind.ORGANISATION:
            exists = await self._pool.fetchval(
                "SELECT true FROM organisations WHERE organisation_id = $1", subject
            )
            if not exists:
                raise UnknownOrganisationError(subject)
        issued = IssuedToken(uuid.uuid4(), generate_secret())
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "INSERT INTO api_tokens (token_id, token_hash, kind, subject, label, scopes) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                issued.token_id,
                hash_secret(issued.secret),
                kind.value,
                subject,
                label,
                sorted(granted),
            )
            await audit.record(
                connection,
                AuditEntry(
                    audit.TOKEN_CREATED,
                    actor or Actor.operator(),
                    kind.value,
                    subject,
                    target=str(issued.token_id),
                    details={"scopes": sorted(granted)},
                ),
            )
        return issued

    async def revoke_token(self, token_id: uuid.UUID, *, actor: Actor | None = None) -> bool:
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "UPDATE api_tokens SET revoked_at = now() "
                "WHERE token_id = $1 AND revoked_at IS NULL RETURNING kind, subject",
                token_id,
            )
            if row is None:
                return False
            await audit.record(
                connection,
                AuditEntry(
                    audit.TOKEN_REVOKED,
                    actor or Actor.operator(),
                    row["kind"],
                    row["subject"],
                    target=str(token_id),
                ),
            )
        return True

    async def list_tokens(self, subject: str | None = None) -> list[TokenInfo]:
        rows = await self._pool.fetch(
            "SELECT token_id, kind, subject, label, scopes, created_at, revoked_at, last_used_at "
            "FROM api_tokens WHERE $1::text IS NULL OR subject = $1 ORDER BY created_at",
            subject,
        )
        return [
            TokenInfo(
                r["token_id"],
                PrincipalKind(r["kind"]),
                r["subject"],
                r["label"],
                tuple(r["scopes"]),
                r["created_at"],
                r["revoked_at"],
                r["last_used_at"],
            )
            for r in rows
        ]

    async def authenticate(self, secret: str) -> Principal | None:
        if not looks_like_token(secret):
            return None
        row = await self._pool.fetchrow(_AUTHENTICATE, hash_secret(secret))
        # The lookup is by digest (see tokens.py: safe against timing); this re-check costs
        # nothing and keeps the only byte comparison of token material constant-time.
        if row is None or not hashes_match(row["token_hash"], secret):
            return None
        return Principal(
            token_id=row["token_id"],
            kind=PrincipalKind(row["kind"]),
            subject=row["subject"],
            label=row["label"],
            municipalities=frozenset(row["municipalities"]),
            scopes=frozenset(row["scopes"]),
        )

    async def touch(self, token_ids: Sequence[uuid.UUID]) -> None:
        """Record use, coarsely: enough to find tokens nobody uses any more."""
        if token_ids:
            await self._pool.execute(
                "UPDATE api_tokens SET last_used_at = now() WHERE token_id = ANY($1::uuid[])",
                list(token_ids),
            )


class CachedAuthenticator:
    """Answers repeated requests of one token from memory for ``ttl_s`` seconds.

    A revoked token is refused at the latest ``ttl_s`` after the revocation; unknown secrets are
    cached too (shorter), so a client hammering with a bad token doesn't reach PostgreSQL either.
    """

    def __init__(self, store: AccessStore, *, ttl_s: float = 30.0, max_entries: int = 10_000):
        self._store = store
        self._ttl_s = ttl_s
        self._negative_ttl_s = min(ttl_s, 5.0)
        self._max_entries = max_entries
        self._cache: dict[bytes, tuple[float, Principal | None]] = {}
        self._lock = asyncio.Lock()
        self._used: set[uuid.UUID] = set()

    async def authenticate(self, secret: str) -> Principal | None:
        key = hash_secret(secret)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            principal = cached[1]
        else:
            principal = await self._store.authenticate(secret)
            ttl = self._ttl_s if principal is not None else self._negative_ttl_s
            if len(self._cache) >= self._max_entries:
                self._cache.clear()
            self._cache[key] = (now + ttl, principal)
        if principal is not None:
            self._used.add(principal.token_id)
        return principal

    async def flush_usage(self) -> None:
        """Write the last-used marks gathered since the previous flush (call it periodically)."""
        async with self._lock:
            used, self._used = self._used, set()
        await self._store.touch(sorted(used))
