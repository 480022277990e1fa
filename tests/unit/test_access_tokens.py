"""Tokens and principals without a database."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from services.common.access import (
    AUDIT,
    BUNDLES,
    CORRECTIONS,
    DEFAULT_SCOPES,
    FEEDBACK,
    SUBMIT,
    Principal,
    PrincipalKind,
    area_key,
    hash_secret,
)
from services.common.access.tokens import generate_secret, hashes_match, looks_like_token


def _organisation(*municipalities: str, scopes: frozenset[str] = frozenset({SUBMIT})) -> Principal:
    return Principal(
        token_id=uuid.uuid4(),
        kind=PrincipalKind.ORGANISATION,
        subject="caw-gent",
        label="gsm Sara",
        municipalities=frozenset(area_key(m) for m in municipalities),
        scopes=scopes,
    )


def test_secrets_are_unique_prefixed_and_recognised() -> None:
    secrets = {generate_secret() for _ in range(200)}
    assert len(secrets) == 200
    assert all(looks_like_token(secret) for secret in secrets)
    assert not looks_like_token("Bearer nonsense")


def test_only_the_hash_is_comparable_and_it_is_stable() -> None:
    secret = generate_secret()
    assert hash_secret(secret) == hash_secret(secret)
    assert hash_secret(secret) != hash_secret(secret + "x")
    assert secret.encode() not in hash_secret(secret)


@given(st.sampled_from(["Gent", " gent ", "GENT", "Gent "]))
def test_an_organisation_submits_for_its_municipalities_in_any_spelling(spelling: str) -> None:
    assert _organisation("Gent", "Melle").may_submit_for(spelling)


def test_an_organisation_may_not_submit_outside_its_area_or_without_the_scope() -> None:
    assert not _organisation("Gent").may_submit_for("Antwerpen")
    assert not _organisation("Gent", scopes=frozenset({FEEDBACK})).may_submit_for("Gent")


def test_a_steering_group_never_submits_signals() -> None:
    group = Principal(
        token_id=uuid.uuid4(),
        kind=PrincipalKind.STEERING_GROUP,
        subject="stuurgroep-gent",
        label="secretariaat",
        municipalities=frozenset({area_key("Gent")}),
        scopes=DEFAULT_SCOPES[PrincipalKind.STEERING_GROUP] | {SUBMIT},
    )
    assert not group.may_submit_for("Gent")


def test_default_scopes_separate_reporting_from_steering() -> None:
    reporting = DEFAULT_SCOPES[PrincipalKind.ORGANISATION]
    steering = DEFAULT_SCOPES[PrincipalKind.STEERING_GROUP]
    assert SUBMIT in reporting
    assert SUBMIT not in steering
    assert not reporting & steering


def test_a_coordinator_reads_the_audit_log_and_corrects_but_neither_reads_bundles_nor_submits() -> (
    None
):
    scopes = DEFAULT_SCOPES[PrincipalKind.COORDINATOR]
    assert scopes == {AUDIT, CORRECTIONS}
    coordinator = Principal(
        token_id=uuid.uuid4(),
        kind=PrincipalKind.COORDINATOR,
        subject="netwerk-gent",
        label="coördinator",
        scopes=scopes,
    )
    assert not coordinator.may_submit_for("Gent")
    assert not coordinator.has_scope(BUNDLES)


def test_the_stored_hash_is_checked_in_constant_time_and_only_matches_its_own_secret() -> None:
    secret = generate_secret()
    assert hashes_match(hash_secret(secret), secret)
    assert not hashes_match(hash_secret(secret), secret[:-1] + "x")
    assert not hashes_match(b"", secret)
