"""Stand-ins for the bundle-analysis interface (``SignalRecord``, ``BundleScope``,
``PreviousThemeOutcome``, ``compile_bundle``) until that work lands in ``domain/``.

The platform (storage, scheduler, API) is written against these shapes; when the domain
versions arrive, the imports switch and this module goes away.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from schemas.v1 import KnowledgeType, PolicyBundleV1
from services.aggregator.domain.bundle import SignalFacts
from services.aggregator.domain.bundle import compile_bundle as _compile_counts


@dataclass(frozen=True)
class SignalRecord:
    signal_id: uuid.UUID
    municipality: str
    neighbourhood: str | None
    vindplaats: str
    reporter_role: str
    organisation: str
    knowledge_type: KnowledgeType
    observed_on: date
    received_at: datetime
    text: str
    domains: tuple[str, ...]
    primary_domain: str | None
    needs_review: bool


@dataclass(frozen=True)
class BundleScope:
    steering_group_id: str
    steering_group_name: str
    municipalities: tuple[str, ...]
    neighbourhoods: tuple[str, ...] | None
    domains_of_interest: tuple[str, ...] | None
    min_group_size: int
    period_start: date
    period_end: date


@dataclass(frozen=True)
class PreviousThemeOutcome:
    theme_id: str
    label: str
    domain: str | None
    decision_status: str | None
    owner: str | None
    note: str | None
    decided_at: datetime | None


def compile_bundle(
    scope: BundleScope,
    current: list[SignalRecord],
    baseline: list[SignalRecord],
    previous: list[PreviousThemeOutcome],
    *,
    compiled_at: datetime,
    bundle_id: uuid.UUID,
    version: int,
) -> PolicyBundleV1:
    """Counts only (no themes yet): the existing compilation over the scope's signals."""
    del baseline, previous, version
    facts = [
        SignalFacts(
            signal_id=s.signal_id,
            municipality=s.municipality,
            neighbourhood=s.neighbourhood,
            vindplaats=s.vindplaats,
            knowledge_type=s.knowledge_type,
            domains=s.domains,
            needs_review=s.needs_review,
        )
        for s in current
        if scope.domains_of_interest is None or set(s.domains) & set(scope.domains_of_interest)
    ]
    area = scope.municipalities[0] if len(scope.municipalities) == 1 else scope.steering_group_name
    return _compile_counts(
        facts,
        municipality=area[:80],
        period_start=scope.period_start,
        period_end=scope.period_end,
        min_group_size=scope.min_group_size,
        compiled_at=compiled_at,
        bundle_id=bundle_id,
    )
