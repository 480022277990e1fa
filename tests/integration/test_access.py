"""Organisations and tokens in the real PostgreSQL, and the FastAPI dependency in front of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import asyncpg
import httpx
import pytest
from fastapi import Depends, FastAPI

from services.common.access import (
    BUNDLES,
    SUBMIT,
    AccessStore,
    CachedAuthenticator,
    Principal,
    PrincipalKind,
    UnknownOrganisationError,
    hash_secret,
    install_access_errors,
    principal_dependency,
    require_scope,
)
from services.common.postgres import create_pool
from services.common.settings import PostgresSettings


@pytest.fixture
async def store(postgres_settings: PostgresSettings) -> AsyncIterator[AccessStore]:
    pool = await create_pool(postgres_settings)
    access = AccessStore(pool)
    assert await access.migrate() == [1, 2]
    assert await access.migrate() == []
    try:
        yield access
    finally:
        await pool.close()


async def test_a_token_authenticates_as_its_organisation_with_its_area(store: AccessStore) -> None:
    await store.add_organisation("caw-gent", "CAW Oost-Vlaanderen", ["Gent", " MELLE "])
    issued = await store.create_token(PrincipalKind.ORGANISATION, "caw-gent", "gsm Sara")

    principal = await store.authenticate(issued.secret)

    assert principal is not None
    assert principal.token_id == issued.token_id
    assert principal.subject == "caw-gent"
    assert principal.municipalities == {"gent", "melle"}
    assert principal.may_submit_for("Melle")
    assert not principal.may_submit_for("Antwerpen")
    assert await store.authenticate(issued.secret + "x") is None
    assert await store.authenticate("not-a-token") is None


async def test_only_the_hash_of_a_secret_is_stored(
    store: AccessStore, postgres_settings: PostgresSettings
) -> None:
    await store.add_organisation("jeugdhuis", "Jeugdhuis De Brug", ["Leuven"])
    issued = await store.create_token(PrincipalKind.ORGANISATION, "jeugdhuis", "laptop")
    connection = await asyncpg.connect(postgres_settings.dsn.get_secret_value())
    try:
        rows = await connection.fetch("SELECT * FROM api_tokens")
    finally:
        await connection.close()
    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0].values())
    assert issued.secret not in stored
    assert rows[0]["token_hash"] == hash_secret(issued.secret)


async def test_revoked_tokens_stop_working_and_unknown_organisations_get_none(
    store: AccessStore,
) -> None:
    await store.add_organisation("clb-antwerpen", "CLB Antwerpen", ["Antwerpen"])
    issued = await store.create_token(PrincipalKind.ORGANISATION, "clb-antwerpen", "systeem")
    assert await store.revoke_token(issued.token_id)
    assert not await store.revoke_token(issued.token_id)
    assert await store.authenticate(issued.secret) is None
    with pytest.raises(UnknownOrganisationError):
        await store.create_token(PrincipalKind.ORGANISATION, "bestaat-niet", "gsm")
    with pytest.raises(ValueError, match="unknown scopes"):
        await store.create_token(PrincipalKind.ORGANISATION, "clb-antwerpen", "x", ["root"])
    listed = await store.list_tokens("clb-antwerpen")
    assert [token.revoked_at is not None for token in listed] == [True]


async def test_the_cache_answers_from_memory_until_its_ttl_and_records_use(
    store: AccessStore,
) -> None:
    group = await store.create_token(PrincipalKind.STEERING_GROUP, "stuurgroep-gent", "voorzitter")
    cached = CachedAuthenticator(store, ttl_s=60)
    first = await cached.authenticate(group.secret)
    assert first is not None
    assert first.scopes >= {BUNDLES}
    await store.revoke_token(group.token_id)
    # Within the TTL the revocation is not seen yet: that is the documented trade-off.
    assert await cached.authenticate(group.secret) == first
    assert await CachedAuthenticator(store, ttl_s=0).authenticate(group.secret) is None
    await cached.flush_usage()
    [token] = await store.list_tokens("stuurgroep-gent")
    assert token.last_used_at is not None


# Module level: FastAPI resolves the (postponed) annotations of routes in this module's globals.
authenticated = principal_dependency(lambda request: request.app.state.authenticator)


async def test_the_dependency_gives_dutch_401_and_403_answers(store: AccessStore) -> None:
    await store.add_organisation("caw-gent", "CAW", ["Gent"])
    reporter = await store.create_token(PrincipalKind.ORGANISATION, "caw-gent", "gsm")
    app = FastAPI()
    install_access_errors(app)
    app.state.authenticator = CachedAuthenticator(store, ttl_s=0)

    @app.get("/bundles")
    async def bundles(
        principal: Annotated[Principal, Depends(authenticated)],
    ) -> dict[str, Any]:
        require_scope(principal, BUNDLES)
        return {"subject": principal.subject}

    @app.get("/submit-check")
    async def submit_check(
        principal: Annotated[Principal, Depends(authenticated)],
    ) -> dict[str, bool]:
        require_scope(principal, SUBMIT)
        return {"gent": principal.may_submit_for("Gent")}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        missing = await client.get("/bundles")
        bad = await client.get("/bundles", headers={"Authorization": "Bearer spt_" + "x" * 43})
        wrong_scope = await client.get(
            "/bundles", headers={"Authorization": f"Bearer {reporter.secret}"}
        )
        allowed = await client.get(
            "/submit-check", headers={"Authorization": f"Bearer {reporter.secret}"}
        )

    assert missing.status_code == 401, missing.text
    assert missing.json()["error"] == "token_missing"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert (bad.status_code, bad.json()["error"]) == (401, "token_invalid")
    assert (wrong_scope.status_code, wrong_scope.json()["error"]) == (403, "scope_missing")
    assert "ontbreekt" in wrong_scope.json()["message"]
    assert allowed.json() == {"gent": True}
