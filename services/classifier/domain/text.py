"""Dutch text handling for the lexicon classifier: normalisation, tokens, lemmas, stems.

Matching happens on a normalised copy of the text (casefolded, accents stripped) so that
"Crèche", "creche" and "CRECHE" meet the same vocabulary entry, but every token keeps the
character offsets of the *original* text: evidence must point at what the reporter wrote.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final, NamedTuple

import simplemma

_WORD_AND_GAP: Final = re.compile(r"([^\W_]+)([\W_]*)")
_GAP_AND_WORD: Final = re.compile(r"([\W_]*)([^\W_]+)")
# Only these may sit between the words of a multi-word term ("Kind en Gezin", "pro-deo"):
# a full stop or comma between two words means they do not belong to one phrase.
_PHRASE_JOINER: Final = re.compile(r"[\s\-\u2010\u2011'\u2019]+")


class Token(NamedTuple):
    # A tuple rather than a dataclass: a signal has ~50 of them and creating them is a
    # measurable share of the classification time.
    start: int
    """Offset of the first character in the original text."""
    end: int
    """Offset after the last character in the original text."""
    norm: str
    """Casefolded, accent-free form used for matching."""
    raw: str
    """Casefolded original spelling (accents kept), which is what the lemmatiser knows."""
    joins_next: bool
    """Whether only spaces or hyphens separate this token from the next one."""


@functools.lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Casefold and strip accents (no offset bookkeeping)."""
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(c) for c in text)


_FOLD_TABLE: dict[int, str] = {}
"""str.translate table, filled as characters are met: folding a text is then one C call."""
_UNEVEN: set[str] = set()
"""Characters that fold to zero or several characters ("ß", combining accents)."""


def _normalise_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """The matching form of ``text`` and, per normalised character, its original offset.

    ``None`` for the offsets means the identity mapping: the common case where every
    character folds to exactly one character (all ASCII, or "é" -> "e").
    """
    if text.isascii():
        return text.lower(), None
    chars = set(text)
    table = _FOLD_TABLE
    for char in chars:
        if ord(char) not in table:
            folded = _fold_char(char)
            if len(folded) != 1:
                _UNEVEN.add(char)
            if len(table) < 65_536:
                table[ord(char)] = folded
    if chars.isdisjoint(_UNEVEN):
        return text.translate(table), None
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        if folded:
            pieces.append(folded)
            origin.extend([index] * len(folded))
    return "".join(pieces), origin


_JOINED: dict[str, bool] = {}
"""Per gap between two words, whether it joins them into a phrase. Gaps repeat endlessly
(" ", ", ", " - "): one regex test per distinct gap is enough."""
_new: Final = tuple.__new__


def _joins(gap: str) -> bool:
    joins = bool(gap) and _PHRASE_JOINER.fullmatch(gap) is not None
    if len(gap) <= 8 and len(_JOINED) < 4096:
        _JOINED[gap] = joins  # long gaps are rare and unbounded in variety: not kept
    return joins


def tokenize(text: str) -> list[Token]:
    """Word tokens of ``text`` with offsets into ``text`` itself."""
    norm, origin = _normalise_with_offsets(text)
    tokens: list[Token] = []
    append = tokens.append
    if origin is None:
        # Offsets are the identity. findall hands back (gap before, word) pairs in one C
        # call; offsets are summed from their lengths. Tokens are made with tuple.__new__:
        # the NamedTuple constructor is a Python-level function, a third of this loop.
        pairs = _GAP_AND_WORD.findall(norm)
        if not pairs:
            return tokens
        following = [gap for gap, _ in pairs[1:]]
        following.append("")  # nothing follows the last word
        joined = _JOINED
        position = 0
        if text.isascii():
            # Casefolding equals lower-casing: the raw form is the normalised one.
            for (gap, word), after in zip(pairs, following, strict=True):
                start = position + len(gap)
                position = start + len(word)
                joins = joined.get(after)
                if joins is None:
                    joins = _joins(after)
                append(_new(Token, (start, position, word, word, joins)))
            return tokens
        for (gap, word), after in zip(pairs, following, strict=True):
            start = position + len(gap)
            position = start + len(word)
            joins = joined.get(after)
            if joins is None:
                joins = _joins(after)
            raw = text[start:position].casefold()
            # Same object when equal: lets the matcher use its plain per-word cache.
            append(_new(Token, (start, position, word, word if raw == word else raw, joins)))
        return tokens
    return _tokenize_mapped(text, norm, origin)


