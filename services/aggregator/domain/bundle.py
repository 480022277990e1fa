"""Compiling a policy bundle (beleidsbundel) from stored signals — pure, no database.

Privacy rule: no cell may show a group smaller than the minimum group size. Besides hiding
the small cell itself (primary suppression), a breakdown that adds up to a shown total hides
one more cell when exactly one is hidden (secondary suppression); otherwise the hidden count
is the total minus the others.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from schemas.v1 import CountCellV1, KnowledgeType, PolicyBundleV1
from schemas.vocabulary import (
    KNOWLEDGE_TYPE_LABELS,
    LIFE_DOMAIN_LABELS,
    LIFE_DOMAINS,
    VINDPLAATSEN,
    label,
)

NO_NEIGHBOURHOOD_KEY = "_onbekend"
NO_NEIGHBOURHOOD_LABEL = "Wijk niet opgegeven"


@dataclass(frozen=True, slots=True)
class SignalFacts:
    """What a bundle needs to know of one signal (never its reporter)."""

    signal_id: uuid.UUID
    municipality: str
    neighbourhood: str | None
    vindplaats: str
    knowledge_type: KnowledgeType
    domains: tuple[str, ...]
    needs_review: bool


def cell(key: str, label_text: str, count: int, min_group_size: int) -> CountCellV1:
    # Zero reveals nobody; 1..min-1 could point at a single family.
    if 0 < count < min_group_size:
        return CountCellV1(key=key, label=label_text, count=None, suppressed=True)
    return CountCellV1(key=key, label=label_text, count=count, suppressed=False)


def _hide(original: CountCellV1) -> CountCellV1:
    return CountCellV1(key=original.key, label=original.label, count=None, suppressed=True)


def suppress_partition(cells: Sequence[CountCellV1]) -> list[CountCellV1]:
    """Secondary suppression for breakdowns whose cells add up to the total."""
    hidden = [c for c in cells if c.suppressed]
    if len(hidden) != 1:
        return list(cells)
    shown = [c for c in cells if not c.suppressed and c.count]
    if not shown:
        return list(cells)
    smallest = min(shown, key=lambda c: (c.count or 0, c.key))
    return [_hide(c) if c is smallest else c for c in cells]


def _breakdown(
    counts: Counter[str], labels: dict[str, str], min_group_size: int, *, partition: bool
) -> list[CountCellV1]:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    cells = [cell(key, label(labels, key), count, min_group_size) for key, count in ordered]
    return suppress_partition(cells) if partition else cells


def compile_bundle(
    facts: Iterable[SignalFacts],
    *,
    municipality: str,
    period_start: date,
    period_end: date,
    min_group_size: int,
    compiled_at: datetime,
    bundle_id: uuid.UUID,
) -> PolicyBundleV1:
    signals = list(facts)
    by_domain: Counter[str] = Counter({domain.id: 0 for domain in LIFE_DOMAINS})
    by_neighbourhood: Counter[str] = Counter()
    by_vindplaats: Counter[str] = Counter()
    by_knowledge: Counter[str] = Counter()
    neighbourhood_labels = {NO_NEIGHBOURHOOD_KEY: NO_NEIGHBOURHOOD_LABEL}
    for signal in signals:
        by_domain.update(set(signal.domains))
        key = signal.neighbourhood or NO_NEIGHBOURHOOD_KEY
        if signal.neighbourhood:
            neighbourhood_labels[key] = signal.neighbourhood
        by_neighbourhood[key] += 1
        by_vindplaats[signal.vindplaats] += 1
        by_knowledge[signal.knowledge_type.value] += 1

    domain_cells = _breakdown(by_domain, LIFE_DOMAIN_LABELS, min_group_size, partition=False)
    neighbourhood_cells = _breakdown(
        by_neighbourhood, neighbourhood_labels, min_group_size, partition=True
    )
    vindplaats_cells = _breakdown(by_vindplaats, VINDPLAATSEN, min_group_size, partition=True)
    knowledge_cells = _breakdown(
        by_knowledge, KNOWLEDGE_TYPE_LABELS, min_group_size, partition=True
    )
    needs_review = sum(1 for signal in signals if signal.needs_review)

    breakdowns = (domain_cells, neighbourhood_cells, vindplaats_cells, knowledge_cells)
    suppressed = sum(1 for cells in breakdowns for c in cells if c.suppressed)
    note = None
    if suppressed:
        note = (
            f"{suppressed} {'cel is' if suppressed == 1 else 'cellen zijn'} verborgen: groepen "
            f"kleiner dan {min_group_size} signalen tonen we niet, zodat niemand herkenbaar wordt."
        )
    return PolicyBundleV1(
        bundle_id=bundle_id,
        title=(
            f"Beleidsbundel {municipality} "
            f"{period_start.strftime('%d-%m-%Y')} tot {period_end.strftime('%d-%m-%Y')}"
        ),
        municipality=municipality,
        period_start=period_start,
        period_end=period_end,
        compiled_at=compiled_at,
        min_group_size=min_group_size,
        signal_count=cell("totaal", "Signalen", len(signals), min_group_size),
        by_domain=domain_cells,
        by_neighbourhood=neighbourhood_cells,
        by_vindplaats=vindplaats_cells,
        by_knowledge_type=knowledge_cells,
        needs_review=cell(
            "te_bekijken", "Zonder levensdomein (te bekijken)", needs_review, min_group_size
        ),
        suppression_note=note,
    )
