"""A linear model learned from people's corrections, combined with the vocabulary.

Training uses scikit-learn (one logistic regression per domain over binary lemma unigrams and
bigrams: one-vs-rest, multi-label). What is kept is only the arithmetic: an intercept and a
weight per feature and domain, stored as JSON. Prediction is then a few dictionary look-ups
per word in pure Python — no pickle to trust, and no per-call sklearn overhead, which would
cost more than the whole lexicon match.

How much the model counts grows with the number of corrections it learned from
(:func:`model_share`): with ten corrections the vocabulary still decides almost alone; with
hundreds, the people who corrected have the larger say.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, NamedTuple

from .text import Token, lemma, tokenize

MODEL_FORMAT: Final = 1
MIN_CORRECTIONS: Final = 10
"""Fewer corrections than this teach noise, not the network's usage."""
MAX_SHARE: Final = 0.6
"""The most the model may pull a score *up* towards its probability. Pulling *down* (the
vocabulary found a word the network's people keep un-tagging) counts half as much: a model
learned from a few hundred short signals generalises worse than the vocabulary, so it
corrects the vocabulary rather than replacing it. On the held-out split, a plain 0.7 blend
lowered micro-F1 from 0.78 to 0.68; this asymmetric blend raised it to 0.82 (README)."""
HALF_SHARE_AT: Final = 30
"""Number of corrections at which the model weighs as much as the vocabulary would alone
(share 0.5 before the cap)."""
EVIDENCE_WORDS: Final = 3


def model_share(corrections: int) -> float:
    """Weight of the learned model against the vocabulary, in [0, MAX_SHARE]."""
    return min(MAX_SHARE, corrections / (corrections + HALF_SHARE_AT))


@dataclass(frozen=True, slots=True)
class TrainingExample:
    text: str
    domains: tuple[str, ...]


def _features(tokens: Sequence[Token]) -> list[tuple[str, int]]:
    """Lemma unigrams and bigrams, each with the index of the token it is shown on."""
    lemmas = [lemma(token.raw) for token in tokens]
    out = [(f"w:{value}", index) for index, value in enumerate(lemmas) if len(value) > 1]
    out.extend(
        (f"b:{lemmas[index]}_{lemmas[index + 1]}", index)
        for index in range(len(lemmas) - 1)
        if tokens[index].joins_next
    )
    return out


def feature_names(text: str) -> set[str]:
    return {name for name, _ in _features(tokenize(text))}


class Contribution(NamedTuple):
    # A tuple: twelve are made per signal, and a frozen dataclass costs several times more.
    probability: float
    words: tuple[tuple[int, int], ...]
    """Offsets of the words that pushed this domain up most."""


