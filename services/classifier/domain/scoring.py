"""Scoring evidence into life-domain tags."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Final, Protocol

from schemas.v1 import ClassificationV1

from .learned import BatchPrediction, LearnedModel, Prediction
from .matcher import _Analysis
from .model import Domain
from .taxonomy import Taxonomy
from .text import Token, tokenize

LEXICON_VERSION: Final = "4"
"""Bump when the matching or scoring rules change, so events show which build tagged them.
2: negation of problem words, taxonomy id in the version, learned model combined.
3: primary domain by score, cross-cutting domains and where the evidence starts.
4: a domain beside the primary needs half the primary's score."""
CROSS_CUTTING_FACTOR: Final = 0.8
"""A cross-cutting domain (services, participation) competes for primary at this share of
its score: "het OCMW antwoordt niet op mijn vraag voor huurhulp" is about housing."""
EARLY_BONUS: Final = 0.2
"""Up to this much is added for evidence at the very start of the text: people name what the
signal is about first and its causes and consequences after ("schoolreis te duur" ->
onderwijs, then inkomen)."""
SECONDARY_SHARE: Final = 0.5
"""A domain beside the primary is tagged only from this share of the primary's score: a
signal about a flooded house that mentions "the children" in passing is not also about the
family. Measured on the labeled sets, the extra domains people did not tag were mostly weak
side remarks of this kind."""
SCORE_DECIMALS: Final = 4
_LEMMA: Final = attrgetter("lemma")


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
    goes to a person (``needs_review``). Beside the primary, a domain at its threshold is
    tagged only with at least ``SECONDARY_SHARE`` of the primary's score (all scores are
    still reported).

    With a ``model`` learned from corrections (of this taxonomy only), each domain's score
    is a blend of the vocabulary score and the model's probability, the model counting
    more the more corrections it learned from; the words that moved the model show up as
    evidence labelled "geleerd uit N correcties".
    """
    model = _applicable(model, taxonomy)
    tokens, analyses, found, scores = _match(text, taxonomy)
    learned: list[tuple[int, int]] = []
    prediction = None
    if model is not None:
        prediction, learned = _blend(tokens, map(_LEMMA, analyses), taxonomy, model, scores)
    return _result(
        text,
        taxonomy,
        classifier_version(taxonomy, model),
        scores,
        found,
        learned,
        prediction,
        model.evidence_label if model is not None else "",
        classified_at,
    )


def classify_many(
    texts: Sequence[str],
    taxonomy: Taxonomy,
    *,
    classified_at: datetime,
    model: LearnedModel | None = None,
) -> list[ClassificationV1]:
    """:func:`classify` for a batch of texts, with exactly its results.

    What a batch shares is worked out once (the classifier version, the model's columns),
    and the learned model scores and blends all texts in a few numpy calls instead of a
    few per text (see :meth:`LearnedModel.evaluate_many`).
    """
    model = _applicable(model, taxonomy)
    version = classifier_version(taxonomy, model)
    matched = [_match(text, taxonomy) for text in texts]
    if model is None or not texts:
        return [
            _result(text, taxonomy, version, scores, found, [], None, "", classified_at)
            for text, (_, _, found, scores) in zip(texts, matched, strict=True)
        ]
    batch = model.evaluate_many(
        [(tokens, map(_LEMMA, analyses)) for tokens, analyses, _, _ in matched]
    )
    pairs = model.learned_pairs(taxonomy.fingerprint, taxonomy.domains)
    blended, learned = model.blend_many(
        batch, [scores for _, _, _, scores in matched], pairs, SCORE_DECIMALS
    )
    label = model.evidence_label
    return [
        _result(
            text,
            taxonomy,
            version,
            blended[index],
            found,
            learned[index],
            _Lazy(batch, index),
            label,
            classified_at,
        )
        for index, (text, (_, _, found, _)) in enumerate(zip(texts, matched, strict=True))
    ]


def _applicable(model: LearnedModel | None, taxonomy: Taxonomy) -> LearnedModel | None:
    """The model, unless it was learned under another taxonomy (never applied) or is empty."""
    if model is not None and (model.taxonomy_id != taxonomy.id or not model.intercepts):
        return None
    return model


class _Lazy:
    """One text's prediction of a batch, built only if a tagged domain shows learned words."""

    __slots__ = ("_batch", "_index", "_prediction")

    def __init__(self, batch: BatchPrediction, index: int) -> None:
        self._batch = batch
        self._index = index
        self._prediction: Prediction | None = None

    def words(self, column: int) -> tuple[tuple[int, int], ...]:
        if self._prediction is None:
            self._prediction = self._batch.prediction(self._index)
        return self._prediction.words(column)


def _match(
    text: str, taxonomy: Taxonomy
) -> tuple[list[Token], list[_Analysis], list[list[tuple[int, int, str]]], list[float]]:
    """The vocabulary's part: tokens, their analyses, evidence per domain, score per domain.

    Each distinct vocabulary entry counts once per domain (at its strongest), however often
    it recurs; every occurrence is still listed as evidence.
    """
    domains = taxonomy.domains
    weights: list[dict[str, float]] = [{} for _ in domains]
    # Evidence stays plain tuples until we know which domains are tagged: most domains with
    # a stray word never pass their threshold, and building validated objects for them was
    # a large share of the classification time.
    found: list[list[tuple[int, int, str]]] = [[] for _ in domains]
    tokens = tokenize(text)
    analyses = taxonomy.index.analyses(tokens)
    for start, end, hits in taxonomy.index.find_hits(tokens, analyses):
        for hit in hits:
            per_term = weights[hit.domain]
            if per_term.get(hit.term, 0.0) < hit.weight:
                per_term[hit.term] = hit.weight
            found[hit.domain].append((start, end, hit.term))
    scores = [saturate(sum(per_term.values())) if per_term else 0.0 for per_term in weights]
    return tokens, analyses, found, scores


class _Words(Protocol):
    def words(self, column: int) -> tuple[tuple[int, int], ...]: ...


def _result(
    text: str,
    taxonomy: Taxonomy,
    version: str,
    scores: list[float],
    found: list[list[tuple[int, int, str]]],
    learned: list[tuple[int, int]],
    prediction: _Words | None,
    label: str,
    classified_at: datetime,
) -> ClassificationV1:
    """Tags, primary domain and evidence from the final scores; ``learned`` are the (domain,
    model column) pairs whose learned words are shown if the domain is tagged."""
    domains = taxonomy.domains
    tagged = sorted(
        (i for i, domain in enumerate(domains) if scores[i] >= domain.threshold),
        key=lambda i: (-scores[i], i),
    )
    if prediction is not None and learned:
        # Learned evidence only for the domains that are tagged: nothing else shows it.
        for index, column in learned:
            if scores[index] >= domains[index].threshold:
                found[index].extend((s, e, label) for s, e in prediction.words(column))
    # One validation of plain data in pydantic-core is much cheaper than a Python-level
    # model construction per tag and per piece of evidence.
    primary = _primary(text, domains, tagged, scores, found)
    if primary is not None:
        # Primary first, the others by score: readers (and the eval) take the first tag as
        # what the signal is mainly about.
        tagged.sort(key=lambda i: domains[i].id != primary)
        if len(tagged) > 1:
            floor = SECONDARY_SHARE * scores[tagged[0]]
            tagged[1:] = [i for i in tagged[1:] if scores[i] >= floor]
    tags = [
        {
            "domain": domains[i].id,
            "score": scores[i],
            "evidence": [
                {"term": term, "matched": text[start:end], "start": start, "end": end}
                for start, end, term in sorted(found[i])
            ],
        }
        for i in tagged
    ]
    return ClassificationV1.model_validate(
        {
            "classifier_version": version,
            "taxonomy_version": taxonomy.version,
            "domains": tags,
            "scores": {domain.id: scores[i] for i, domain in enumerate(domains)},
            "primary_domain": primary,
            "needs_review": not tagged,
            "classified_at": classified_at,
        }
    )


def _primary(
    text: str,
    domains: Sequence[Domain],
    tagged: list[int],
    scores: list[float],
    found: list[list[tuple[int, int, str]]],
) -> str | None:
    """The domain the signal is mainly about: among the tagged ones, the highest score, with
    cross-cutting domains discounted and a bonus for evidence early in the text.

    """
    if not tagged:
        return None
    size = max(len(text), 1)

    def rank(index: int) -> tuple[float, float]:
        first = min((start for start, _, _ in found[index]), default=size)
        factor = CROSS_CUTTING_FACTOR if domains[index].cross_cutting else 1.0
        return scores[index] * factor + EARLY_BONUS * (1.0 - first / size), scores[index]

    return domains[max(tagged, key=rank)].id


def _blend(
    tokens: list[Token],
    lemmas: Iterable[str],
    taxonomy: Taxonomy,
    model: LearnedModel,
    scores: list[float],
) -> tuple[Prediction, list[tuple[int, int]]]:
    """Blend the model into ``scores``; returns the prediction and the (domain, model column)
    pairs whose probability is high enough for learned evidence words."""
    prediction = model.evaluate(tokens, lemmas)
    probabilities = prediction.probabilities
    share = model.share
    half = share / 2
    pairs = model.learned_pairs(taxonomy.fingerprint, taxonomy.domains)
    # As LearnedModel.blend, inlined: it runs for every domain of every signal.
    for index, column in pairs:
        probability = probabilities[column]
        lexicon = scores[index]
        scores[index] = round(
            lexicon + (share if probability > lexicon else half) * (probability - lexicon),
            SCORE_DECIMALS,
        )
    # Domains the model never saw both ways are not in pairs: the vocabulary decides them.
    return prediction, [(i, c) for i, c in pairs if probabilities[c] >= 0.5]
