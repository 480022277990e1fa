"""Finds vocabulary entries in a text: whole words, inflections, compounds, phrases, typos.

Everything that depends only on the taxonomy is compiled once (``LexiconIndex``); the
per-word analysis is memoised because signals reuse a small working vocabulary.

Order of precedence for one word, first that applies wins:

1. a *neutral word* of the taxonomy ("thuis"): no evidence, never split;
2. the word, its lemma or an inflection stem *is* an entry ("kindjes" -> "kind");
3. the word is unknown to the Dutch dictionary and one typing error away from a long
   entry ("tandarst" -> tandarts);
4. the word is a *compound* of entries and other Dutch words
   ("schooluitstappen" -> school + uitstap, "tandartsbezoek" -> tandarts + bezoek).

A multi-word entry ("huis van het kind") is tried first and consumes its words, so the
"huis" inside it does not also count as housing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import attrgetter, is_, itemgetter
from typing import Final

from .model import Domain
from .text import Token, fold, inflection_stems, is_known_word, lemma, tokenize

MIN_PART: Final = 4
"""Shortest entry that counts inside a compound: "les" or "bus" would be found everywhere."""
MIN_GAP: Final = 3
"""Shortest other part next to an entry in a compound. Other parts must also be Dutch words
the lemmatiser knows: this is what keeps "huis" out of "thuis" (a lone "t") and "arts" out
of "bovenwaarts", while allowing "zak" + geld and tandarts + "bezoek"."""
MIN_COMPOUND: Final = MIN_PART + MIN_GAP
SHORT_HEADS: Final = frozenset(
    {
        "bus", "les", "pas", "dag", "tas", "job", "kot", "jas", "pak", "zak", "bon", "pot",
        "bad", "pad", "weg", "rit", "bed", "kar",
    }
)  # fmt: skip
"""Three-letter words that are common compound heads (schoolbus, taalles); other short
leftovers are more often word endings ("luis" + "ter")."""
LINKERS: Final = ("s", "e", "en", "er", "n")
"""Linking sounds between the parts of a compound: vrijetijd-s-aanbod, kind-er-opvang."""
DERIVATION_SUFFIXES: Final = frozenset(
    {
        "ing", "ingen", "ige", "igen", "igheid", "heid", "heden", "lijk", "lijke", "lijks",
        "elijk", "elijke", "isch", "ische", "baar", "bare", "achtig", "achtige", "erij",
        "erijen", "ster", "sters", "aar", "aars", "ier", "iers", "ist", "isten", "eren",
    }
)  # fmt: skip
"""Endings that make a new word from a root rather than a compound head: "geld" is not
evidence in "vergelding", nor "taal" in "betaalbaar"."""
DERIVATION_PREFIXES: Final = frozenset({"ver", "ont", "her", "mis"})
NEGATORS: Final = frozenset({"geen", "niet", "nooit", "zonder", "nergens", "no", "not"})
"""Words that flip a *negatable* entry right after them ("geen schulden", "niet ziek")."""
NEGATION_FILLERS: Final = frozenset(
    {"meer", "echt", "zo", "een", "de", "het", "te", "erg", "heel", "meteen", "langer", "nog"}
)  # fmt: skip
"""Words that may stand between the negator and the entry ("niet meer ziek", "geen echte
schulden")."""
TYPO_MIN_LENGTH: Final = 6
TYPO_WEIGHT: Final = 0.8
"""A guessed correction is weaker evidence than the word itself."""


@dataclass(frozen=True, slots=True)
class Hit:
    domain: int
    """Index of the domain in the taxonomy."""
    term: str
    weight: float
    negatable: bool = False


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    hit: Hit


@dataclass(frozen=True, slots=True)
class _Phrase:
    accepts: tuple[frozenset[str], ...]
    """Per word of the entry: the normalised forms a text word may take to match it."""
    hits: tuple[Hit, ...]


@dataclass(frozen=True, slots=True)
class _Analysis:
    lemma: str
    """Dictionary form of the word (as :func:`text.lemma`); the learned model reads it too."""
    forms: frozenset[str]
    hits: tuple[Hit, ...]
    phrases: tuple[_Phrase, ...]
    """Multi-word entries that may start with this word, longest first."""
    seconds: frozenset[str] = frozenset()
    """Forms the second word of any of those entries may take: most words start some entry
    ("de", "kind"), but the next word rarely fits, and this rules them out in one test."""
    active: bool = field(init=False)
    """Whether the word can give evidence at all (an entry, or the start of one)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "active", bool(self.hits or self.phrases))


class _PlainAnalyses(dict[str, _Analysis]):
    """Per-word analyses keyed on the word alone, for words whose raw form is the normalised
    one (every ASCII word): misses fill themselves, so a text is looked up with one
    ``map``, and memory stays bounded on an endless stream of new words."""

    __slots__ = ("_analyse",)

    def __init__(self, analyse: Callable[[str, str], _Analysis]) -> None:
        super().__init__()
        self._analyse = analyse

    def __missing__(self, norm: str) -> _Analysis:
        if len(self) > 200_000:
            self.clear()
        found = self[norm] = self._analyse(norm, norm)
        return found


_ACTIVE: Final = attrgetter("active")
_RAW: Final = itemgetter(3)  # Token.raw
_NORM: Final = itemgetter(2)  # Token.norm


_NO_HITS: Final[tuple[Hit, ...]] = ()


def _best_per_domain(hits: Iterable[Hit]) -> tuple[Hit, ...]:
    """One hit per domain per word: "schulden" must not count as both schuld and schulden."""
    best: dict[int, Hit] = {}
    for hit in hits:
        current = best.get(hit.domain)
        if current is None or hit.weight > current.weight:
            best[hit.domain] = hit
    return tuple(best[domain] for domain in sorted(best))


def _osa_distance_at_most_one(a: str, b: str) -> bool:
    """Whether a and b differ by at most one insertion, deletion, substitution or swap."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    if len(a) == len(b):
        if a[prefix + 1 :] == b[prefix + 1 :]:
            return True
        return (
            a[prefix + 2 :] == b[prefix + 2 :]
            and a[prefix : prefix + 2] == b[prefix : prefix + 2][::-1]
        )
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[prefix + 1 :] == shorter[prefix:]


def _word(piece: str, min_length: int) -> bool:
    return piece in SHORT_HEADS or (len(piece) >= min_length and is_known_word(piece))


def _modifier(piece: str) -> bool:
    """Whether ``piece`` can stand before another part: a word, maybe with a linker (zak,
    kinder-s)."""
    return _word(piece, MIN_GAP) or any(
        piece.endswith(linker) and _word(piece[: -len(linker)], MIN_GAP) for linker in LINKERS
    )


def _head(piece: str) -> bool:
    """Whether ``piece`` can end a compound: a word of at least four letters or a common
    short head, maybe after a linker (-s-aanbod, -bezoeken)."""
    return _word(piece, MIN_GAP + 1) or any(
        piece.startswith(linker) and _word(piece[len(linker) :], MIN_GAP + 1) for linker in LINKERS
    )


def _negated(tokens: Sequence[Token], position: int) -> bool:
    """Whether a negator stands right before ``tokens[position]`` (at most one filler word
    in between, no punctuation): "geen schulden", "niet meer ziek"."""
    previous = position - 1
    if previous >= 0 and tokens[previous].norm in NEGATION_FILLERS and tokens[previous].joins_next:
        previous -= 1
    return previous >= 0 and tokens[previous].norm in NEGATORS and tokens[previous].joins_next


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class LexiconIndex:
    """The compiled vocabulary of one taxonomy. Immutable after construction."""

    def __init__(self, domains: Sequence[Domain], neutral_words: Iterable[str]) -> None:
        words: dict[str, dict[tuple[int, str], Hit]] = {}
        parts: dict[str, dict[tuple[int, str], Hit]] = {}
        phrases: dict[tuple[str, ...], tuple[tuple[frozenset[str], ...], list[Hit]]] = {}

        def add(table: dict[str, dict[tuple[int, str], Hit]], key: str, hit: Hit) -> None:
            table.setdefault(key, {})[(hit.domain, hit.term)] = hit

        for index, domain in enumerate(domains):
            for term in domain.terms:
                hit = Hit(index, term.text, term.weight, term.negatable)
                tokens = tokenize(term.text)
                if len(tokens) == 1:
                    spelling = tokens[0].norm
                    for key in (spelling, lemma(tokens[0].raw)):
                        add(words, key, hit)
                    # Only the entry as written is looked for inside longer words: verb
                    # lemmas are stems that hide everywhere ("leren" -> "leer" in "leerde").
                    part_ok = len(spelling) >= MIN_PART
                else:
                    norms = tuple(token.norm for token in tokens)
                    accepts = tuple(frozenset({t.norm, lemma(t.raw)}) for t in tokens)
                    phrases.setdefault(norms, (accepts, []))[1].append(hit)
                    # People write "vrijetijdsaanbod", "email", "Delijn": the words of an
                    # entry written together are that entry too.
                    spelling = "".join(norms)
                    add(words, spelling, hit)
                    # ...but "delijn" or "tever" inside a longer word is chance, not intent.
                    part_ok = all(len(word) >= MIN_GAP for word in norms)
                if term.compound and part_ok:
                    add(parts, spelling, hit)

        self._words: Final = {key: tuple(hits.values()) for key, hits in words.items()}
        self._parts: Final = {key: tuple(hits.values()) for key, hits in parts.items()}
        self._part_prefixes: Final = frozenset(
            key[:end] for key in self._parts for end in range(1, len(key) + 1)
        )
        by_first: dict[str, list[_Phrase]] = {}
        for accepts, hits in phrases.values():
            phrase = _Phrase(accepts, tuple(hits))
            for form in accepts[0]:
                by_first.setdefault(form, []).append(phrase)
        # Longest first: "huis van het kind" must win over any shorter entry at that word.
        self._phrases: Final = {
            form: tuple(sorted(found, key=lambda p: -len(p.accepts)))
            for form, found in by_first.items()
        }
        typo_keys: dict[str, set[str]] = {}
        for key in self._words:
            if len(key) >= TYPO_MIN_LENGTH and key.isalpha():
                for variant in _deletions(key) | {key}:
                    typo_keys.setdefault(variant, set()).add(key)
        self._typo_keys: Final = {k: tuple(sorted(v)) for k, v in typo_keys.items()}
        self._neutral: Final = frozenset(fold(word) for word in neutral_words)
        self.analyse: Final = functools.lru_cache(maxsize=100_000)(self._analyse)
        # Per-word analyses keyed on the raw form alone when it is the normalised one too
        # (every ASCII word): a plain dict lookup, no key tuple, no lru bookkeeping.
        self._plain: Final = _PlainAnalyses(self._analyse)

    def find(self, text: str) -> list[Match]:
        """Every piece of evidence in ``text``, in text order, offsets into ``text``."""
        return self.find_in_tokens(tokenize(text))

    def find_in_tokens(self, tokens: Sequence[Token]) -> list[Match]:
        """As :meth:`find`, for a text already tokenised (the learned model reuses them)."""
        return [
            Match(start, end, hit) for start, end, hits in self.find_hits(tokens) for hit in hits
        ]

    def find_hits(
        self, tokens: Sequence[Token], analyses: Sequence[_Analysis] | None = None
    ) -> list[tuple[int, int, tuple[Hit, ...]]]:
        """The evidence of :meth:`find_in_tokens` grouped per place: (start, end, hits).

        What the classifier reads: no object per match. ``analyses`` as from
        :meth:`analyses` for these tokens, if the caller has them already.
        """
        if analyses is None:
            analyses = self.analyses(tokens)
        out: list[tuple[int, int, tuple[Hit, ...]]] = []
        size = len(tokens)
        after = 0  # first position not consumed by a multi-word entry
        # Only words with an entry or starting one can give evidence: most words ("de",
        # "en", "heeft") are skipped in C.
        for position in compress(range(size), map(_ACTIVE, analyses)):
            if position < after:
                continue
            analysis = analyses[position]
            phrase_end, phrase_hits = position, _NO_HITS
            if (
                analysis.phrases
                and position + 1 < size
                and tokens[position].joins_next
                and not analyses[position + 1].forms.isdisjoint(analysis.seconds)
            ):
                phrase_end, phrase_hits = self._phrase_at(tokens, analyses, position)
            hits = phrase_hits or analysis.hits
            if not hits:
                continue
            if _negated(tokens, position):
                hits = tuple(hit for hit in hits if not hit.negatable)
                if not hits:
                    after = phrase_end + 1
                    continue
            out.append((tokens[position].start, tokens[phrase_end].end, hits))
            after = phrase_end + 1
        return out

    def analyses(self, tokens: Sequence[Token]) -> list[_Analysis]:
        """Per token, what the vocabulary makes of the word (memoised per word)."""
        plain = self._plain
        if all(map(is_, map(_RAW, tokens), map(_NORM, tokens))):
            # Every raw form is its normalised form (an ASCII text): one C-level pass.
            return list(map(plain.__getitem__, map(_NORM, tokens)))
        out: list[_Analysis] = []
        for token in tokens:
            if token.raw is token.norm or token.raw == token.norm:
                out.append(plain[token.norm])
            else:
                out.append(self.analyse(token.norm, token.raw))
        return out

    def _phrase_at(
        self, tokens: Sequence[Token], analyses: Sequence[_Analysis], position: int
    ) -> tuple[int, tuple[Hit, ...]]:
        candidates = analyses[position].phrases
        size = len(tokens)
        for phrase in candidates:
            accepts = phrase.accepts
            last = position + len(accepts) - 1
            if last >= size:
                continue
            # A plain loop: this runs for most tokens, and generator overhead dominated it.
            for offset in range(1, len(accepts)):
                if not tokens[position + offset - 1].joins_next or analyses[
                    position + offset
                ].forms.isdisjoint(accepts[offset]):
                    break
            else:
                return last, phrase.hits
        return position, ()

    def _analyse(self, norm: str, raw: str) -> _Analysis:
        forms = [norm]
        value = lemma(raw)
        if len(norm) >= 2 and norm.isalpha():
            forms.append(value)
            forms.extend(inflection_stems(norm))
        unique = tuple(dict.fromkeys(forms))
        frozen = frozenset(unique)
        phrases = tuple(
            sorted(
                {id(p): p for form in unique for p in self._phrases.get(form, ())}.values(),
                key=lambda p: -len(p.accepts),
            )
        )
        seconds = frozenset[str]().union(*(p.accepts[1] for p in phrases))
        if len(norm) < 2 or not frozen.isdisjoint(self._neutral):
            return _Analysis(value, frozen, (), phrases, seconds)
        whole = self._whole_hits(unique)
        if whole:
            return _Analysis(value, frozen, whole, phrases, seconds)
        # A misspelt entry ("tandarst") would otherwise be read as a compound of a shorter
        # entry and a nonsense part ("tand" + "arst").
        typo = self._typo_hits(norm, raw)
        if typo:
            return _Analysis(value, frozen, typo, phrases, seconds)
        return _Analysis(value, frozen, self._compound_hits(unique), phrases, seconds)

    def _whole_hits(self, forms: Sequence[str]) -> tuple[Hit, ...]:
        # Forms are ordered from most to least trustworthy (as written, lemma, guessed
        # stems); per domain the first form that is an entry decides, so "lezen" stays
        # lezen rather than the stem "les".
        found: dict[int, Hit] = {}
        for form in forms:
            for hit in _best_per_domain(self._words.get(form, ())):
                found.setdefault(hit.domain, hit)
        return tuple(found[domain] for domain in sorted(found))

    def _compound_hits(self, forms: Sequence[str]) -> tuple[Hit, ...]:
        best: tuple[float, int, tuple[str, ...]] | None = None
        for form in forms:
            if len(form) < MIN_COMPOUND:
                continue
            found = self._segment(form)
            if found is None:
                continue
            covered, keys = found
            # Prefer the form the entries explain best: "schooluitstap" (all of it) over
            # "schooluitstappen" (with a stray "pen"), then fewer, longer parts.
            rank = (covered / len(form), -len(keys), keys)
            if best is None or rank[:2] > best[:2]:
                best = rank
        if best is None:
            return ()
        return _best_per_domain(hit for key in best[2] for hit in self._parts[key])

    def _segment(self, word: str) -> tuple[int, tuple[str, ...]] | None:
        """The best split of ``word`` into entries and plausible other parts, if any."""
        size = len(word)
        spans: list[tuple[int, int]] = []
        for start in range(size - MIN_PART + 1):
            for end in range(start + 1, size + 1):
                piece = word[start:end]
                if piece not in self._part_prefixes:
                    break
                if end - start >= MIN_PART and piece in self._parts and (start, end) != (0, size):
                    spans.append((start, end))
        if not spans:
            return None

        def lead_ok(gap: str) -> bool:
            return not gap or (gap not in DERIVATION_PREFIXES and _modifier(gap))

        def middle_ok(gap: str) -> bool:
            return not gap or gap in LINKERS or _modifier(gap) or _head(gap)

        def tail_ok(gap: str) -> bool:
            return not gap or (gap not in DERIVATION_SUFFIXES and _head(gap))

        # Dynamic programming over the spans (sorted by start): the best chain ending in a
        # span only depends on the gap before it, so keeping one chain per span is exact and
        # avoids trying every subset of spans.
        chains: list[tuple[int, int, tuple[int, ...]] | None] = []
        for index, (start, end) in enumerate(spans):
            best: tuple[int, int, tuple[int, ...]] | None = None
            if lead_ok(word[:start]):
                best = (end - start, -1, (index,))
            for previous in range(index):
                chain = chains[previous]
                p_end = spans[previous][1]
                if chain is None or p_end > start or not middle_ok(word[p_end:start]):
                    continue
                candidate = (chain[0] + end - start, chain[1] - 1, (*chain[2], index))
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
            chains.append(best)
        finished = [
            chain
            for chain in chains
            if chain is not None and tail_ok(word[spans[chain[2][-1]][1] :])
        ]
        if not finished:
            return None
        covered, _, members = max(finished, key=lambda chain: chain[:2])
        return covered, tuple(word[spans[i][0] : spans[i][1]] for i in members)

    def _typo_hits(self, norm: str, raw: str) -> tuple[Hit, ...]:
        if len(norm) < TYPO_MIN_LENGTH or not norm.isalpha() or is_known_word(raw):
            return ()
        candidates: set[str] = set()
        for variant in _deletions(norm) | {norm}:
            candidates.update(self._typo_keys.get(variant, ()))
        keys = sorted(
            key
            for key in candidates
            # Typing errors rarely hit the first letter; requiring it halves false friends.
            if key[0] == norm[0] and _osa_distance_at_most_one(norm, key)
        )
        return _best_per_domain(
            Hit(hit.domain, hit.term, hit.weight * TYPO_WEIGHT, hit.negatable)
            for key in keys
            for hit in self._words[key]
        )
