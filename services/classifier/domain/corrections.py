"""A person's correction turned into the classification downstream views should show."""

from __future__ import annotations

from schemas.v1 import ClassificationSource, ClassificationV1, CorrectionV1, DomainTagV1

from .taxonomy import Taxonomy


class UnknownDomainsError(ValueError):
    """The correction names domains the taxonomy it claims to belong to does not have."""


def belongs_to(correction: CorrectionV1, taxonomy: Taxonomy) -> bool:
    """Whether this classifier may act on (and learn from) the correction: only corrections
    made under the same taxonomy, so nothing crosses networks that do not share one."""
    return correction.taxonomy_id == taxonomy.id


def corrected_classification(correction: CorrectionV1, taxonomy: Taxonomy) -> ClassificationV1:
    """The human tags as a classification: score 1 for the chosen domains, 0 for the rest,
    primary as the person put it first; ``source="correction"``."""
    unknown = [d for d in correction.domains if d not in taxonomy.domain_ids]
    if unknown:
        raise UnknownDomainsError(f"domains: {unknown} are not domains of taxonomy {taxonomy.id!r}")
    chosen = set(correction.domains)
    return ClassificationV1(
        classifier_version=f"correctie:{correction.correction_id}",
        taxonomy_version=taxonomy.version,
        domains=[DomainTagV1(domain=d, score=1.0, evidence=[]) for d in correction.domains],
        scores={d: 1.0 if d in chosen else 0.0 for d in taxonomy.domain_ids},
        primary_domain=correction.domains[0],
        needs_review=False,
        classified_at=correction.corrected_at,
        source=ClassificationSource.CORRECTION,
        correction=correction.reference(),
    )
