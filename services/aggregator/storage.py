"""PostgreSQL storage for the aggregator: all SQL lives here.

Writes are batched (one statement per table per batch, via ``unnest``) and idempotent on
``signal_id``: replaying a topic from the beginning leaves the tables exactly as they were.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Protocol

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

from schemas.topics import municipality_key
from schemas.v1 import (
    ClassificationSource,
    ClassificationV1,
    DecisionStatus,
    DecisionV1,
    KnowledgeType,
    PolicyBundleV1,
    RedactionCountV1,
    SignalClassifiedV1,
    SignalSubmittedV1,
    TargetGroupV1,
)
from services.aggregator.domain.bundle import PreviousThemeOutcome, SignalRecord
from services.aggregator.domain.text import theme_terms
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


@dataclass(frozen=True, slots=True)
class SteeringGroup:
    steering_group_id: str
    name: str
    network_id: str | None
    municipalities: tuple[str, ...]
    neighbourhoods: tuple[str, ...] | None
    domains_of_interest: tuple[str, ...] | None
    cadence: str
    period_months: int
    min_group_size: int
    active_from: date

    @property
    def municipality_keys(self) -> frozenset[str]:
        return frozenset(municipality_key(m).decode() for m in self.municipalities)

    def covers(self, municipality: str, neighbourhood: str | None) -> bool:
        """Whether a signal from this place lies within the group's area."""
        if municipality_key(municipality).decode() not in self.municipality_keys:
            return False
        if self.neighbourhoods is None:
            return True
        wanted = {n.casefold() for n in self.neighbourhoods}
        return neighbourhood is not None and neighbourhood.strip().casefold() in wanted


@dataclass(frozen=True, slots=True)
class Network:
    network_id: str
    name: str


@dataclass(frozen=True, slots=True)
class ThemeRow:
    theme_id: str
    label: str
    domain: str | None
    signal_ids: tuple[uuid.UUID, ...]
    terms: tuple[str, ...] = ()
    signal_count: int | None = None  # None: the number of signal_ids


@dataclass(frozen=True, slots=True)
class StoredBundle:
    bundle_id: uuid.UUID
    steering_group_id: str | None
    version: int
    period_start: date
    period_end: date
    compiled_at: datetime
    published_at: datetime | None
    trigger: str
    bundle: PolicyBundleV1
    html: str | None


@dataclass(frozen=True, slots=True)
class ThemeView:
    bundle_id: uuid.UUID
    version: int
    period_start: date
    period_end: date
    theme_id: str
    label: str
    domain: str | None
    signal_count: int
    decision: DecisionV1 | None


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    signal_id: uuid.UUID
    observed_on: date
    steering_group_id: str | None
    steering_group_name: str | None
    period_start: date | None
    period_end: date | None
    theme_id: str | None
    theme_label: str | None
    domain: str | None
    decision: DecisionV1 | None


class SignalStore(Protocol):
    """What the consumer handlers need; the bundle and API code use ``PostgresSignalStore``."""

    async def store_classified(
        self, items: Sequence[tuple[RecordRef, SignalClassifiedV1]]
    ) -> int: ...

    async def store_decisions(self, items: Sequence[tuple[RecordRef, DecisionV1]]) -> int: ...


_SIGNAL_COLUMNS = [
    "signal_id", "schema_version", "observed_on", "submitted_at", "received_at", "text",
    "municipality", "neighbourhood", "vindplaats", "reporter_role", "knowledge_type",
    "target_group", "families_count", "organisation", "redactions", "source_topic",
    "source_partition", "source_offset", "terms",
]  # fmt: skip
_CLASSIFICATION_COLUMNS = [
    "signal_id", "classifier_version", "taxonomy_version", "classified_at", "primary_domain",
    "needs_review", "scores",
]  # fmt: skip
_DOMAIN_COLUMNS = ["signal_id", "classifier_version", "domain", "score", "evidence"]
_TAG_COLUMNS = [
    "signal_id", "source", "source_rank", "effective_at", "tie_break", "classifier_version",
    "correction_id", "domains", "primary_domain", "needs_review",
]  # fmt: skip

