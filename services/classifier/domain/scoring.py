"""Scoring evidence into life-domain tags."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Final

from schemas.v1 import ClassificationV1, DomainTagV1, EvidenceV1

from .learned import LearnedModel
from .matcher import Match
from .taxonomy import Taxonomy
from .text import Token, tokenize

LEXICON_VERSION: Final = "2"
"""Bump when the matching or scoring rules change, so events show which build tagged them.
2: negation of problem words, taxonomy id in the version, learned model combined."""
SCORE_DECIMALS: Final = 4


def classifier_version(taxonomy: Taxonomy, model: LearnedModel | None = None) -> str:
    """E.g. ``lexicon-2+taxonomy-seinpost_v1-v1.1+3f2a9c1b+model-20261120T101500-37c-9a0b1c2d``:
    rules, taxonomy id, version and content hash, and the learned model if any."""
    version = (
        f"lexicon-{LEXICON_VERSION}+taxonomy-{taxonomy.id}-{taxonomy.version}"
        f"+{taxonomy.fingerprint[:8]}"
    )
    return f"{version}+model-{model.version}" if model is not None else version


def saturate(total_weight: float) -> float:
    """Map summed evidence weight to [0, 1): every bit more evidence helps, less and less.

    With the default threshold 0.35 one entry of weight ~0.43 is enough on its own; weaker
    words need company.
    """
    return round(1.0 - math.exp(-total_weight), SCORE_DECIMALS)


def classify(
    text: str,
    taxonomy: Taxonomy,
    *,
    classified_at: datetime,
    model: LearnedModel | None = None,
) -> ClassificationV1:
    """Tag ``text`` with the life domains of ``taxonomy`` it gives evidence for.

    Each distinct vocabulary entry counts once per domain (at its strongest), however often
    it recurs: ten mentions of "school" are not ten problems. Every occurrence is still
    listed as evidence. Nothing is forced: without a domain at its threshold the signal
    goes to a person (``needs_review``).

    With a ``model`` learned from corrections (of this taxonomy only), each domain's score
    is a blend of the vocabulary score and the model's probability, the model counting
    more the more corrections it learned from; the words that moved the model show up as
    evidence labelled "geleerd uit N correcties".
    """
    if model is not None and (model.taxonomy_id != taxonomy.id or not model.intercepts):
        model = None  # never apply what was learned under another taxonomy
    domains = taxonomy.domains
    weights: list[dict[str, float]] = [{} for _ in domains]
    found: list[list[EvidenceV1]] = [[] for _ in domains]
    tokens = tokenize(text)
    for match in taxonomy.index.find_in_tokens(tokens):
        hit = match.hit
        per_term = weights[hit.domain]
        per_term[hit.term] = max(per_term.get(hit.term, 0.0), hit.weight)
        found[hit.domain].append(_evidence(text, match))

    scores = [saturate(sum(per_term.values())) for per_term in weights]
    if model is not None:
        _blend(text, tokens, taxonomy, model, scores, found)
    tagged = sorted(
        (i for i, domain in enumerate(domains) if scores[i] >= domain.threshold),
        key=lambda i: (-scores[i], i),
    )
    tags = [
        DomainTagV1(
            domain=domains[i].id,
            score=scores[i],
            evidence=sorted(found[i], key=lambda e: (e.start, e.end, e.term)),
        )
        for i in tagged
    ]
    return ClassificationV1(
        classifier_version=classifier_version(taxonomy, model),
        taxonomy_version=taxonomy.version,
        domains=tags,
        scores={domain.id: scores[i] for i, domain in enumerate(domains)},
        primary_domain=tags[0].domain if tags else None,
        needs_review=not tags,
        classified_at=classified_at,
    )


def _evidence(text: str, match: Match) -> EvidenceV1:
    return EvidenceV1(
        term=match.hit.term, matched=text[match.start : match.end], start=match.start, end=match.end
    )


def _blend(
    text: str,
    tokens: list[Token],
    taxonomy: Taxonomy,
    model: LearnedModel,
    scores: list[float],
    found: list[list[EvidenceV1]],
) -> None:
    predicted = model.predict(tokens)
    for index, domain in enumerate(taxonomy.domains):
        contribution = predicted.get(domain.id)
        if contribution is None:
            continue  # the model never saw this domain both ways: the vocabulary decides
        scores[index] = round(model.blend(scores[index], contribution.probability), SCORE_DECIMALS)
        if contribution.probability >= 0.5:
            found[index].extend(
                EvidenceV1(term=model.evidence_label, matched=text[s:e], start=s, end=e)
                for s, e in contribution.words
            )
