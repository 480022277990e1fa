"""The retention purge: free text older than the retention period is removed, counts stay.

One transaction: the signals' texts (and theme terms), the reasons of their corrections (here
and in the classifier's training table when it shares the database), decisions' notes, and
the example texts and notes of bundles whose period lies wholly before the cutoff. Rows are
kept, so every count — in stored bundles and in bundles compiled later over the same period —
stays the same. Idempotent: a second run finds nothing left to remove. Audited: every real run
writes one ``retention.purged`` entry with its counts (never the texts).

What this cannot reach, and the operator must: the Kafka topics (their ``retention.ms`` must
not exceed the period), bundle files written to ``bundle_dir``, and backups.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import structlog

from schemas.v1 import PolicyBundleV1
from services.aggregator.domain.render import render_html
from services.aggregator.domain.retention import PURGED_TEXT, retention_cutoff, without_free_text
from services.common.access import Actor, AuditEntry, audit

if TYPE_CHECKING:
    import asyncpg

    Pool = asyncpg.Pool[Any]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    before: date
    dry_run: bool
    signals: int
    correction_reasons: int
    classifier_examples: int
    decision_notes: int
    bundles: int


_COUNT = """
SELECT
  (SELECT count(*) FROM signals WHERE observed_on < $1 AND text_purged_at IS NULL),
  (SELECT count(*) FROM signal_corrections k JOIN signals s USING (signal_id)
    WHERE s.observed_on < $1 AND k.reason IS NOT NULL),
  (SELECT count(*) FROM decisions WHERE decided_at < $1::date AND note IS NOT NULL),
  (SELECT count(*) FROM bundles WHERE period_end < $1 AND examples_purged_at IS NULL)
"""


def default_cutoff(months: int, today: date | None = None) -> date:
    return retention_cutoff(today or datetime.now(UTC).date(), months)


async def purge(
    pool: Pool, *, before: date, dry_run: bool = False, actor: Actor | None = None
) -> PurgeReport:
    """Remove free text about days before ``before``; ``dry_run`` only counts."""
    async with pool.acquire() as connection, connection.transaction():
        # One purge at a time; a concurrent scheduler run waits and then finds nothing left.
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext('seinpost.retention'))")
        has_classifier = await connection.fetchval(
            "SELECT to_regclass('classifier_corrections') IS NOT NULL"
        )
        if dry_run:
            counts = await connection.fetchrow(_COUNT, before)
            assert counts is not None  # a SELECT without FROM returns exactly one row
            signals, reasons, notes, bundles = counts
            examples = 0
            if has_classifier:
                examples = await connection.fetchval(
                    "SELECT count(*) FROM classifier_corrections k JOIN signals s "
                    "USING (signal_id) WHERE s.observed_on < $1 AND k.text <> ''",
                    before,
                )
            return PurgeReport(before, True, signals, reasons, examples, notes, bundles)

        signals = _count(
            await connection.execute(
                "UPDATE signals SET text = $2, terms = '', text_purged_at = now() "
                "WHERE observed_on < $1 AND text_purged_at IS NULL",
                before,
                PURGED_TEXT,
            )
        )
        reasons = _count(
            await connection.execute(
                "UPDATE signal_corrections k SET reason = NULL FROM signals s "
                "WHERE s.signal_id = k.signal_id AND s.observed_on < $1 AND k.reason IS NOT NULL",
                before,
            )
        )
        examples = 0
        if has_classifier:
            # The classifier's training copy of the text; its rows stay (domains, dates).
            examples = _count(
                await connection.execute(
                    "UPDATE classifier_corrections k SET text = '', reason = NULL FROM signals s "
                    "WHERE s.signal_id = k.signal_id AND s.observed_on < $1 "
                    "AND (k.text <> '' OR k.reason IS NOT NULL)",
                    before,
                )
            )
        notes = _count(
            await connection.execute(
                "UPDATE decisions SET note = NULL WHERE decided_at < $1::date AND note IS NOT NULL",
                before,
            )
        )
        await connection.execute("SET LOCAL seinpost.retention_purge = 'on'")
        rows = await connection.fetch(
            "SELECT bundle_id, body FROM bundles "
            "WHERE period_end < $1 AND examples_purged_at IS NULL FOR UPDATE",
            before,
        )
        for row in rows:
            stripped = without_free_text(PolicyBundleV1.model_validate_json(row["body"]))
            await connection.execute(
                "UPDATE bundles SET body = $2::jsonb, html = CASE WHEN html IS NULL THEN NULL "
                "ELSE $3 END, examples_purged_at = now() WHERE bundle_id = $1",
                row["bundle_id"],
                stripped.model_dump_json(),
                render_html(stripped),
            )
        report = PurgeReport(before, False, signals, reasons, examples, notes, len(rows))
        details = asdict(report)
        details["before"] = before.isoformat()
        await audit.record(
            connection,
            AuditEntry(
                audit.RETENTION_PURGED,
                actor or Actor.operator(),
                "system",
                None,
                target=before.isoformat(),
                details=details,
            ),
        )
    log.info("retention.purged", **details)
    return report


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])
