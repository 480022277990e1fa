"""Tokens and principals, free of I/O: what a token grants and how a secret is recognised.

Secrets are 256 random bits, so a plain SHA-256 is enough to store them: there is nothing to
guess, and unlike a password hash it allows an indexed lookup on every request.

Why looking a token up by its hash does not leak it through timing: the secret is never
compared with anything. The database's B-tree compares SHA-256 digests, and an attacker who
varies the secret varies every byte of the digest unpredictably, so how long a comparison
takes says nothing about how close a guess is (there is no prefix to grow byte by byte). The
one place bytes of a stored token are compared in Python, ``hashes_match``, uses
``hmac.compare_digest`` anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from schemas.topics import municipality_key

TOKEN_PREFIX: Final = "spt_"  # noqa: S105 - a public prefix, not a secret

SUBMIT: Final = "signals:submit"
FEEDBACK: Final = "feedback:read"
BUNDLES: Final = "bundles:read"
DECISIONS: Final = "decisions:write"
CORRECTIONS: Final = "corrections:write"
AUDIT: Final = "audit:read"
ALL_SCOPES: Final = frozenset({SUBMIT, FEEDBACK, BUNDLES, DECISIONS, CORRECTIONS, AUDIT})


class PrincipalKind(StrEnum):
    ORGANISATION = "organisation"
    STEERING_GROUP = "steering_group"
    COORDINATOR = "coordinator"  # of a network; the token's subject is the network id


DEFAULT_SCOPES: Final[dict[PrincipalKind, frozenset[str]]] = {
    PrincipalKind.ORGANISATION: frozenset({SUBMIT, FEEDBACK}),
    PrincipalKind.STEERING_GROUP: frozenset({BUNDLES, DECISIONS, CORRECTIONS}),
    # A coordinator oversees a network: reads its audit log and corrects the life domains of
    # signals in its steering groups' areas. No bundles or decisions: those are the groups'.
    PrincipalKind.COORDINATOR: frozenset({AUDIT, CORRECTIONS}),
}


def area_key(municipality: str) -> str:
    """How a municipality is compared: the same normalisation as the Kafka record key."""
    return municipality_key(municipality).decode("utf-8")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is behind a request: the token, and the organisation or steering group it speaks for."""

    token_id: uuid.UUID
    kind: PrincipalKind
    subject: str
    label: str
    municipalities: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def may_submit_for(self, municipality: str) -> bool:
        return (
            self.kind is PrincipalKind.ORGANISATION
            and self.has_scope(SUBMIT)
            and area_key(municipality) in self.municipalities
        )


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly created token: the only moment the secret exists outside the client."""

    token_id: uuid.UUID
    secret: str


def generate_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def hashes_match(stored: bytes, secret: str) -> bool:
    """Constant-time check that ``stored`` is the hash of ``secret``."""
    return hmac.compare_digest(stored, hash_secret(secret))


def looks_like_token(secret: str) -> bool:
    return secret.startswith(TOKEN_PREFIX) and 40 <= len(secret) <= 80
