"""Themes: signals that describe the same problem, grouped by text similarity — pure.

Method (explainable on purpose, so a coordinator can say *why* two signals landed together):

1. Each signal is reduced to its content lemmas (``text.theme_terms``) and weighted with TF-IDF
   (sublinear term frequency, L2 norm), fitted on the signals being grouped: a word every
   signal uses weighs little, a word a handful share weighs much.
2. Within one life domain, signals are joined by **average-linkage** hierarchical clustering on
   cosine similarity: two groups merge while the *average* similarity between their members is
   at least ``threshold``. Average linkage does not chain ("schooluitstap te duur" and "school
   stuurt deurwaarder" share "school" but no average), which single linkage would.
3. The label of a theme is its most shared terms; for every theme the bundle lists the terms
   that tied it together (present in at least half of its signals).

Scale: exact clustering is quadratic, so above ``exact_limit`` signals a domain is grouped in
rounds: cluster an evenly spread sample exactly, then attach every other signal whose average
similarity to a found theme's members (its dot product with the theme's mean vector — the same
quantity average linkage uses) reaches the threshold, with one sparse matrix product; the signals
left over go to the next round. Below the limit (every steering group's real quarter) the result
is the exact one.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.feature_extraction.text import TfidfTransformer

DEFAULT_THRESHOLD: Final = 0.10
"""Tuned on ``data/themes/dev.jsonl`` with ``python -m bench.eval_themes`` (see README)."""

DEFAULT_EXACT_LIMIT: Final = 1500

SHARED_FRACTION: Final = 0.5
"""A term 'ties a theme together' when at least this share of its signals use it."""

# scipy ships no type information: a CSR matrix is `Any` to mypy, named here for the reader.
Vector: TypeAlias = Any


@dataclass(frozen=True, slots=True)
class TermGroup:
    """One group of texts: positions into the input and why they belong together."""

    members: tuple[int, ...]
    """Positions in the input sequence, ascending."""
    shared_terms: tuple[tuple[str, int], ...]
    """Terms used by at least half the members (and by two or more), with how many use them."""
    top_terms: tuple[str, ...]
    """Terms with the highest weight in the group's mean vector (up to 8)."""
    representatives: tuple[int, ...]
    """Members ordered by similarity to the group's mean, most typical first."""


def count_terms(term_strings: Sequence[str]) -> tuple[Vector, npt.NDArray[np.object_]]:
    """Term counts (float32 CSR, sorted indices) over an alphabetical vocabulary: the matrix
    scikit-learn's ``CountVectorizer(analyzer=str.split)`` makes, built with C-level loops.

    Each distinct string is counted once and its row repeated: copied and templated messages
    recur, and a region-wide quarter has hundreds of thousands of rows.
    """
    distinct = list(dict.fromkeys(term_strings))
    split = [text.split() for text in distinct]
    tokens = list(itertools.chain.from_iterable(split))
    vocabulary = sorted(dict.fromkeys(tokens))
    column = {term: i for i, term in enumerate(vocabulary)}
    indices = np.fromiter(map(column.__getitem__, tokens), dtype=np.int32, count=len(tokens))
    indptr = np.zeros(len(split) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, split), dtype=np.int64, count=len(split)), out=indptr[1:])
    counts = sparse.csr_matrix(
        (np.ones(len(tokens), dtype=np.float32), indices, indptr),
        shape=(len(distinct), len(vocabulary)),
    )
    counts.sum_duplicates()  # a term twice in one text: one entry, count 2; sorts indices
    if len(distinct) < len(term_strings):
        row = {text: i for i, text in enumerate(distinct)}
        counts = counts[np.fromiter(map(row.__getitem__, term_strings), dtype=np.int64)]
    return counts, np.asarray(vocabulary, dtype=object)


def vectorise(term_strings: Sequence[str]) -> tuple[Vector, npt.NDArray[np.object_]]:
    """TF-IDF rows (L2-normalised) and the vocabulary, fitted on these texts only."""
    counts, vocabulary = count_terms(term_strings)
    weighted = TfidfTransformer(sublinear_tf=True).fit_transform(counts)
    return sparse.csr_matrix(weighted, dtype=np.float32), vocabulary


