"""PostgreSQL storage for the aggregator: all SQL lives here.

Writes are batched (one statement per table per batch, via ``unnest``) and idempotent on
``signal_id``: replaying a topic from the beginning leaves the tables exactly as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

from schemas.v1 import KnowledgeType, PolicyBundleV1, SignalClassifiedV1
from services.aggregator.domain.bundle import SignalFacts
from services.common import postgres
from services.common.events import RecordRef
from services.common.postgres import Migration

if TYPE_CHECKING:  # asyncpg's classes are generic only in its stubs
    Connection = asyncpg.Connection[Any] | PoolConnectionProxy[Any]

COMPONENT = "aggregator"
MIGRATIONS_PACKAGE = "services.aggregator.migrations"


def load_migrations() -> list[Migration]:
    return postgres.load_migrations(MIGRATIONS_PACKAGE)


async def migrate(connection: Connection) -> list[int]:
    """Apply the aggregator's migrations not applied yet (see ``services.common.postgres``)."""
    # Release 0.1 kept the aggregator's versions in `schema_migrations`; adopt them once.
    return await postgres.migrate(
        connection, COMPONENT, MIGRATIONS_PACKAGE, legacy_table="schema_migrations"
    )


class SignalStore(Protocol):
    async def store_classified(
        self, items: Sequence[tuple[RecordRef, SignalClassifiedV1]]
    ) -> int: ...

    async def signal_facts(
        self, municipality: str, period_start: date, period_end: date
    ) -> list[SignalFacts]: ...

    async def save_bundle(self, bundle: PolicyBundleV1) -> None: ...

    async def mark_bundle_published(self, bundle: PolicyBundleV1) -> None: ...


_INSERT_SIGNALS = """
INSERT INTO signals (
    signal_id, schema_version, observed_on, submitted_at, received_at, text, municipality,
    neighbourhood, vindplaats, reporter_role, knowledge_type, target_group, families_count,
    organisation, redactions, source_topic, source_partition, source_offset
)
SELECT * FROM unnest(
    $1::uuid[], $2::text[], $3::date[], $4::timestamptz[], $5::timestamptz[], $6::text[],
    $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::jsonb[], $13::int[],
    $14::text[], $15::jsonb[], $16::text[], $17::int[], $18::bigint[]
)
ON CONFLICT (signal_id) DO NOTHING
"""

_INSERT_CLASSIFICATIONS = """
INSERT INTO signal_classifications (
    signal_id, classifier_version, taxonomy_version, classified_at, primary_domain,
    needs_review, scores
)
SELECT * FROM unnest(
    $1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::bool[], $7::jsonb[]
)
ON CONFLICT (signal_id, classifier_version) DO NOTHING
"""

_INSERT_DOMAINS = """
INSERT INTO signal_domains (signal_id, classifier_version, domain, score, evidence)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::real[], $5::jsonb[])
ON CONFLICT (signal_id, classifier_version, domain) DO NOTHING
"""

# The latest classification of each signal decides where it lands in a bundle.
_SIGNAL_FACTS = """
SELECT s.signal_id, s.municipality, s.neighbourhood, s.vindplaats, s.knowledge_type,
       c.needs_review,
       coalesce(
           array_agg(d.domain ORDER BY d.score DESC) FILTER (WHERE d.domain IS NOT NULL),
           '{}'
       ) AS domains
FROM signals AS s
JOIN LATERAL (
    SELECT classifier_version, needs_review
    FROM signal_classifications AS latest
    WHERE latest.signal_id = s.signal_id
    ORDER BY latest.classified_at DESC, latest.classifier_version DESC
    LIMIT 1
) AS c ON true
LEFT JOIN signal_domains AS d
       ON d.signal_id = s.signal_id AND d.classifier_version = c.classifier_version
WHERE lower(s.municipality) = lower($1) AND s.observed_on BETWEEN $2 AND $3
GROUP BY s.signal_id, c.needs_review
"""


def _json(value: object) -> str:
    return orjson.dumps(value).decode("utf-8")


class PostgresSignalStore:
    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool

    async def store_classified(self, items: Sequence[tuple[RecordRef, SignalClassifiedV1]]) -> int:
        """Store a batch in one transaction; returns how many signals were new."""
        if not items:
            return 0
        signals = [classified.signal for _, classified in items]
        classifications = [classified.classification for _, classified in items]
        domain_rows = [
            (classified.signal.signal_id, classified.classification.classifier_version, tag)
            for _, classified in items
            for tag in classified.classification.domains
        ]
        async with self._pool.acquire() as connection, connection.transaction():
            status = await connection.execute(
                _INSERT_SIGNALS,
                [s.signal_id for s in signals],
                [s.schema_version for s in signals],
                [s.observed_on for s in signals],
                [s.submitted_at for s in signals],
                [s.received_at for s in signals],
                [s.text for s in signals],
                [s.municipality for s in signals],
                [s.neighbourhood for s in signals],
                [s.vindplaats for s in signals],
                [s.reporter_role for s in signals],
                [s.knowledge_type.value for s in signals],
                [s.target_group.model_dump_json() for s in signals],
                [s.families_count for s in signals],
                [s.organisation for s in signals],
                [_json([r.model_dump(mode="json") for r in s.redactions]) for s in signals],
                [record.topic for record, _ in items],
                [record.partition for record, _ in items],
                [record.offset for record, _ in items],
            )
            await connection.execute(
                _INSERT_CLASSIFICATIONS,
                [s.signal_id for s in signals],
                [c.classifier_version for c in classifications],
                [c.taxonomy_version for c in classifications],
                [c.classified_at for c in classifications],
                [c.primary_domain for c in classifications],
                [c.needs_review for c in classifications],
                [_json(c.scores) for c in classifications],
            )
            if domain_rows:
                await connection.execute(
                    _INSERT_DOMAINS,
                    [signal_id for signal_id, _, _ in domain_rows],
                    [version for _, version, _ in domain_rows],
                    [tag.domain for _, _, tag in domain_rows],
                    [tag.score for _, _, tag in domain_rows],
                    [_json([e.model_dump() for e in tag.evidence]) for _, _, tag in domain_rows],
                )
        return int(status.rsplit(" ", 1)[-1])

    async def signal_facts(
        self, municipality: str, period_start: date, period_end: date
    ) -> list[SignalFacts]:
        rows = await self._pool.fetch(_SIGNAL_FACTS, municipality, period_start, period_end)
        return [
            SignalFacts(
                signal_id=row["signal_id"],
                municipality=row["municipality"],
                neighbourhood=row["neighbourhood"],
                vindplaats=row["vindplaats"],
                knowledge_type=KnowledgeType(row["knowledge_type"]),
                domains=tuple(row["domains"]),
                needs_review=row["needs_review"],
            )
            for row in rows
        ]

    async def save_bundle(self, bundle: PolicyBundleV1) -> None:
        await self._pool.execute(
            """
            INSERT INTO bundles (bundle_id, municipality, period_start, period_end, compiled_at,
                                 min_group_size, body)
            VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
            ON CONFLICT (bundle_id) DO NOTHING
            """,
            bundle.bundle_id,
            bundle.municipality,
            bundle.period_start,
            bundle.period_end,
            bundle.compiled_at,
            bundle.min_group_size,
            bundle.model_dump_json(),
        )

    async def mark_bundle_published(self, bundle: PolicyBundleV1) -> None:
        await self._pool.execute(
            "UPDATE bundles SET published_at = now() WHERE bundle_id = $1 AND published_at IS NULL",
            bundle.bundle_id,
        )