# Temporary, per connection, emptied at every commit: a batch is copied in, then moved with
# the same ON CONFLICT rules. Duplicates within a batch are removed in Python beforehand
# (PostgreSQL refuses to touch a row twice in one statement).
_CREATE_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS stage_signals
    (LIKE signals INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_classifications
    (LIKE signal_classifications INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_domains
    (LIKE signal_domains INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_current_tags
    (LIKE signal_current_tags INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
"""


def _insert_staged(table: str, columns: list[str], stage: str, key: str) -> str:
    """Rows staged by COPY into their table, each once: a row already there (same key) stays."""
    names = ", ".join(columns)
    return (
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} "  # noqa: S608 - constants
        f"ON CONFLICT ({key}) DO NOTHING"
    )


_INSERT_SIGNALS = _insert_staged("signals", _SIGNAL_COLUMNS, "stage_signals", "signal_id")

_INSERT_CLASSIFICATIONS = _insert_staged(
    "signal_classifications",
    _CLASSIFICATION_COLUMNS,
    "stage_classifications",
    "signal_id, classifier_version",
)

_INSERT_DOMAINS = _insert_staged(
    "signal_domains", _DOMAIN_COLUMNS, "stage_domains", "signal_id, classifier_version, domain"
)

# A row is only replaced by one that ranks higher — (correction before model, later before
# earlier, then a fixed tie-break) — so arrival order and replays cannot change the outcome.
_REPLACE_IF_HIGHER_RANK = """ON CONFLICT (signal_id) DO UPDATE SET
    source = excluded.source, source_rank = excluded.source_rank,
    effective_at = excluded.effective_at, tie_break = excluded.tie_break,
    classifier_version = excluded.classifier_version, correction_id = excluded.correction_id,
    domains = excluded.domains, primary_domain = excluded.primary_domain,
    needs_review = excluded.needs_review
WHERE (excluded.source_rank, excluded.effective_at, excluded.tie_break)
    > (t.source_rank, t.effective_at, t.tie_break)"""

# The common batch — model classifications of distinct signals, no corrections — goes through
# one wide staging row per signal instead of four narrower ones: one COPY, and PostgreSQL (not
# Python) spreads it over the four tables. Same ON CONFLICT rules as the general path below.
_WIDE_COLUMNS = [
    *_SIGNAL_COLUMNS, "classifier_version", "taxonomy_version", "classified_at",
    "primary_domain", "needs_review", "scores", "domains", "domain_scores", "domain_evidence",
]  # fmt: skip
_CREATE_WIDE_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS stage_wide (
    signal_id uuid, schema_version text, observed_on date, submitted_at timestamptz,
    received_at timestamptz, text text, municipality text, neighbourhood text, vindplaats text,
    reporter_role text, knowledge_type text, target_group jsonb, families_count integer,
    organisation text, redactions jsonb, source_topic text, source_partition integer,
    source_offset bigint, terms text,
    classifier_version text, taxonomy_version text, classified_at timestamptz,
    primary_domain text, needs_review boolean, scores jsonb,
    domains text, domain_scores real[], domain_evidence jsonb
) ON COMMIT DELETE ROWS
"""
_WIDE_INSERT_SIGNALS = _insert_staged("signals", _SIGNAL_COLUMNS, "stage_wide", "signal_id")
_WIDE_INSERT_CLASSIFICATIONS = _insert_staged(
    "signal_classifications", _CLASSIFICATION_COLUMNS, "stage_wide", "signal_id, classifier_version"
)
_WIDE_INSERT_DOMAINS = f"""
INSERT INTO signal_domains ({", ".join(_DOMAIN_COLUMNS)})
SELECT w.signal_id, w.classifier_version, d.domain, d.score, w.domain_evidence -> (d.n::int - 1)
FROM stage_wide AS w, unnest(string_to_array(w.domains, ' '), w.domain_scores)
     WITH ORDINALITY AS d (domain, score, n)
ON CONFLICT (signal_id, classifier_version, domain) DO NOTHING
"""  # noqa: S608 - constant column lists, no input
# A model classification's tag row, as _tag_row makes it.
_WIDE_UPSERT_CURRENT_TAGS = f"""
INSERT INTO signal_current_tags AS t ({", ".join(_TAG_COLUMNS)})
SELECT signal_id, 'model', 0, classified_at, classifier_version, classifier_version, NULL,
       string_to_array(domains, ' '), primary_domain, needs_review
FROM stage_wide
{_REPLACE_IF_HIGHER_RANK}
"""  # noqa: S608 - constant column lists, no input

_INSERT_CORRECTIONS = """
INSERT INTO signal_corrections (
    correction_id, signal_id, domains, corrected_by_role, corrected_at, reason, taxonomy_id
)
SELECT c, s, string_to_array(d, ','), r, t, why, tax
FROM unnest(
    $1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[]
) AS u (c, s, d, r, t, why, tax)
ON CONFLICT (correction_id) DO NOTHING
"""

_UPSERT_CURRENT_TAGS = f"""
INSERT INTO signal_current_tags AS t ({", ".join(_TAG_COLUMNS)})
SELECT {", ".join(_TAG_COLUMNS)} FROM stage_current_tags
{_REPLACE_IF_HIGHER_RANK}
"""  # noqa: S608 - constant column lists, no input

_INSERT_DECISIONS = """
INSERT INTO decisions (
    decision_id, steering_group_id, theme_id, bundle_id, status, owner, note, decided_at,
    source_topic, source_partition, source_offset
)
SELECT * FROM unnest(
    $1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[],
    $8::timestamptz[], $9::text[], $10::int[], $11::bigint[]
)
ON CONFLICT (decision_id) DO NOTHING
"""

_SCOPE_SIGNALS = """
SELECT s.signal_id, s.municipality, s.neighbourhood, s.vindplaats, s.reporter_role,
       s.organisation, s.knowledge_type, s.observed_on, s.received_at, s.text,
       t.domains, t.primary_domain, t.needs_review, s.terms
FROM signals AS s
JOIN signal_current_tags AS t USING (signal_id)
WHERE lower(s.municipality) = ANY($1::text[])
  AND s.observed_on BETWEEN $2 AND $3
  AND ($4::text[] IS NULL OR lower(s.neighbourhood) = ANY($4::text[]))
"""

# A baseline record: what a bundle compares across periods (place, day, tags, terms) and no
# more; at a region-wide scale the other columns were most of the decoding.
_SCOPE_BASELINE = """
SELECT s.signal_id, s.municipality, s.neighbourhood, s.observed_on,
       CASE WHEN s.terms IS NULL THEN s.text ELSE '' END,
       t.domains, t.primary_domain, t.needs_review, s.terms
FROM signals AS s
JOIN signal_current_tags AS t USING (signal_id)
WHERE lower(s.municipality) = ANY($1::text[])
  AND s.observed_on BETWEEN $2 AND $3
  AND ($4::text[] IS NULL OR lower(s.neighbourhood) = ANY($4::text[]))
"""
_NOT_FETCHED_AT = datetime(1970, 1, 1, tzinfo=UTC)
# A region-wide year moves hundreds of thousands of rows, while the bundle's other queries run
# beside it: more than the pool's per-command timeout allows on a busy machine.
_SCOPE_TIMEOUT_S = 300.0

_BUNDLE_COLUMNS = """
bundle_id, steering_group_id, version, period_start, period_end, compiled_at, published_at,
trigger, body, html
"""

_CURRENT_DECISION = """
LEFT JOIN LATERAL (
    SELECT d.* FROM decisions AS d
    WHERE d.steering_group_id = {group} AND d.theme_id = {theme}
    ORDER BY d.decided_at DESC, d.decision_id DESC
    LIMIT 1
) AS dec ON true
"""


def _json(value: object) -> str:
    return orjson.dumps(value).decode("utf-8")


def _signal_row(s: SignalSubmittedV1, record: RecordRef) -> tuple[Any, ...]:
    """The `signals` columns of one signal, in _SIGNAL_COLUMNS' order: the general path and
    the one-COPY path stage the same values."""
    return (
        s.signal_id,
        s.schema_version,
        s.observed_on,
        s.submitted_at,
        s.received_at,
        s.text,
        s.municipality,
        s.neighbourhood,
        s.vindplaats,
        s.reporter_role,
        s.knowledge_type.value,
        s.target_group.model_dump_json(),
        s.families_count,
        s.organisation,
        _json([r.model_dump(mode="json") for r in s.redactions]) if s.redactions else "[]",
        record.topic,
        record.partition,
        record.offset,
        theme_terms(s.text),
    )


def _source(classification: ClassificationV1) -> str:
    # 1.0 events have no ``source``: the model default applies, which is what they were.
    return classification.source.value


@dataclass(frozen=True, slots=True)
class _TagRow:
    signal_id: uuid.UUID
    source: str
    rank: int
    effective_at: datetime
    tie_break: str
    classifier_version: str | None
    correction_id: uuid.UUID | None
    domains: tuple[str, ...]
    primary_domain: str | None
    needs_review: bool

    @property
    def key(self) -> tuple[int, datetime, str]:
        return (self.rank, self.effective_at, self.tie_break)


def _tag_row(classified: SignalClassifiedV1) -> _TagRow:
    c = classified.classification
    domains = tuple(tag.domain for tag in c.domains)
    correction = c.correction
    if c.source is ClassificationSource.CORRECTION and correction is not None:
        return _TagRow(
            classified.signal.signal_id,
            "correction",
            1,
            correction.corrected_at,
            str(correction.correction_id),
            None,
            correction.correction_id,
            domains,
            c.primary_domain,
            c.needs_review,
        )
    return _TagRow(
        classified.signal.signal_id,
        "model",
        0,
        c.classified_at,
        c.classifier_version,
        c.classifier_version,
        None,
        domains,
        c.primary_domain,
        c.needs_review,
    )


def _decision(row: asyncpg.Record, prefix: str = "") -> DecisionV1 | None:
    if row[f"{prefix}decision_id"] is None:
        return None
    return DecisionV1(
        decision_id=row[f"{prefix}decision_id"],
        steering_group_id=row[f"{prefix}steering_group_id"],
        theme_id=row[f"{prefix}theme_id"],
        bundle_id=row[f"{prefix}bundle_id"],
        status=DecisionStatus(row[f"{prefix}status"]),
        owner=row[f"{prefix}owner"],
        note=row[f"{prefix}note"],
        decided_at=row[f"{prefix}decided_at"],
    )


def _steering_group(row: asyncpg.Record) -> SteeringGroup:
    return SteeringGroup(
        steering_group_id=row["steering_group_id"],
        name=row["name"],
        network_id=row["network_id"],
        municipalities=tuple(row["municipalities"]),
        neighbourhoods=tuple(row["neighbourhoods"]) if row["neighbourhoods"] is not None else None,
        domains_of_interest=(
            tuple(row["domains_of_interest"]) if row["domains_of_interest"] is not None else None
        ),
        cadence=row["cadence"],
        period_months=row["period_months"],
        min_group_size=row["min_group_size"],
        active_from=row["active_from"],
    )


def _stored_bundle(row: asyncpg.Record) -> StoredBundle:
    return StoredBundle(
        bundle_id=row["bundle_id"],
        steering_group_id=row["steering_group_id"],
        version=row["version"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        compiled_at=row["compiled_at"],
        published_at=row["published_at"],
        trigger=row["trigger"],
        bundle=PolicyBundleV1.model_validate_json(row["body"]),
        html=row["html"],
    )


def _lock_key(steering_group_id: str, period_start: date, period_end: date) -> str:
    return f"seinpost-bundle:{steering_group_id}:{period_start}:{period_end}"


class PostgresSignalStore:
    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool

    @property
    def pool(self) -> asyncpg.Pool[Any]:
        return self._pool

    # --- signals, classifications, corrections ---------------------------------------------

    async def store_classified(self, items: Sequence[tuple[RecordRef, SignalClassifiedV1]]) -> int:
        """Store a batch in one transaction; returns how many signals were new."""
        if not items:
            return 0
        wide = self._wide_rows(items)
        if wide is not None:
            return await self._store_wide(wide)
        first: dict[uuid.UUID, tuple[RecordRef, SignalSubmittedV1]] = {}
        for record, classified in items:
            first.setdefault(classified.signal.signal_id, (record, classified.signal))
        signals = [signal for _, signal in first.values()]
        records = [record for record, _ in first.values()]
        models = [c for _, c in items if _source(c.classification) != "correction"]
        corrections = [c for _, c in items if _source(c.classification) == "correction"]
        # A batch may hold the same classification twice (a redelivery): keep one of each.
        unique_models = list(
            {(c.signal.signal_id, c.classification.classifier_version): c for c in models}.values()
        )
        domain_rows = [
            (c.signal.signal_id, c.classification.classifier_version, tag)
            for c in unique_models
            for tag in c.classification.domains
        ]
        # One row per signal for the upsert (PostgreSQL refuses to update a row twice in one
        # statement): the highest-ranking tags of the batch, as the table would keep anyway.
        best: dict[uuid.UUID, _TagRow] = {}
        for _, classified in items:
            row = _tag_row(classified)
            if row.signal_id not in best or row.key > best[row.signal_id].key:
                best[row.signal_id] = row
        tags = list(best.values())
        signal_rows = [_signal_row(s, record) for s, record in zip(signals, records, strict=True)]
        classification_rows = [
            (
                c.signal.signal_id,
                c.classification.classifier_version,
                c.classification.taxonomy_version,
                c.classification.classified_at,
                c.classification.primary_domain,
                c.classification.needs_review,
                _json(c.classification.scores),
            )
            for c in unique_models
        ]
        domain_copy = [
            (
                signal_id,
                version,
                tag.domain,
                tag.score,
                _json([e.model_dump() for e in tag.evidence]) if tag.evidence else "[]",
            )
            for signal_id, version, tag in domain_rows
        ]
        tag_rows = [
            (
                t.signal_id,
                t.source,
                t.rank,
                t.effective_at,
                t.tie_break,
                t.classifier_version,
                t.correction_id,
                list(t.domains),
                t.primary_domain,
                t.needs_review,
            )
            for t in tags
        ]
        refs = [
            (c.signal.signal_id, c.classification, c.classification.correction)
            for c in corrections
            if c.classification.correction is not None
        ]
        async with self._pool.acquire() as connection, connection.transaction():
            # Binary COPY into per-connection staging tables, then one INSERT … SELECT … ON
            # CONFLICT per table: several times cheaper than binding arrays to ``unnest``
            # (asyncpg checks every array element in Python), with the same idempotency.
            await connection.execute(_CREATE_STAGING)
            await connection.copy_records_to_table(
                "stage_signals", records=signal_rows, columns=_SIGNAL_COLUMNS
            )
            status = await connection.execute(_INSERT_SIGNALS)
            if classification_rows:
                await connection.copy_records_to_table(
                    "stage_classifications",
                    records=classification_rows,
                    columns=_CLASSIFICATION_COLUMNS,
                )
                await connection.execute(_INSERT_CLASSIFICATIONS)
            if domain_copy:
                await connection.copy_records_to_table(
                    "stage_domains", records=domain_copy, columns=_DOMAIN_COLUMNS
                )
                await connection.execute(_INSERT_DOMAINS)
            if refs:
                await connection.execute(
                    _INSERT_CORRECTIONS,
                    [ref.correction_id for _, _, ref in refs],
                    [signal_id for signal_id, _, _ in refs],
                    [",".join(t.domain for t in c.domains) for _, c, _ in refs],
                    [ref.corrected_by_role for _, _, ref in refs],
                    [ref.corrected_at for _, _, ref in refs],
                    [ref.reason for _, _, ref in refs],
                    [c.taxonomy_version for _, c, _ in refs],
                )
            await connection.copy_records_to_table(
                "stage_current_tags", records=tag_rows, columns=_TAG_COLUMNS
            )
            await connection.execute(_UPSERT_CURRENT_TAGS)
        return int(status.rsplit(" ", 1)[-1])

    @staticmethod
    def _wide_rows(
        items: Sequence[tuple[RecordRef, SignalClassifiedV1]],
    ) -> list[tuple[Any, ...]] | None:
        """One staging row per item, or None when the batch needs the general path: a
        correction, or a signal twice (a redelivery), which that path reduces first."""
        rows: list[tuple[Any, ...]] = []
        seen: set[int] = set()  # UUIDs as integers: cheaper to hash
        model = ClassificationSource.MODEL
        for record, classified in items:
            s, c = classified.signal, classified.classification
            if c.source is not model or s.signal_id.int in seen:
                return None
            seen.add(s.signal_id.int)
            tags = c.domains
            rows.append(
                (
                    *_signal_row(s, record),
                    c.classifier_version,
                    c.taxonomy_version,
                    c.classified_at,
                    c.primary_domain,
                    c.needs_review,
                    _json(c.scores),
                    # Domains are slugs (no spaces): one string instead of an array, whose
                    # encoding asyncpg checks element by element in Python.
                    " ".join([tag.domain for tag in tags]),
                    [tag.score for tag in tags],
                    _json([[e.model_dump() for e in tag.evidence] for tag in tags]),
                )
            )
        return rows

    async def _store_wide(self, rows: list[tuple[Any, ...]]) -> int:
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(_CREATE_WIDE_STAGING)
            await connection.copy_records_to_table(
                "stage_wide", records=rows, columns=_WIDE_COLUMNS
            )
            status = await connection.execute(_WIDE_INSERT_SIGNALS)
            await connection.execute(_WIDE_INSERT_CLASSIFICATIONS)
            await connection.execute(_WIDE_INSERT_DOMAINS)
            await connection.execute(_WIDE_UPSERT_CURRENT_TAGS)
        return int(status.rsplit(" ", 1)[-1])

    async def current_tags(self, signal_id: uuid.UUID) -> tuple[str, tuple[str, ...]] | None:
        row = await self._pool.fetchrow(
            "SELECT source, domains FROM signal_current_tags WHERE signal_id = $1", signal_id
        )
        return (row["source"], tuple(row["domains"])) if row else None

    async def tag_history(self, signal_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            "SELECT * FROM signal_tag_history WHERE signal_id = $1 ORDER BY changed_at, source",
            signal_id,
        )
        return [dict(row) for row in rows]

    async def submitted_signal(self, signal_id: uuid.UUID) -> SignalSubmittedV1 | None:
        """The stored signal as intake published it (already scrubbed), e.g. for a correction."""
        row = await self._pool.fetchrow("SELECT * FROM signals WHERE signal_id = $1", signal_id)
        if row is None:
            return None
        return SignalSubmittedV1(
            schema_version=row["schema_version"],
            signal_id=row["signal_id"],
            observed_on=row["observed_on"],
            text=row["text"],
            municipality=row["municipality"],
            neighbourhood=row["neighbourhood"],
            vindplaats=row["vindplaats"],
            reporter_role=row["reporter_role"],
            knowledge_type=KnowledgeType(row["knowledge_type"]),
            target_group=TargetGroupV1.model_validate_json(row["target_group"]),
            families_count=row["families_count"],
            organisation=row["organisation"],
            submitted_at=row["submitted_at"],
            received_at=row["received_at"],
            redactions=[
                RedactionCountV1.model_validate(item) for item in orjson.loads(row["redactions"])
            ],
        )

    async def scope_signals(
        self,
        municipalities: Sequence[str],
        period_start: date,
        period_end: date,
        neighbourhoods: Sequence[str] | None = None,
        *,
        with_text: bool = True,
    ) -> list[SignalRecord]:
        """Signals of the area and dates with their current tags and stored theme terms.

        ``with_text=False`` fetches a baseline: place, day, tags and terms only (the text only
        where no terms are stored); the source fields (vindplaats, role, organisation, knowledge
        type) are left blank and ``received_at`` at the epoch. A bundle compares its baseline
        on terms and counts, and those columns were most of what a region-wide query moved.
        """
        keys = sorted({municipality_key(m).decode() for m in municipalities})
        wanted = sorted({n.strip().casefold() for n in neighbourhoods}) if neighbourhoods else None
        async with self._pool.acquire() as connection:
            if not with_text:
                rows = await connection.fetch(
                    _SCOPE_BASELINE,
                    keys,
                    period_start,
                    period_end,
                    wanted,
                    timeout=_SCOPE_TIMEOUT_S,
                )
                professional = KnowledgeType.PROFESSIONAL
                return [
                    SignalRecord(
                        row[0],
                        row[1],
                        row[2],
                        "",
                        "",
                        "",
                        professional,
                        row[3],
                        _NOT_FETCHED_AT,
                        row[4],
                        tuple(row[5]),
                        row[6],
                        row[7],
                        row[8],
                    )
                    for row in rows
                ]
            rows = await connection.fetch(
                _SCOPE_SIGNALS, keys, period_start, period_end, wanted, timeout=_SCOPE_TIMEOUT_S
            )
        kinds = {kind.value: kind for kind in KnowledgeType}
        return [
            SignalRecord(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                kinds[row[6]],
                row[7],
                row[8],
                row[9],
                tuple(row[10]),
                row[11],
                row[12],
                row[13],
            )
            for row in rows
        ]

    # --- networks and steering groups ------------------------------------------------------

    async def upsert_network(self, network: Network) -> None:
        await self._pool.execute(
            """
            INSERT INTO networks (network_id, name) VALUES ($1, $2)
            ON CONFLICT (network_id) DO UPDATE SET name = excluded.name
            """,
            network.network_id,
            network.name,
        )

    async def networks(self) -> list[Network]:
        rows = await self._pool.fetch("SELECT network_id, name FROM networks ORDER BY network_id")
        return [Network(row["network_id"], row["name"]) for row in rows]

    async def upsert_steering_group(self, group: SteeringGroup) -> None:
        await self._pool.execute(
            """
            INSERT INTO steering_groups (
                steering_group_id, network_id, name, municipalities, municipality_keys,
                neighbourhoods, domains_of_interest, cadence, period_months, min_group_size,
                active_from
            ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (steering_group_id) DO UPDATE SET
                network_id = excluded.network_id, name = excluded.name,
                municipalities = excluded.municipalities,
                municipality_keys = excluded.municipality_keys,
                neighbourhoods = excluded.neighbourhoods,
                domains_of_interest = excluded.domains_of_interest, cadence = excluded.cadence,
                period_months = excluded.period_months, min_group_size = excluded.min_group_size,
                active_from = excluded.active_from, updated_at = now()
            """,
            group.steering_group_id,
            group.network_id,
            group.name,
            list(group.municipalities),
            sorted(group.municipality_keys),
            list(group.neighbourhoods) if group.neighbourhoods is not None else None,
            list(group.domains_of_interest) if group.domains_of_interest is not None else None,
            group.cadence,
            group.period_months,
            group.min_group_size,
            group.active_from,
        )

    async def steering_groups(self) -> list[SteeringGroup]:
        rows = await self._pool.fetch("SELECT * FROM steering_groups ORDER BY steering_group_id")
        return [_steering_group(row) for row in rows]

    async def steering_group(self, steering_group_id: str) -> SteeringGroup | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM steering_groups WHERE steering_group_id = $1", steering_group_id
        )
        return _steering_group(row) if row else None

    # --- bundles and themes ----------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def period_lock(
        self, steering_group_id: str, period_start: date, period_end: date, *, wait: bool
    ) -> AsyncIterator[bool]:
        """Hold the lock for one steering group and period while a bundle is compiled.

        A session-level advisory lock: if this process dies, PostgreSQL drops the connection
        and the lock with it, so a crashed replica never blocks the period for good.
        """
        key = _lock_key(steering_group_id, period_start, period_end)
        async with self._pool.acquire() as connection:
            if wait:
                await connection.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", key)
                held = True
            else:
                held = bool(
                    await connection.fetchval(
                        "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", key
                    )
                )
            try:
                yield held
            finally:
                if held:
                    await connection.execute(
                        "SELECT pg_advisory_unlock(hashtextextended($1, 0))", key
                    )

    async def bundle_versions(
        self, steering_group_id: str, period_start: date, period_end: date
    ) -> int:
        """How many versions exist for the group and period (0 when none)."""
        value = await self._pool.fetchval(
            """
            SELECT coalesce(max(version), 0) FROM bundles
            WHERE steering_group_id = $1 AND period_start = $2 AND period_end = $3
            """,
            steering_group_id,
            period_start,
            period_end,
        )
        return int(value)

    async def save_bundle(
        self,
        bundle: PolicyBundleV1,
        *,
        steering_group_id: str | None = None,
        version: int = 1,
        trigger: str = "on_demand",
        themes: Sequence[ThemeRow] = (),
        html: str | None = None,
    ) -> None:
        """Commit the bundle with its themes in one transaction (idempotent on bundle_id)."""
        bundle_id = bundle.bundle_id
        theme_signals = [
            (bundle_id, t.theme_id, signal_id) for t in themes for signal_id in t.signal_ids
        ]
        async with self._pool.acquire() as connection, connection.transaction():
            status = await connection.execute(
                """
                INSERT INTO bundles (bundle_id, municipality, period_start, period_end,
                                     compiled_at, min_group_size, body, steering_group_id,
                                     version, trigger, html)
                VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11)
                ON CONFLICT (bundle_id) DO NOTHING
                """,
                bundle.bundle_id,
                ", ".join(bundle.area.municipalities),
                bundle.period_start,
                bundle.period_end,
                bundle.compiled_at,
                bundle.min_group_size,
                bundle.model_dump_json(),
                steering_group_id,
                version,
                trigger,
                html,
            )
            if status.endswith(" 0") or not themes:
                return
            await connection.execute(
                """
                INSERT INTO bundle_themes (bundle_id, theme_id, label, domain, terms, signal_count)
                SELECT $1, th, l, d, string_to_array(te, '|'), n
                FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[])
                    AS u (th, l, d, te, n)
                """,
                bundle.bundle_id,
                [t.theme_id for t in themes],
                [t.label for t in themes],
                [t.domain for t in themes],
                ["|".join(t.terms) for t in themes],
                [
                    t.signal_count if t.signal_count is not None else len(t.signal_ids)
                    for t in themes
                ],
            )
            if theme_signals:
                # A region-wide bundle places a quarter of a million signals: binary COPY
                # (the bundle row above is new, so these rows are too).
                await connection.copy_records_to_table(
                    "theme_signals",
                    records=theme_signals,
                    columns=["bundle_id", "theme_id", "signal_id"],
                    timeout=600,
                )

    async def mark_bundle_published(self, bundle: PolicyBundleV1) -> None:
        await self._pool.execute(
            "UPDATE bundles SET published_at = now() WHERE bundle_id = $1 AND published_at IS NULL",
            bundle.bundle_id,
        )

    async def unpublished_bundles(self, *, older_than_s: float) -> list[StoredBundle]:
        rows = await self._pool.fetch(
            f"""
            SELECT {_BUNDLE_COLUMNS} FROM bundles
            WHERE published_at IS NULL AND compiled_at <= now() - make_interval(secs => $1)
            ORDER BY compiled_at
            """,  # noqa: S608 - a constant column list, no input
            older_than_s,
        )
        return [_stored_bundle(row) for row in rows]

    async def bundles_of(self, steering_group_id: str) -> list[StoredBundle]:
        rows = await self._pool.fetch(
            f"""
            SELECT {_BUNDLE_COLUMNS} FROM bundles WHERE steering_group_id = $1
            ORDER BY period_start DESC, period_end DESC, version DESC
            """,  # noqa: S608 - a constant column list, no input
            steering_group_id,
        )
        return [_stored_bundle(row) for row in rows]

    async def bundle(self, bundle_id: uuid.UUID) -> StoredBundle | None:
        row = await self._pool.fetchrow(
            f"SELECT {_BUNDLE_COLUMNS} FROM bundles WHERE bundle_id = $1",  # noqa: S608
            bundle_id,
        )
        return _stored_bundle(row) if row else None

    async def previous_outcomes(
        self, steering_group_id: str, before: date
    ) -> list[PreviousThemeOutcome]:
        """Themes of the group's latest bundle of an earlier period, with their decision."""
        rows = await self._pool.fetch(
            f"""
            WITH previous AS (
                SELECT bundle_id FROM bundles
                WHERE steering_group_id = $1 AND period_end < $2
                ORDER BY period_end DESC, version DESC
                LIMIT 1
            )
            SELECT th.theme_id, th.label, th.domain, th.terms,
                   dec.status, dec.owner, dec.note, dec.decided_at
            FROM previous JOIN bundle_themes AS th USING (bundle_id)
            {_CURRENT_DECISION.format(group="$1", theme="th.theme_id")}
            ORDER BY th.signal_count DESC, th.theme_id
            """,  # noqa: S608 - constant SQL fragments, no input
            steering_group_id,
            before,
        )
        return [
            PreviousThemeOutcome(
                theme_id=row["theme_id"],
                label=row["label"],
                domain=row["domain"] or "",
                terms=tuple(row["terms"]),
                decision_status=row["status"],
                owner=row["owner"],
                note=row["note"],
                decided_at=row["decided_at"],
            )
            for row in rows
        ]

    async def themes_of(self, steering_group_id: str) -> list[ThemeView]:
        """Themes of the latest version of each period's bundle, with the current decision."""
        rows = await self._pool.fetch(
            f"""
            WITH latest AS (
                SELECT DISTINCT ON (period_start, period_end)
                       bundle_id, version, period_start, period_end
                FROM bundles WHERE steering_group_id = $1
                ORDER BY period_start, period_end, version DESC
            )
            SELECT l.bundle_id, l.version, l.period_start, l.period_end, th.theme_id, th.label,
                   th.domain, th.signal_count,
                   dec.decision_id AS d_decision_id, dec.steering_group_id AS d_steering_group_id,
                   dec.theme_id AS d_theme_id, dec.bundle_id AS d_bundle_id,
                   dec.status AS d_status, dec.owner AS d_owner, dec.note AS d_note,
                   dec.decided_at AS d_decided_at
            FROM latest AS l JOIN bundle_themes AS th USING (bundle_id)
            {_CURRENT_DECISION.format(group="$1", theme="th.theme_id")}
            ORDER BY l.period_start DESC, th.signal_count DESC, th.theme_id
            """,  # noqa: S608 - constant SQL fragments, no input
            steering_group_id,
        )
        return [
            ThemeView(
                bundle_id=row["bundle_id"],
                version=row["version"],
                period_start=row["period_start"],
                period_end=row["period_end"],
                theme_id=row["theme_id"],
                label=row["label"],
                domain=row["domain"],
                signal_count=row["signal_count"],
                decision=_decision(row, "d_"),
            )
            for row in rows
        ]

    async def theme_bundle(self, steering_group_id: str, theme_id: str) -> uuid.UUID | None:
        """The most recent bundle of the group that contains the theme."""
        value = await self._pool.fetchval(
            """
            SELECT b.bundle_id FROM bundles AS b JOIN bundle_themes AS th USING (bundle_id)
            WHERE b.steering_group_id = $1 AND th.theme_id = $2
            ORDER BY b.compiled_at DESC LIMIT 1
            """,
            steering_group_id,
            theme_id,
        )
        return value if isinstance(value, uuid.UUID) else None

    # --- decisions and feedback ------------------------------------------------------------

    async def store_decisions(self, items: Sequence[tuple[RecordRef, DecisionV1]]) -> int:
        if not items:
            return 0
        unique = {decision.decision_id: (record, decision) for record, decision in items}
        rows = list(unique.values())
        status = await self._pool.execute(
            _INSERT_DECISIONS,
            [d.decision_id for _, d in rows],
            [d.steering_group_id for _, d in rows],
            [d.theme_id for _, d in rows],
            [d.bundle_id for _, d in rows],
            [d.status.value for _, d in rows],
            [d.owner for _, d in rows],
            [d.note for _, d in rows],
            [d.decided_at for _, d in rows],
            [r.topic for r, _ in rows],
            [r.partition for r, _ in rows],
            [r.offset for r, _ in rows],
        )
        return int(status.rsplit(" ", 1)[-1])

    async def decision_history(self, steering_group_id: str, theme_id: str) -> list[DecisionV1]:
        rows = await self._pool.fetch(
            """
            SELECT * FROM decisions WHERE steering_group_id = $1 AND theme_id = $2
            ORDER BY decided_at, decision_id
            """,
            steering_group_id,
            theme_id,
        )
        return [d for d in (_decision(row) for row in rows) if d is not None]

    async def feedback(self, organisation: str, *, limit: int = 1000) -> list[FeedbackRow]:
        """For one organisation's own signals: the themes they ended up in, and the decision.

        Only published bundles count (what a steering group actually read), and of those the
        latest version per group and period.
        """
        rows = await self._pool.fetch(
            f"""
            WITH own AS (
                SELECT signal_id, observed_on FROM signals WHERE organisation = $1
                ORDER BY observed_on DESC, signal_id LIMIT $2
            ),
            latest AS (
                SELECT DISTINCT ON (steering_group_id, period_start, period_end)
                       bundle_id, steering_group_id, period_start, period_end
                FROM bundles
                WHERE steering_group_id IS NOT NULL AND published_at IS NOT NULL
                ORDER BY steering_group_id, period_start, period_end, version DESC
            ),
            placed AS (
                SELECT ts.signal_id, l.bundle_id, l.steering_group_id, l.period_start,
                       l.period_end, ts.theme_id
                FROM theme_signals AS ts JOIN latest AS l USING (bundle_id)
                WHERE ts.signal_id IN (SELECT signal_id FROM own)
            )
            SELECT own.signal_id, own.observed_on, p.steering_group_id, g.name AS group_name,
                   p.period_start, p.period_end, p.theme_id, th.label, th.domain,
                   dec.decision_id AS d_decision_id, dec.steering_group_id AS d_steering_group_id,
                   dec.theme_id AS d_theme_id, dec.bundle_id AS d_bundle_id,
                   dec.status AS d_status, dec.owner AS d_owner, dec.note AS d_note,
                   dec.decided_at AS d_decided_at
            FROM own
            LEFT JOIN placed AS p USING (signal_id)
            LEFT JOIN bundle_themes AS th
                   ON th.bundle_id = p.bundle_id AND th.theme_id = p.theme_id
            LEFT JOIN steering_groups AS g ON g.steering_group_id = p.steering_group_id
            {_CURRENT_DECISION.format(group="p.steering_group_id", theme="p.theme_id")}
            ORDER BY own.observed_on DESC, own.signal_id, p.period_start DESC
            """,  # noqa: S608 - constant SQL fragments, no input
            organisation,
            limit,
        )
        return [
            FeedbackRow(
                signal_id=row["signal_id"],
                observed_on=row["observed_on"],
                steering_group_id=row["steering_group_id"],
                steering_group_name=row["group_name"],
                period_start=row["period_start"],
                period_end=row["period_end"],
                theme_id=row["theme_id"],
                theme_label=row["label"],
                domain=row["domain"],
                decision=_decision(row, "d_"),
            )
            for row in rows
        ]