def _exact(rows: Vector, threshold: float) -> npt.NDArray[np.int64]:
    """Average-linkage clusters of ``rows``; labels 0..k-1 in order of first member."""
    n = rows.shape[0]
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    similarity = (rows @ rows.T).toarray()
    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    # The upper triangle, row by row (what ``linkage`` takes), without index arrays.
    condensed = squareform(distance, force="tovector", checks=False)
    tree = linkage(condensed, method="average")
    raw = fcluster(tree, t=1.0 - threshold, criterion="distance")
    # fcluster numbers clusters arbitrarily; renumber by first appearance for determinism.
    _, first, inverse = np.unique(raw, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return np.asarray(order[inverse], dtype=np.int64)


def cluster(
    rows: Vector, *, threshold: float = DEFAULT_THRESHOLD, exact_limit: int = DEFAULT_EXACT_LIMIT
) -> npt.NDArray[np.int64]:
    """A cluster label per row (0..k-1). Deterministic for the same rows in the same order."""
    n = rows.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    remaining = np.arange(n)
    next_label = 0
    while remaining.size:
        if remaining.size <= exact_limit:
            local = _exact(rows[remaining], threshold)
            labels[remaining] = local + next_label
            break
        stride = remaining.size / exact_limit
        sample = remaining[(np.arange(exact_limit) * stride).astype(np.int64)]
        local = _exact(rows[sample], threshold)
        sizes = np.bincount(local)
        grown = np.flatnonzero(sizes >= 2)
        if grown.size == 0:
            # No two sampled signals are alike: they stay alone, the rest gets another round.
            labels[sample] = np.arange(sample.size) + next_label
            next_label += sample.size
            remaining = np.setdiff1d(remaining, sample, assume_unique=True)
            continue
        # Mean vector per grown cluster: x · mean = average similarity of x to the members.
        pick = np.isin(local, grown)
        members = sample[pick]
        cluster_of = np.searchsorted(grown, local[pick])
        indicator = sparse.csr_matrix(
            (np.ones(members.size, dtype=np.float32), (cluster_of, np.arange(members.size))),
            shape=(grown.size, members.size),
        )
        means = sparse.diags((1.0 / sizes[grown]).astype(np.float32)) @ indicator @ rows[members]
        labels[members] = cluster_of + next_label
        rest = np.setdiff1d(remaining, members, assume_unique=True)
        best_label = np.full(rest.size, -1, dtype=np.int64)
        for start in range(0, rest.size, 20_000):
            block = rest[start : start + 20_000]
            scores = (rows[block] @ means.T).toarray()
            best = scores.argmax(axis=1)
            ok = scores[np.arange(block.size), best] >= threshold
            best_label[start : start + block.size] = np.where(ok, best, -1)
        attached = best_label >= 0
        labels[rest[attached]] = best_label[attached] + next_label
        next_label += grown.size
        remaining = rest[~attached]
    return labels


def describe(
    rows: Vector, vocabulary: npt.NDArray[np.object_], members: Sequence[int]
) -> TermGroup:
    """Shared terms, top terms and representatives of one group of rows."""
    block = rows[list(members)]
    mean = np.asarray(block.mean(axis=0)).ravel()
    present = np.asarray((block > 0).sum(axis=0)).ravel()
    need = max(2, int(np.ceil(SHARED_FRACTION * len(members))))
    shared_idx = np.flatnonzero(present >= need)
    shared_idx = shared_idx[np.lexsort((-mean[shared_idx], -present[shared_idx]))]
    top_idx = np.argsort(-mean, kind="stable")[:8]
    top_idx = top_idx[mean[top_idx] > 0]
    closeness = np.asarray(block @ mean).ravel()
    order = np.argsort(-closeness, kind="stable")
    return TermGroup(
        members=tuple(sorted(members)),
        shared_terms=tuple((str(vocabulary[i]), int(present[i])) for i in shared_idx),
        top_terms=tuple(str(vocabulary[i]) for i in top_idx),
        representatives=tuple(int(members[i]) for i in order),
    )


@dataclass(frozen=True, slots=True)
class TermSpace:
    """TF-IDF rows of every text being compiled, fitted once: IDF from the whole set, so a word
    common in the region weighs little in every domain."""

    rows: Vector
    vocabulary: npt.NDArray[np.object_]

    @classmethod
    def fit(cls, term_strings: Sequence[str]) -> TermSpace:
        # A text without any content word still needs a row; it stays a group of its own.
        safe = [t if t and not t.isspace() else f"_leeg{i}" for i, t in enumerate(term_strings)]
        rows, vocabulary = vectorise(safe) if safe else (sparse.csr_matrix((0, 0)), np.array([]))
        return cls(rows, vocabulary)


def group_block(
    space: TermSpace,
    positions: Sequence[int],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
) -> list[TermGroup]:
    """Group the texts at ``positions`` (one domain) into themes; members are positions."""
    if not positions:
        return []
    index = np.asarray(positions, dtype=np.int64)
    rows = space.rows[index]
    labels = cluster(rows, threshold=threshold, exact_limit=exact_limit)
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    groups = []
    for local in np.split(order, bounds):
        group = describe(rows, space.vocabulary, [int(i) for i in local])
        groups.append(
            TermGroup(
                members=tuple(sorted(int(index[i]) for i in group.members)),
                shared_terms=group.shared_terms,
                top_terms=group.top_terms,
                representatives=tuple(int(index[i]) for i in group.representatives),
            )
        )
    return groups


def group_texts(
    term_strings: Sequence[str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
) -> list[TermGroup]:
    """Group texts (already reduced with ``theme_terms``) as one block."""
    space = TermSpace.fit(term_strings)
    return group_block(
        space, range(len(term_strings)), threshold=threshold, exact_limit=exact_limit
    )


@dataclass(frozen=True, slots=True)
class PairScores:
    precision: float
    recall: float
    f1: float
    pairs_predicted: int
    pairs_gold: int


def pair_scores(predicted: Sequence[object], gold: Sequence[object]) -> PairScores:
    """Pairwise precision/recall: of all pairs put together, how many belong together, and
    of all pairs that belong together, how many were put together."""
    together_predicted = together_gold = both = 0
    n = len(gold)
    for i in range(n):
        for j in range(i + 1, n):
            p = predicted[i] == predicted[j]
            g = gold[i] == gold[j]
            together_predicted += p
            together_gold += g
            both += p and g
    precision = both / together_predicted if together_predicted else 1.0
    recall = both / together_gold if together_gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairScores(precision, recall, f1, together_predicted, together_gold)
