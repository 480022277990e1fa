"""The audit log (component ``access``): who did what, when — append-only in PostgreSQL.

Entries carry identifiers, roles and counts, never free text a person typed: the log outlives
the retention period of signal texts and must not become a second copy of them.
"""

from __future__ import annotations

import getpass
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from services.common.access.tokens import Principal

if TYPE_CHECKING:
    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

    Executor = asyncpg.Pool[Any] | asyncpg.Connection[Any] | PoolConnectionProxy[Any]

TOKEN_CREATED: Final = "token.created"  # noqa: S105 - an action name, not a secret
TOKEN_REVOKED: Final = "token.revoked"  # noqa: S105 - an action name, not a secret
CORRECTION_REQUESTED: Final = "correction.requested"
DECISION_REQUESTED: Final = "decision.requested"
BUNDLE_EXPORTED: Final = "bundle.exported"
RETENTION_PURGED: Final = "retention.purged"

OPERATOR_ROLE: Final = "operator"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: a token's kind and subject, or the operator at the command line."""

    role: str
    subject: str | None = None
    token_id: uuid.UUID | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(principal.kind.value, principal.subject, principal.token_id)

    @classmethod
    def operator(cls) -> Actor:
        # The command line runs on a server; its account (or SEINPOST_OPERATOR, for a shared
        # account) is who answers for the act.
        name = os.environ.get("SEINPOST_OPERATOR") or _login()
        return cls(OPERATOR_ROLE, name)


def _login() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    action: str
    actor: Actor
    subject_kind: str  # organisation | steering_group | coordinator | system
    subject: str | None
    target: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    event_id: uuid.UUID | None = None  # makes a retried request one entry


_INSERT = """
INSERT INTO audit_log (action, actor_role, actor_subject, actor_token_id, subject_kind, subject,
                       target, details, event_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
ON CONFLICT (event_id) DO NOTHING
"""


async def record(executor: Executor, entry: AuditEntry) -> None:
    """Append one entry (in the caller's transaction when ``executor`` is a connection)."""
    await executor.execute(
        _INSERT,
        entry.action,
        entry.actor.role,
        entry.actor.subject,
        entry.actor.token_id,
        entry.subject_kind,
        entry.subject,
        entry.target,
        json.dumps(dict(entry.details), sort_keys=True),
        entry.event_id,
    )


@dataclass(frozen=True, slots=True)
class AuditRecord:
    entry_id: int
    occurred_at: Any
    action: str
    actor_role: str
    actor_subject: str | None
    actor_token_id: uuid.UUID | None
    subject_kind: str
    subject: str | None
    target: str | None
    details: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "occurred_at": self.occurred_at.isoformat(),
            "action": self.action,
            "actor": {
                "role": self.actor_role,
                "subject": self.actor_subject,
                "token_id": str(self.actor_token_id) if self.actor_token_id else None,
            },
            "subject": {"kind": self.subject_kind, "id": self.subject},
            "target": self.target,
            "details": self.details,
        }


# A network's entries: its coordinators', its steering groups', those of organisations that
# report in its steering groups' municipalities, and system-wide acts (a purge). Networks and
# steering groups are the aggregator's tables in the same database.
_LIST = """
SELECT a.entry_id, a.occurred_at, a.action, a.actor_role, a.actor_subject, a.actor_token_id,
       a.subject_kind, a.subject, a.target, a.details
FROM audit_log AS a
WHERE ($1::text IS NULL
   OR a.subject_kind = 'system'
   OR (a.subject_kind = 'coordinator' AND a.subject = $1)
   OR (a.subject_kind = 'steering_group' AND a.subject IN (
           SELECT g.steering_group_id FROM steering_groups AS g WHERE g.network_id = $1))
   OR (a.subject_kind = 'organisation' AND EXISTS (
           SELECT 1 FROM organisations AS o
           JOIN steering_groups AS g
             ON g.network_id = $1 AND o.municipalities && g.municipality_keys
           WHERE o.organisation_id = a.subject)))
  AND ($2::text IS NULL OR a.action = $2)
ORDER BY a.entry_id DESC
LIMIT $3
"""


async def list_entries(
    executor: Executor, *, network_id: str | None, action: str | None = None, limit: int = 500
) -> list[AuditRecord]:
    """Newest first; ``network_id=None`` is everything (the operator's view)."""
    rows = await executor.fetch(_LIST, network_id, action, limit)
    return [
        AuditRecord(
            r["entry_id"],
            r["occurred_at"],
            r["action"],
            r["actor_role"],
            r["actor_subject"],
            r["actor_token_id"],
            r["subject_kind"],
            r["subject"],
            r["target"],
            json.loads(r["details"]),
        )
        for r in rows
    ]
