"""A linear model learned from people's corrections, combined with the vocabulary.

Training uses scikit-learn (one logistic regression per domain over binary lemma unigrams and
bigrams: one-vs-rest, multi-label). What is kept is only the arithmetic: an intercept and a
weight per feature and domain, stored as JSON. Prediction is then one cached look-up per word
and a sum of a few matrix rows — no pickle to trust, and no per-call sklearn overhead, which
would cost more than the whole lexicon match.

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
from operator import neg
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from .model import Domain
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


_Word = tuple[str, int | None, dict[str, int] | None]
_Columns = tuple[int | None, ...]


class Prediction:
    """What the model says about one text; evidence words only for the domains that need them."""

    __slots__ = ("_at", "_found", "_logits", "_tokens", "probabilities")

    def __init__(
        self,
        probabilities: list[float],
        logits: list[float],
        found: npt.NDArray[np.float64],
        at: list[int],
        tokens: Sequence[Token],
    ) -> None:
        self.probabilities = probabilities
        """Per model column (see :meth:`LearnedModel.columns`)."""
        self._logits = logits
        self._found = found
        """Row 0 the intercepts, then the weights of each feature found, in text order."""
        self._at = at
        self._tokens = tokens

    def words(self, column: int) -> tuple[tuple[int, int], ...]:
        """Offsets of the words that pushed this column up most (none below probability 0.5)."""
        if self._logits[column] < 0.0:
            return ()
        tokens = self._tokens
        # Sorted whole in C; the features that pushed up (negated weight below zero) come
        # first, so the top few of them are the first few of this list.
        weights: list[float] = self._found[1:, column].tolist()
        ranked = sorted(zip(map(neg, weights), self._at[1:], strict=True))
        return tuple(
            sorted(
                {
                    (tokens[i].start, tokens[i].end)
                    for push, i in ranked[:EVIDENCE_WORDS]
                    if push < 0.0
                }
            )
        )


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
    _bigrams: dict[str, dict[str, int]] = field(init=False, repr=False, compare=False)
    _words: dict[str, _Word] = field(init=False, repr=False, compare=False)
    """Per casefolded word: its lemma, unigram row and the bigrams it starts."""
    _columns: dict[str, _Columns] = field(init=False, repr=False, compare=False)
    _matrix: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Compiled once into rows of (domain column, weight) pairs per feature: prediction is
        # then a look-up per word and a few additions.
        domains = tuple(sorted(self.intercepts))
        position = {domain: index for index, domain in enumerate(domains)}
        unigrams: dict[str, int] = {}
        bigrams: dict[str, dict[str, int]] = {}
        rows: list[list[float]] = []
        for name, per_domain in self.weights.items():
            row = [0.0] * len(domains)
            for domain, weight in per_domain.items():
                if domain in position:
                    row[position[domain]] = weight
            if name.startswith("w:"):
                unigrams[name[2:]] = len(rows) + 1  # row 0 holds the intercepts
            elif name.startswith("b:"):
                first, _, second = name[2:].partition("_")
                bigrams.setdefault(first, {})[second] = len(rows) + 1
            else:
                continue
            rows.append(row)
        object.__setattr__(self, "_domains", domains)
        object.__setattr__(self, "_unigrams", unigrams)
        object.__setattr__(self, "_bigrams", bigrams)
        object.__setattr__(self, "_words", {})
        object.__setattr__(self, "_columns", {})
        matrix = np.array([[self.intercepts[d] for d in domains], *rows], dtype=np.float64).reshape(
            len(rows) + 1, len(domains)
        )
        object.__setattr__(self, "_matrix", matrix)

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

    def columns(self, taxonomy_fingerprint: str, domains: Sequence[Domain]) -> _Columns:
        """Per domain of a taxonomy, the model column that scores it (None: not learned).

        Cached per taxonomy: classification maps a dozen domains for every signal.
        """
        found = self._columns.get(taxonomy_fingerprint)
        if found is None:
            position = {domain: index for index, domain in enumerate(self._domains)}
            found = tuple(position.get(domain.id) for domain in domains)
            self._columns[taxonomy_fingerprint] = found
        return found

    def evaluate(self, tokens: Sequence[Token]) -> Prediction:
        """Probabilities per model column; evidence words are worked out only when asked."""
        cache = self._words
        if len(cache) > 200_000:
            cache.clear()  # bounded memory on an endless stream of new words
        # Feature row -> first token it was seen on; row 0 (the intercepts) on no token.
        rows: dict[int, int] = {0: -1}
        setdefault = rows.setdefault
        # One pass, the bigram of the previous token handled before this token's unigram:
        # the same row order (hence the same floating-point sums) as unigram then bigram
        # per token.
        after: dict[str, int] | None = None  # bigrams the previous token starts, if joined
        for index, token in enumerate(tokens):
            entry = cache.get(token.raw)
            if entry is None:
                entry = cache[token.raw] = self._word(token.raw)
            value, row, successors = entry
            if after is not None:
                bigram = after.get(value)
                if bigram is not None:
                    setdefault(bigram, index - 1)
            if row is not None:
                setdefault(row, index)
            after = successors if token.joins_next else None
        # One contiguous matrix (intercepts in row 0): a few dozen rows gathered and summed in
        # C touch a few cache lines each, where tuples of float objects were scattered over
        # the heap and missed the cache whenever the vocabulary had run in between. A running
        # sum (cumsum) adds row by row in this order, so the logits are exactly those of
        # plain Python addition; sum() would switch to pairwise summation for a single
        # domain and round differently.
        found = self._matrix.take(np.fromiter(rows, np.intp, len(rows)), axis=0)
        logits: list[float] = found.cumsum(axis=0)[-1].tolist()
        probabilities = [
            1.0 / (1.0 + math.exp(min(30.0, -logit)))
            if logit < 0.0
            else 1.0 / (1.0 + math.exp(-min(30.0, logit)))
            for logit in logits
        ]
        return Prediction(probabilities, logits, found, list(rows.values()), tokens)

    def predict(self, tokens: Sequence[Token]) -> dict[str, Contribution]:
        prediction = self.evaluate(tokens)
        return {
            domain: Contribution(probability, prediction.words(column))
            for column, (domain, probability) in enumerate(
                zip(self._domains, prediction.probabilities, strict=True)
            )
        }

    def _word(self, raw: str) -> _Word:
        value = lemma(raw)
        return value, self._unigrams.get(value), self._bigrams.get(value)

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
