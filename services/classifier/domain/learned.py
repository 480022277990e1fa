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
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, compress, islice, repeat
from operator import itemgetter
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


_Columns = tuple[int | None, ...]
_RAW: Final = itemgetter(3)  # Token.raw
_JOINS: Final = itemgetter(4)  # Token.joins_next
_AT_MINUS_30: Final = 1.0 / (1.0 + math.exp(30.0))
_AT_PLUS_30: Final = 1.0 / (1.0 + math.exp(-30.0))
_TINY: Final = math.ulp(0.0)
"""The smallest positive float: a weight at least this is above zero."""
_UNKNOWN: Final = 0
"""Word id of a lemma that is in no feature of the model."""


class Prediction:
    """What the model says about one text; evidence words only for the domains that need them."""

    __slots__ = ("_features", "_found", "_ids", "_logits", "_rows", "_tokens", "probabilities")

    def __init__(
        self,
        probabilities: list[float],
        logits: list[float],
        found: npt.NDArray[np.float64],
        rows: list[int],
        features: list[int | tuple[int, int]],
        ids: list[int],
        tokens: Sequence[Token],
    ) -> None:
        self.probabilities = probabilities
        """Per model column (see :meth:`LearnedModel.columns`)."""
        self._logits = logits
        self._found = found
        """The matrix rows of ``rows``: row 0 the intercepts, then a row per feature found."""
        self._rows = rows
        self._features = features
        """Per matrix row, its word id (unigram) or pair of word ids (bigram)."""
        self._ids = ids
        self._tokens = tokens

    def words(self, column: int) -> tuple[tuple[int, int], ...]:
        """Offsets of the words that pushed this column up most (none below probability 0.5).

        The strongest positive features, ties to the one seen first, each shown on the first
        token it was seen on (a bigram on its first word).
        """
        if self._logits[column] < 0.0:
            return ()
        weights: list[float] = self._found[1:, column].tolist()
        if not weights:
            return ()
        # Only the few strongest (ties included) need their place in the text; the bar is
        # above zero, as only the words that pushed the domain up are shown. They are found
        # by value (list.index, in C) rather than by testing every weight in Python: that
        # test cost a fifth of a domain's learned evidence (numpy's partition and
        # flatnonzero cost more still, in call overhead, at fifty weights).
        ascending = sorted(weights)
        bar = max(ascending[-min(EVIDENCE_WORDS, len(ascending))], _TINY)
        rows = self._rows
        features = self._features
        ids = self._ids
        ranked: list[tuple[float, int]] = []
        last: dict[float, int] = {}
        for value in ascending[bisect_left(ascending, bar) :]:
            # Equal weights are found one after the other, each once.
            k = last[value] = weights.index(value, last.get(value, -1) + 1)
            feature = features[rows[k + 1]]
            # A unigram is shown on the first token with its lemma (the common case, inline).
            at = ids.index(feature) if type(feature) is int else self._first_pair(feature)
            ranked.append((-value, at))
        ranked.sort()
        tokens = self._tokens
        return tuple(sorted({(tokens[i].start, tokens[i].end) for _, i in ranked[:EVIDENCE_WORDS]}))

    def _first_pair(self, feature: int | tuple[int, int]) -> int:
        """The first token of the first joined occurrence of a bigram."""
        assert isinstance(feature, tuple)
        first, second = feature
        ids = self._ids
        tokens = self._tokens
        index = ids.index(first)
        while ids[index + 1] != second or not tokens[index].joins_next:
            index = ids.index(first, index + 1)
        return index


_BLOCK_TEXTS: Final = 64
"""Texts summed per numpy block in a batch (sorted by length, so padding stays small)."""


def _sigmoid(logit: float) -> float:
    """The logistic function, its argument clamped to [-30, 30] (no overflow, and beyond
    that a probability is as good as 0 or 1)."""
    if -30.0 <= logit <= 30.0:
        return 1.0 / (1.0 + math.exp(-logit))
    return _AT_MINUS_30 if logit < 0.0 else _AT_PLUS_30