@dataclass(frozen=True, slots=True)
class LearnedModel:
    version: str
    taxonomy_id: str
    trained_at: datetime
    corrections: int
    intercepts: dict[str, float]
    """Per domain the model learned (domains never or always corrected to are absent)."""
    weights: dict[str, dict[str, float]]
    """Feature -> domain -> weight; only non-zero weights are kept."""
    _domains: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _unigrams: dict[str, int] = field(init=False, repr=False, compare=False)
    _bigrams: dict[tuple[str, str], int] = field(init=False, repr=False, compare=False)
    _bias_list: list[float] = field(init=False, repr=False, compare=False)
    _dense: list[tuple[float, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Compiled once into rows of (domain column, weight) pairs per feature: prediction is
        # then a look-up per word and a few additions.
        domains = tuple(sorted(self.intercepts))
        position = {domain: index for index, domain in enumerate(domains)}
        unigrams: dict[str, int] = {}
        bigrams: dict[tuple[str, str], int] = {}
        rows: list[list[float]] = []
        for name, per_domain in self.weights.items():
            row = [0.0] * len(domains)
            for domain, weight in per_domain.items():
                if domain in position:
                    row[position[domain]] = weight
            if name.startswith("w:"):
                unigrams[name[2:]] = len(rows)
            elif name.startswith("b:"):
                first, _, second = name[2:].partition("_")
                bigrams[(first, second)] = len(rows)
            else:
                continue
            rows.append(row)
        object.__setattr__(self, "_domains", domains)
        object.__setattr__(self, "_unigrams", unigrams)
        object.__setattr__(self, "_bigrams", bigrams)
        object.__setattr__(self, "_bias_list", [self.intercepts[d] for d in domains])
        object.__setattr__(self, "_dense", [tuple(row) for row in rows])

    @property
    def share(self) -> float:
        return model_share(self.corrections)

    def blend(self, lexicon: float, probability: float) -> float:
        """Combine a vocabulary score with the model's probability for one domain."""
        share = self.share if probability > lexicon else self.share / 2
        return lexicon + share * (probability - lexicon)

    @property
    def evidence_label(self) -> str:
        return f"geleerd uit {self.corrections} correcties"

    def predict(self, tokens: Sequence[Token]) -> dict[str, Contribution]:
        lemmas = [lemma(token.raw) for token in tokens]
        rows: dict[int, int] = {}  # feature row -> first token it was seen on
        unigrams, bigrams = self._unigrams, self._bigrams
        last = len(lemmas) - 1
        for index, value in enumerate(lemmas):
            row = unigrams.get(value)
            if row is not None:
                rows.setdefault(row, index)
            if index < last and tokens[index].joins_next:
                row = bigrams.get((value, lemmas[index + 1]))
                if row is not None:
                    rows.setdefault(row, index)
        # Dense rows summed column-wise by zip/sum (both in C): at a few dozen features per
        # signal this beats numpy, whose per-call overhead dominated at this size.
        dense = self._dense
        hit = [dense[row] for row in rows]
        logits = [sum(column) for column in zip(self._bias_list, *hit, strict=True)]
        at = list(rows.values())
        out: dict[str, Contribution] = {}
        no_words: tuple[tuple[int, int], ...] = ()
        for column, (domain, logit) in enumerate(zip(self._domains, logits, strict=True)):
            if logit < 0.0:  # probability below 0.5: no evidence words needed
                out[domain] = Contribution(1.0 / (1.0 + math.exp(min(30.0, -logit))), no_words)
                continue
            probability = 1.0 / (1.0 + math.exp(-min(30.0, logit)))
            # The words that pushed this domain up most are its evidence.
            pushes = sorted([(-v[column], at[i]) for i, v in enumerate(hit) if v[column] > 0.0])[
                :EVIDENCE_WORDS
            ]
            words = tuple(sorted({(tokens[i].start, tokens[i].end) for _, i in pushes}))
            out[domain] = Contribution(probability, words)
        return out

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": MODEL_FORMAT,
                "version": self.version,
                "taxonomy_id": self.taxonomy_id,
                "trained_at": self.trained_at.isoformat(),
                "corrections": self.corrections,
                "intercepts": self.intercepts,
                "weights": self.weights,
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, raw: str) -> LearnedModel:
        data: dict[str, Any] = json.loads(raw)
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"model file format {data.get('format')!r} is not {MODEL_FORMAT}")
        return cls(
            version=str(data["version"]),
            taxonomy_id=str(data["taxonomy_id"]),
            trained_at=datetime.fromisoformat(data["trained_at"]),
            corrections=int(data["corrections"]),
            intercepts={str(k): float(v) for k, v in data["intercepts"].items()},
            weights={
                str(f): {str(d): float(w) for d, w in per.items()}
                for f, per in data["weights"].items()
            },
        )


def train(
    examples: Sequence[TrainingExample],
    *,
    domains: Sequence[str],
    taxonomy_id: str,
    trained_at: datetime,
    regularisation: float = 1.0,
) -> LearnedModel:
    """Fit one logistic regression per domain on the corrected signals.

    Raises ``ValueError`` with fewer than :data:`MIN_CORRECTIONS` examples. A domain that
    every example or no example has gets no classifier: there is nothing to tell apart.
    """
    if len(examples) < MIN_CORRECTIONS:
        raise ValueError(
            f"{len(examples)} correction(s); at least {MIN_CORRECTIONS} are needed to learn"
        )
    # scikit-learn is imported here, not at module level: the running service only predicts.
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vectoriser = DictVectorizer()
    matrix = vectoriser.fit_transform(
        [dict.fromkeys(feature_names(example.text), 1) for example in examples]
    )
    names: list[str] = list(vectoriser.get_feature_names_out())
    intercepts: dict[str, float] = {}
    weights: dict[str, dict[str, float]] = {}
    for domain in domains:
        labels = [int(domain in example.domains) for example in examples]
        if sum(labels) in {0, len(labels)}:
            continue
        fitted = LogisticRegression(C=regularisation, class_weight="balanced", max_iter=1000).fit(
            matrix, labels
        )
        intercepts[domain] = round(float(fitted.intercept_[0]), 6)
        for name, weight in zip(names, fitted.coef_[0], strict=True):
            if abs(weight) >= 1e-4:
                weights.setdefault(name, {})[domain] = round(float(weight), 6)
    digest = hashlib.sha256(
        json.dumps([intercepts, weights], sort_keys=True).encode("utf-8")
    ).hexdigest()[:8]
    return LearnedModel(
        version=f"{trained_at:%Y%m%dT%H%M%S}-{len(examples)}c-{digest}",
        taxonomy_id=taxonomy_id,
        trained_at=trained_at,
        corrections=len(examples),
        intercepts=intercepts,
        weights=weights,
    )