def _tokenize_mapped(text: str, norm: str, origin: list[int]) -> list[Token]:
    """The general path of :func:`tokenize`: ``origin[i]`` is the offset in ``text`` of
    ``norm[i]``. Also the reference the fast identity path is tested against."""
    tokens: list[Token] = []
    append = tokens.append
    for match in _WORD_AND_GAP.finditer(norm):
        word, gap = match.groups()
        n_start = match.start()
        n_end = n_start + len(word)
        start = origin[n_start]
        # Extend over characters that folded to nothing (combining accents) so that the
        # evidence shows "é" rather than a bare "e" when the text used a decomposed form.
        end = origin[n_end] if n_end < len(origin) else len(text)
        end = max(end, origin[n_end - 1] + 1)
        append(Token(start, end, word, text[start:end].casefold(), _joins(gap)))
    if tokens and tokens[-1].joins_next:
        tokens[-1] = tokens[-1]._replace(joins_next=False)  # nothing follows the last word
    return tokens


@functools.lru_cache(maxsize=200_000)
def lemma(raw: str) -> str:
    """Normalised dictionary form of one casefolded word ("kinderen" -> "kind")."""
    if len(raw) < 2 or not raw.isalpha():
        return fold(raw)
    # simplemma marks the particle of separable verbs with "_" ("af_sluiten").
    return fold(simplemma.lemmatize(raw, lang="nl")).replace("_", "")


@functools.lru_cache(maxsize=200_000)
def is_known_word(raw: str) -> bool:
    """Whether the lemmatiser's Dutch dictionary knows the word (so it is no typo)."""
    return bool(simplemma.is_known(raw, lang="nl"))


_DIMINUTIVES: Final = ("etjes", "etje", "tjes", "tje", "pjes", "pje", "jes", "je")
_VOWELS: Final = frozenset("aeiou")


def _restore_base(stem: str) -> list[str]:
    """Undo the spelling changes Dutch makes before -en/-e endings.

    stappen -> stap (doubled consonant), huizen -> huis / brieven -> brief (voicing),
    facturen -> factuur / straten -> straat / werkloze -> werkloos (open syllable lost
    its double vowel).
    """
    out = [stem]
    if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS:
        out.append(stem[:-1])
        return out
    if stem.endswith("z"):
        stem = stem[:-1] + "s"
        out.append(stem)
    elif stem.endswith("v"):
        stem = stem[:-1] + "f"
        out.append(stem)
    if (
        len(stem) >= 3
        and stem[-1] not in _VOWELS
        and stem[-2] in _VOWELS
        and stem[-3] not in _VOWELS
    ):
        out.append(stem[:-1] + stem[-2] + stem[-1])
    return out


def inflection_stems(norm: str) -> list[str]:
    """Candidate base forms for plurals, diminutives and adjective endings.

    These over-generate on purpose ("kinderen" -> "kinder", "kindeer"): a candidate only
    matters when it is a vocabulary entry. The lemmatiser does not know most compounds
    ("schooluitstappen" -> "schooluitstap"), which is exactly where these rules help.
    """
    # Three-letter stems are mostly accidents ("weten" -> "wet", "wonen" -> "won"); the
    # lemmatiser already knows the real short plurals (lessen, bussen).
    return [stem for stem in _candidate_stems(norm) if len(stem) >= 4]


def _candidate_stems(norm: str) -> list[str]:
    out: list[str] = []
    size = len(norm)
    for suffix in _DIMINUTIVES:
        if norm.endswith(suffix) and size - len(suffix) >= 3:
            base = norm[: -len(suffix)]
            out.append(base)
            if suffix.startswith("et") and base[-1] == base[-2]:
                out.append(base[:-1])  # balletje -> bal
            break
    if norm.endswith("eren") and size >= 7:
        out.append(norm[:-4])  # kinderen -> kind
    if norm.endswith("en") and size - 2 >= 3:
        out.extend(_restore_base(norm[:-2]))
    elif norm.endswith("s") and size - 1 >= 3 and not norm.endswith("ss"):
        out.append(norm[:-1])  # ouders -> ouder, laptops -> laptop
    elif norm.endswith("e") and size - 1 >= 3:
        out.extend(_restore_base(norm[:-1]))  # zieke -> ziek, dure -> duur
    return out


def warm_up() -> None:
    """Load the lemmatiser's dictionary now (it loads lazily, taking about a second)."""
    lemma.__wrapped__("kinderen")
    is_known_word.__wrapped__("kinderen")