class BatchPrediction:
    """What the model says about a batch of texts (:meth:`LearnedModel.evaluate_many`)."""

    __slots__ = ("_blocks", "_found", "_model", "_tokens", "logits")

    def __init__(
        self,
        model: LearnedModel,
        logits: npt.NDArray[np.float64],
        blocks: list[tuple[npt.NDArray[np.float64], int]],
        found: list[tuple[list[int], list[int]]],
        tokens: list[Sequence[Token]],
    ) -> None:
        self.logits = logits
        """Per text (row) and model column."""
        self._model = model
        self._blocks = blocks
        self._found = found
        self._tokens = tokens

    def prediction(self, text: int) -> Prediction:
        """The prediction of one text, for its evidence words (:meth:`Prediction.words`)."""
        block, position = self._blocks[text]
        ids, rows = self._found[text]
        logits: list[float] = self.logits[text].tolist()
        return Prediction(
            list(map(_sigmoid, logits)),
            logits,
            block[position, : len(rows)],
            rows,
            self._model._features,
            ids,
            self._tokens[text],
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
    _lemma_ids: dict[str, int] = field(init=False, repr=False, compare=False)
    """Lemma -> word id, for the lemmas that occur in some feature."""
    _unigram: dict[int, int] = field(init=False, repr=False, compare=False)
    """Word id -> matrix row of its unigram feature."""
    _bigram: dict[tuple[int, int], int] = field(init=False, repr=False, compare=False)
    """(word id, next word id) -> matrix row of the bigram feature."""
    _columns: dict[str, _Columns] = field(init=False, repr=False, compare=False)
    _pairs: dict[str, tuple[tuple[int, int], ...]] = field(init=False, repr=False, compare=False)
    _matrix: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)
    _features: list[int | tuple[int, int]] = field(init=False, repr=False, compare=False)
    """Per matrix row, the word id or word id pair of its feature (row 0: none)."""

    def __post_init__(self) -> None:
        # Compiled once: an id per lemma that occurs in a feature, and per feature a row of
        # weights per domain column (row 0 the intercepts). Prediction is then a look-up
        # per word, a look-up per joined word pair, and a sum of the rows found.
        domains = tuple(sorted(self.intercepts))
        position = {domain: index for index, domain in enumerate(domains)}
        lemma_ids: dict[str, int] = {}
        unigram: dict[int, int] = {}
        bigram: dict[tuple[int, int], int] = {}

        def word_id(value: str) -> int:
            return lemma_ids.setdefault(value, len(lemma_ids) + 1)  # 0 is _UNKNOWN

        rows: list[list[float]] = []
        features: list[int | tuple[int, int]] = [_UNKNOWN]  # row 0: the intercepts
        for name, per_domain in self.weights.items():
            row = [0.0] * len(domains)
            for domain, weight in per_domain.items():
                if domain in position:
                    row[position[domain]] = weight
            feature: int | tuple[int, int]
            if name.startswith("w:"):
                feature = word_id(name[2:])
                unigram[feature] = len(rows) + 1  # row 0 holds the intercepts
            elif name.startswith("b:"):
                first, _, second = name[2:].partition("_")
                feature = (word_id(first), word_id(second))
                bigram[feature] = len(rows) + 1
            else:
                continue
            rows.append(row)
            features.append(feature)
        object.__setattr__(self, "_domains", domains)
        object.__setattr__(self, "_lemma_ids", lemma_ids)
        object.__setattr__(self, "_unigram", unigram)
        object.__setattr__(self, "_bigram", bigram)
        object.__setattr__(self, "_columns", {})
        object.__setattr__(self, "_pairs", {})
        object.__setattr__(self, "_features", features)
        # The last row is all zeros: batches pad their shorter texts with it (see
        # _sum_rows); no feature maps to it.
        matrix = np.array(
            [[self.intercepts[d] for d in domains], *rows, [0.0] * len(domains)], dtype=np.float64
        ).reshape(len(rows) + 2, len(domains))
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

    def learned_pairs(
        self, taxonomy_fingerprint: str, domains: Sequence[Domain]
    ) -> tuple[tuple[int, int], ...]:
        """(domain index, model column) for the domains of a taxonomy this model learned.

        Cached per taxonomy, as :meth:`columns`."""
        found = self._pairs.get(taxonomy_fingerprint)
        if found is None:
            found = self._pairs[taxonomy_fingerprint] = tuple(
                (index, column)
                for index, column in enumerate(self.columns(taxonomy_fingerprint, domains))
                if column is not None
            )
        return found

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

    def evaluate(self, tokens: Sequence[Token], lemmas: Iterable[str] | None = None) -> Prediction:
        """Probabilities per model column; evidence words are worked out only when asked.

        ``lemmas``, one per token, are those the vocabulary match already looked up (each
        word is lemmatised once per text); without them they are looked up here.

        The logit of a column is the plain left-to-right sum of the intercept, the weights
        of the unigram features in the order their words first occur, then those of the
        bigram features in the same order (each feature once: features are binary).
        """
        if lemmas is None:
            lemmas = map(lemma, map(_RAW, tokens))
        ids, rows = self._rows(tokens, lemmas)
        # One contiguous matrix: a few dozen rows gathered and summed in C. A running sum
        # (cumsum) adds row by row in order, so the logits are exactly those of plain Python
        # addition; sum() would switch to pairwise summation for a single domain.
        gathered = self._matrix.take(np.array(rows, dtype=np.intp), axis=0)
        logits: list[float] = gathered.cumsum(axis=0)[-1].tolist()
        probabilities = list(map(_sigmoid, logits))
        return Prediction(probabilities, logits, gathered, rows, self._features, ids, tokens)

    def _rows(self, tokens: Sequence[Token], lemmas: Iterable[str]) -> tuple[list[int], list[int]]:
        """Word ids per token, and the matrix rows of the features found: row 0 (the
        intercepts), then unigrams in the order their words first occur, then joined bigrams
        in the same order, each once (features are binary)."""
        # Every step below iterates in C (map, zip, compress, dict.fromkeys): a Python loop
        # over the tokens cost more than the whole vocabulary match.
        ids = list(map(self._lemma_ids.get, lemmas, repeat(_UNKNOWN)))
        pairs = compress(zip(ids, islice(ids, 1, None), strict=False), map(_JOINS, tokens))
        found = dict.fromkeys(
            chain((0,), map(self._unigram.get, ids), map(self._bigram.get, pairs))
        )
        found.pop(None, None)
        return ids, list(found)  # type: ignore[arg-type]

    def evaluate_many(
        self, texts: Sequence[tuple[Sequence[Token], Iterable[str]]]
    ) -> BatchPrediction:
        """As :meth:`evaluate` for many texts (tokens and their lemmas) at once: the rows of
        all texts are gathered and summed in a few numpy calls per batch instead of a few
        per text, whose fixed cost was most of the model's price at a few dozen features."""
        found = [self._rows(tokens, lemmas) for tokens, lemmas in texts]
        logits, blocks = self._sum_rows([rows for _, rows in found])
        return BatchPrediction(self, logits, blocks, found, [tokens for tokens, _ in texts])

    def _sum_rows(
        self, per_text: list[list[int]]
    ) -> tuple[npt.NDArray[np.float64], list[tuple[npt.NDArray[np.float64], int]]]:
        """Per text the left-to-right sum of its matrix rows (N x columns), and where each
        text's gathered rows are (block, index in the block).

        Texts of similar length are padded to a rectangle with the all-zero last row and
        summed with one cumsum: adding 0.0 changes no sum, and a running sum adds in order,
        exactly as :meth:`evaluate` (and plain Python) does; ``np.add.reduceat`` or
        ``sum`` would use pairwise summation and could differ in the last bit.
        """
        matrix = self._matrix
        zero = len(matrix) - 1
        logits = np.empty((len(per_text), matrix.shape[1]), dtype=np.float64)
        blocks: list[tuple[npt.NDArray[np.float64], int]] = [(logits, 0)] * len(per_text)
        order = sorted(range(len(per_text)), key=lambda i: len(per_text[i]))
        for start in range(0, len(order), _BLOCK_TEXTS):
            chunk = order[start : start + _BLOCK_TEXTS]
            width = len(per_text[chunk[-1]])
            padded = [per_text[i] + [zero] * (width - len(per_text[i])) for i in chunk]
            block = matrix.take(np.array(padded, dtype=np.intp), axis=0)
            logits[chunk] = block.cumsum(axis=1)[:, -1]
            for position, index in enumerate(chunk):
                blocks[index] = (block, position)
        return logits, blocks

    def blend_many(
        self,
        batch: BatchPrediction,
        scores: list[list[float]],
        pairs: Sequence[tuple[int, int]],
        decimals: int,
    ) -> tuple[list[list[float]], list[list[tuple[int, int]]]]:
        """Vocabulary scores (per text, per domain) blended with the model's probabilities as
        :meth:`blend` for each (domain index, model column) of ``pairs``, rounded as
        ``round(value, decimals)``; and per text the pairs whose logit is at least 0 (the
        domains that may show learned evidence words).

        Exactly the numbers of the per-text path: numpy's ``exp`` may differ from
        ``math.exp`` in the last bit and ``np.round`` from ``round`` near a half, so every
        value whose scaled blend lies within 1e-6 of a rounding boundary is worked out again
        with the per-text arithmetic (a handful per thousand texts, if any).
        """
        logits = batch.logits
        if not pairs:
            return scores, [[] for _ in scores]
        domain_at = np.array([index for index, _ in pairs], dtype=np.intp)
        column_at = np.array([column for _, column in pairs], dtype=np.intp)
        table = np.array(scores, dtype=np.float64).reshape(len(scores), -1)
        chosen = logits[:, column_at]
        with np.errstate(over="ignore"):
            probability = 1.0 / (1.0 + np.exp(-chosen))
        probability = np.where(
            chosen < -30.0, _AT_MINUS_30, np.where(chosen > 30.0, _AT_PLUS_30, probability)
        )
        lexicon = table[:, domain_at]
        share = self.share
        blended = lexicon + np.where(probability > lexicon, share, share / 2) * (
            probability - lexicon
        )
        scale = 10.0**decimals
        scaled = blended * scale
        rounded = np.rint(scaled) / scale
        table[:, domain_at] = rounded
        out: list[list[float]] = table.tolist()
        # Near a rounding boundary (or numpy's exp a bit off there): the per-text arithmetic.
        doubtful = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
        for text, k in zip(*np.nonzero(doubtful), strict=True):
            index, column = pairs[k]
            lexicon_score = scores[text][index]
            p = _sigmoid(float(logits[text, column]))
            out[text][index] = round(
                lexicon_score + (share if p > lexicon_score else share / 2) * (p - lexicon_score),
                decimals,
            )
        learned = (chosen >= 0.0).tolist()
        return out, [list(compress(pairs, row)) for row in learned]

    def predict(self, tokens: Sequence[Token]) -> dict[str, Contribution]:
        prediction = self.evaluate(tokens)
        return {
            domain: Contribution(probability, prediction.words(column))
            for column, (domain, probability) in enumerate(
                zip(self._domains, prediction.probabilities, strict=True)
            )
        }

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
