"""Scoring evidence into life-domain tags."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Final

from schemas.v1 import ClassificationV1, DomainTagV1, EvidenceV1

from .matcher import Match
from .taxonomy import Taxonomy

LEXICON_VERSION: Final = "1"
"""Bump when the matching or scoring rules change, so events show which build tagged them."""
SCORE_DECIMALS: Final = 4


def classifier_version(taxonomy: Taxonomy) -> str:
    """E.g. ``lexicon-1+taxonomy-v1+3f2a9c1b``: rules, taxonomy version, content hash."""
    return f"lexicon-{LEXICON_VERSION}+taxonomy-{taxonomy.version}+{taxonomy.fingerprint[:8]}"


def saturate(total_weight: float) -> float:
    """Map summed evidence weight to [0, 1): every bit more evidence helps, less and less.

    With the default threshold 0.35 one entry of weight ~0.43 is enough on its own; weaker
    words need company.
    """
    return round(1.0 - math.exp(-total_weight), SCORE_DECIMALS)


def classify(text: str, taxonomy: Taxonomy, *, classified_at: datetime) -> ClassificationV1:
    """Tag ``text`` with the life domains of ``taxonomy`` it gives evidence for.

    Each distinct vocabulary entry counts once per domain (at its strongest), however often
    it recurs: ten mentions of "school" are not ten problems. Every occurrence is still
    listed as evidence. Nothing is forced: without a domain at its threshold the signal
    goes to a person (``needs_review``).
    """
    domains = taxonomy.domains
    weights: list[dict[str, float]] = [{} for _ in domains]
    found: list[list[Match]] = [[] for _ in domains]
    for match in taxonomy.index.find(text):
        hit = match.hit
        per_term = weights[hit.domain]
        per_term[hit.term] = max(per_term.get(hit.term, 0.0), hit.weight)
        found[hit.domain].append(match)

    scores = [saturate(sum(per_term.values())) for per_term in weights]
    tagged = sorted(
        (i for i, domain in enumerate(domains) if scores[i] >= domain.threshold),
        key=lambda i: (-scores[i], i),
    )
    tags = [
        DomainTagV1(
            domain=domains[i].id,
            score=scores[i],
            evidence=[
                EvidenceV1(term=m.hit.term, matched=text[m.start : m.end], start=m.start, end=m.end)
                for m in sorted(found[i], key=lambda m: (m.start, m.end, m.hit.term))
            ],
        )
        for i in tagged
    ]
    return ClassificationV1(
        classifier_version=classifier_version(taxonomy),
        taxonomy_version=taxonomy.version,
        domains=tags,
        scores={domain.id: scores[i] for i, domain in enumerate(domains)},
        primary_domain=tags[0].domain if tags else None,
        needs_review=not tags,
        classified_at=classified_at,
    )
