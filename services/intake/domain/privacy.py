"""Personal-data scrubber: what intake runs on a signal's text before anything is published.

Pure and deterministic: no I/O, no clock, no randomness; the same text always gives the same
result. ``scrub(text)`` finds personal data, replaces each finding with a Dutch placeholder
(``[naam]``, ``[telefoon]``, ...) and reports what it removed as kinds with offsets into
the original text, never the content itself.

Design choices (the why):

- Recall before precision. A name that slips through reaches Kafka, logs and printed bundles;
  an organisation wrongly shown as ``[naam]`` only makes one sentence a little vaguer. Still,
  a scrubbed signal must read as the structural problem it describes, so places, services,
  nationalities, months and ordinary words are protected by allow-lists
  (``privacy_lexicon.py``).
- Number-shaped identifiers are validated where an algorithm exists (mod 97 for the
  rijksregisternummer and IBANs, zone codes for landlines), so that amounts, counts and school
  years stay. A number that carries a label ("INSZ", "gsm") is scrubbed even when the check
  fails: a typo still identifies someone.
- The text is split into word tokens once; names, streets and every labelled number are found
  from those tokens, and number patterns only run around digit runs long enough to hold an
  identifier. A 300-character signal takes about a tenth of a millisecond per pass.
- Idempotent by construction: placeholders are masked before detection, and ``scrub`` repeats
  detection on its own output until nothing new is found (replacing a finding can join text
  into a new match). The result is therefore a fixed point:
  ``scrub(scrub(x).text).text == scrub(x).text``.

Deliberate trade-offs, also listed in the tests:

- A street without a house number stays ("in de Kerkstraat is veel verkeer"): it describes a
  neighbourhood, not a household, and steering groups need that.
- Every full numeric date with a year ("01/09/2024") is scrubbed as a birth date, even
  without a cue: in a signal it is far more often somebody's birth date than anything a
  steering group needs. Dates without a year ("op 12 oktober") and written dates without a
  birth cue ("3 mei 2023") stay.
- Only capitalised words can be names. Property: text without digits, ``@`` and capitals
  comes out unchanged; a name typed in lower case ("ayoub") is therefore missed.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Final, NamedTuple

import simplemma

from schemas.v1 import RedactionCountV1, RedactionKind
from services.intake.domain import privacy_lexicon as lex

__all__ = ["PLACEHOLDERS", "Redaction", "ScrubResult", "scrub"]

PLACEHOLDERS: Final[Mapping[RedactionKind, str]] = MappingProxyType(
    {
        RedactionKind.NAME: "[naam]",
        RedactionKind.NATIONAL_NUMBER: "[rijksregisternummer]",
        RedactionKind.PHONE: "[telefoon]",
        RedactionKind.EMAIL: "[e-mail]",
        RedactionKind.IBAN: "[iban]",
        RedactionKind.ADDRESS: "[adres]",
        RedactionKind.BIRTH_DATE: "[geboortedatum]",
    }
)
"""What a reader of the scrubbed text sees. The kinds' values in the event contract
("telefoonnummer", "rekeningnummer") are older than these words and stay as they are."""


@dataclass(frozen=True, slots=True)
class Redaction:
    """One removed piece of personal data: its kind and where it stood in the original text."""

    kind: RedactionKind
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ScrubResult:
    text: str
    """The scrubbed text: every finding replaced by its placeholder."""
    redactions: tuple[Redaction, ...]
    """Findings in text order, non-overlapping, offsets into the original text."""

    @property
    def changed(self) -> bool:
        return bool(self.redactions)

    def counts(self) -> list[RedactionCountV1]:
        """Kinds and counts for the event, sorted by kind value; never the content."""
        counter = Counter(redaction.kind for redaction in self.redactions)
        return [
            RedactionCountV1(kind=kind, count=counter[kind])
            for kind in sorted(counter, key=lambda kind: kind.value)
        ]


def scrub(text: str) -> ScrubResult:
    """Remove personal data from ``text``; see the module docstring for what and why."""
    masked = _mask(text)
    tokenized = _tokenize(masked)
    spans = _merge(_detect(masked, tokenized))
    if not spans:
        return ScrubResult(text=text, redactions=())
    out, segments = _apply(text, spans)
    # Each round covers at least one more character of the original (a new finding always
    # contains unmasked text), so this ends; in practice after one or two rounds.
    first_round = True
    for _ in range(len(text)):
        out_masked = _mask(out)
        carried = _carry_tokens(out_masked, tokenized.tokens, spans) if first_round else None
        first_round = False
        more = _detect(out_masked, carried or _tokenize(out_masked))
        if not more:
            break
        spans = _merge([*spans, *(_to_original(f, segments) for f in more)])
        out, segments = _apply(text, spans)
    return ScrubResult(
        text=out,
        redactions=tuple(Redaction(kind=f.kind, start=f.start, end=f.end) for f in spans),
    )


# --------------------------------------------------------------------------------------------
# Findings, merging and replacement
# --------------------------------------------------------------------------------------------


class _Finding(NamedTuple):
    start: int
    end: int
    kind: RedactionKind
    rank: int
    """When findings overlap they become one redaction of the kind with the highest rank:
    the most specific, best validated evidence names it."""


_RANK_IBAN: Final = 100
_RANK_RRN: Final = 95
_RANK_EMAIL: Final = 90
_RANK_PHONE: Final = 80
_RANK_RRN_LABELLED: Final = 75
_RANK_PHONE_LABELLED: Final = 70
_RANK_BIRTH_DATE: Final = 50
_RANK_ADDRESS: Final = 40
_RANK_NAME: Final = 30


def _merge(findings: Iterable[_Finding]) -> list[_Finding]:
    merged: list[_Finding] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if f.start >= f.end:
            continue
        if merged and f.start < merged[-1].end:
            last = merged[-1]
            best = last if last.rank >= f.rank else f
            merged[-1] = _Finding(last.start, max(last.end, f.end), best.kind, best.rank)
        else:
            merged.append(f)
    return merged


class _Segment(NamedTuple):
    out_start: int
    out_end: int
    start: int
    end: int


def _apply(text: str, spans: list[_Finding]) -> tuple[str, list[_Segment]]:
    parts: list[str] = []
    segments: list[_Segment] = []
    pos = 0
    out_pos = 0
    for span in spans:
        parts.append(text[pos : span.start])
        out_pos += span.start - pos
        placeholder = PLACEHOLDERS[span.kind]
        parts.append(placeholder)
        segments.append(_Segment(out_pos, out_pos + len(placeholder), span.start, span.end))
        out_pos += len(placeholder)
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts), segments


def _to_original(finding: _Finding, segments: list[_Segment]) -> _Finding:
    """Map a finding in scrubbed text back to the original; placeholders map to their span."""
    starts = [segment.out_start for segment in segments]

    def char_span(index: int) -> tuple[int, int]:
        i = bisect_right(starts, index) - 1
        if i < 0:
            return index, index + 1
        segment = segments[i]
        if index < segment.out_end:
            return segment.start, segment.end
        original = segment.end + (index - segment.out_end)
        return original, original + 1

    return finding._replace(start=char_span(finding.start)[0], end=char_span(finding.end - 1)[1])


# --------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------

_PLACEHOLDER_RE: Final = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))
_MASK: Final = "\x00"
"""Placeholders are overwritten with this before detection: it is neither a letter, a digit,
white space nor a separator any pattern accepts, so nothing can match inside a placeholder."""
_ANY_DIGIT_RE: Final = re.compile(r"[0-9]")


def _split(words: str) -> list[str]:
    """Word lists are written as one string: easier to read and extend than quoted items."""
    return words.split()


def _mask(text: str) -> str:
    if "[" not in text:
        return text
    return _PLACEHOLDER_RE.sub(lambda m: _MASK * len(m.group()), text)


def _detect(text: str, tokenized: _Tokens) -> list[_Finding]:
    """All findings in ``text`` (placeholders masked), overlapping ones included."""
    tokens, cues = tokenized
    findings: list[_Finding] = []
    if "@" in text:
        findings.extend(_emails(text))
    if "@" in text or " at " in text or "(at)" in text or "[at]" in text or _spelled_at(text):
        findings.extend(_spelled_emails(text))
    runs = _digit_runs(text) if _ANY_DIGIT_RE.search(text) else []
    if runs:
        # Number patterns only run around digit runs long enough to hold what they look for;
        # most signals only hold counts, amounts and years.
        long_runs = [run for run in runs if run.digits >= _MIN_DIGITS_IDENTIFIER]
        if long_runs:
            findings.extend(_ibans(text, long_runs))
            findings.extend(_national_numbers(text, long_runs, cues))
            findings.extend(_phones(text, long_runs, cues))
        findings.extend(_birth_dates(text, runs, cues))
        findings.extend(_addresses(text, tokens, runs, cues))
    findings.extend(_names(text, tokens))
    return findings


class _Run(NamedTuple):
    start: int
    end: int
    digits: int


_DIGIT_RUN_RE: Final = re.compile(r"[0-9](?:[ \u00a0./\-()+]{0,3}[0-9])*")
"""Digits with short separators between them: the widest any number identifier can be."""
_NON_DIGITS: Final = str.maketrans("", "", " \u00a0./-()+")
_MIN_DIGITS_IDENTIFIER: Final = 7
"""Fewer digits in a run than this is no phone number (8+), no rijksregisternummer (9+ when
labelled) and no IBAN (the BBAN after the bank code letters is 7+ digits in every format)."""
_MIN_DIGITS_DATE: Final = 5
_IBAN_REACH: Final = 16
"""How far before a long digit run an IBAN may start: country, check digits, bank letters."""


def _digit_runs(text: str) -> list[_Run]:
    return [
        _Run(m.start(), m.end(), len(m.group().translate(_NON_DIGITS)))
        for m in _DIGIT_RUN_RE.finditer(text)
    ]


# Character classes shared by the patterns below. Digits are ASCII on purpose: identifiers
# are typed with them, and `\d` would also accept e.g. Arabic-Indic digits in odd places.
_LETTER: Final = r"[^\W\d_]"
_UPPER: Final = r"[A-ZÀ-ÖØ-ÞĀ-ĶĹ-ŇŊ-ŶŹŻŽȘȚİŞĞ]"
_CAP_WORD: Final = rf"{_UPPER}{_LETTER}*(?:[-'’]{_LETTER}+)*"


# --------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------

_TOKEN_RE: Final = re.compile(rf"{_LETTER}+(?:['’\-]{_LETTER}+)*")


class _WordInfo(NamedTuple):
    """What the lists say about one word (lower case); cached per word."""

    first_name: bool
    surname: bool
    common: bool
    """An ordinary word (or a cue word) that is not also on a name list."""
    protected: bool
    """A protected proper noun, or a thing by its shape (street, organisation, adjective):
    never a name unless a cue or a particle says so."""
    street: bool
    """Ends like a street name ("Kerkstraat", "Vrijdagmarkt"); a street when capitalised."""
    street_strong: bool
    """Ends in an unmistakable street word ("kerkstraat"): a street even in lower case."""
    org: bool
    """Ends like an organisation or a thing ("Sint-Jozefschool", "Vluchtelingenwerk")."""
    lower_name: bool
    """A listed name that is no word in lower case either ("ayoub", "peeters"; not "roos"):
    a name even when typed without a capital."""

    @property
    def listed(self) -> bool:
        return self.first_name or self.surname


def _word_info(key: str) -> _WordInfo:
    first_name = key in lex.FIRST_NAMES
    surname = key in lex.SURNAMES
    if "-" in key and not (first_name or surname):
        # "Marie-Louise", "Yusuf-Ali", "El-Amrani", "Van-Damme": judged by their parts.
        parts = key.split("-")
        first_name = all(part in lex.FIRST_NAMES for part in parts)
        surname = any(part in lex.SURNAMES for part in parts) and all(
            part in lex.SURNAMES or part in lex.NAME_PARTICLES or part in lex.FIRST_NAMES
            for part in parts
        )
    listed = first_name or surname
    street = _ends_with(key, lex.STREET_SUFFIXES, 2)
    org = _ends_with(key, lex.ORG_SUFFIXES, 3) or _ends_with(key, lex.PLACE_SUFFIXES, 3)
    protected = key in lex.ALLOWED_WORDS or key.startswith(("sint-", "onze-lieve-"))
    if not listed:
        protected = protected or street or org or key.endswith(_ADJECTIVE_ENDINGS)
    return _WordInfo(
        first_name=first_name,
        surname=surname,
        common=key in _COMMON_WORDS and not listed,
        protected=protected,
        street=street or _ends_with(key, _STREET_ABBREVIATIONS, 3),
        street_strong=_ends_with(key, lex.STREET_SUFFIXES_STRONG, 3),
        org=org,
        lower_name=(
            listed
            and len(key) >= 3
            and key not in lex.LOWERCASE_NAME_WORDS
            and key not in lex.NAMES_ALSO_WORDS
            and key not in _COMMON_WORDS
            and key not in lex.ALLOWED_WORDS
        ),
    )


_STREET_ABBREVIATIONS: Final = ("str", "stwg", "stw", "ln")
"""How street words are shortened ("Kerkstr. 12", "Gentse stwg 3")."""


@lru_cache(maxsize=8192)
def _is_dutch_word(key: str) -> bool:
    """Whether a lower-case word is in the Dutch dictionary that the classifier also uses.
    Asked only about the word right after a cue ("mama van ..."), so it stays off the hot
    path; names on our lists are decided by the lists, not here (the dictionary knows
    "mohammed" and "jan")."""
    # The dictionary holds some given names too; it writes them with a capital ("René").
    return (
        simplemma.is_known(key, lang="nl") and not simplemma.lemmatize(key, lang="nl")[:1].isupper()
    )


def _ends_with(word: str, suffixes: tuple[str, ...], min_stem: int) -> bool:
    return word.endswith(suffixes) and any(
        word.endswith(s) and len(word) - len(s) >= min_stem for s in suffixes
    )


_ADJECTIVE_ENDINGS: Final = (
    "sche", "isch", "se", "talig", "talige", "aans", "iër", "iërs", "ezen", "anen", "ese",
    "lijk", "lijke", "ieke", "ige",
)  # fmt: skip
"""Capitalised adjectives and demonyms ("Gentse", "Marokkaanse", "Syriërs", "Geestelijke"),
not names."""
_COMMON_WORDS: Final = lex.COMMON_WORDS | {cue[0] for cue in lex.NAME_CUES if len(cue) == 1}
"""Cue words ("Mevrouw", "Dokter") are ordinary words too: never part of the name they cue."""


class _WordClass(NamedTuple):
    key: str
    """Lower case, possessive 's removed: the form looked up in the lists."""
    cap: bool
    """Written like a name: capital first letter, no capitals further on (not an acronym)."""
    upper: bool
    """All capitals, at least three letters: an acronym, or a name typed in capitals."""
    info: _WordInfo
    cue: str | None
    """What kind of nearby number or date this word announces, if any (``_CUE_KINDS``)."""


@lru_cache(maxsize=32768)
def _classify(word: str) -> _WordClass:
    # Cached per spelling: one dictionary lookup per token on the hot path.
    key, cap, upper = _shape(word)
    return _WordClass(key, cap, upper, _word_info(key), _CUE_KINDS.get(key))


@dataclass(slots=True)
class _Token:
    start: int
    end: int
    key: str
    cap: bool
    upper: bool
    sentence_start: bool
    """Only worked out for capitalised tokens; False for the others."""
    info: _WordInfo
    allowed: bool
    """Protected, or part of a protected phrase ("Huis van het Kind")."""

    @property
    def listed(self) -> bool:
        return self.info.first_name or self.info.surname

    @property
    def common(self) -> bool:
        return self.info.common


class _Tokens(NamedTuple):
    tokens: list[_Token]
    cues: dict[str, list[_Token]]


def _tokenize(text: str) -> _Tokens:
    tokens: list[_Token] = []
    cues: dict[str, list[_Token]] = {}
    append = tokens.append
    for m in _TOKEN_RE.finditer(text):
        # Unpacked once: attribute reads of named tuples are a good part of this loop's cost.
        key, cap, upper, info, cue = _classify(m.group())
        start, end = m.span()
        token = _Token(
            start, end, key, cap, upper,
            (cap or upper) and _starts_sentence(text, start),
            info, info.protected,
        )  # fmt: skip
        append(token)
        if cue is not None:
            cues.setdefault(cue, []).append(token)
    _mark_allowed_phrases(tokens)
    return _Tokens(tokens, cues)


def _carry_tokens(out: str, tokens: list[_Token], spans: list[_Finding]) -> _Tokens | None:
    """The tokens of the scrubbed text ``out``, made from those of the original by moving
    them in place (they are not used again): equal to ``_tokenize(out)`` at a fraction of the
    cost. None when a finding cut through a token."""
    kept: list[_Token] = []
    cues: dict[str, list[_Token]] = {}
    shift = 0
    i = 0
    n = len(spans)
    after_placeholder = False
    for t in tokens:
        while i < n and spans[i].end <= t.start:
            span = spans[i]
            shift += len(PLACEHOLDERS[span.kind]) - (span.end - span.start)
            after_placeholder = True
            i += 1
        if i < n and spans[i].start < t.end:
            if t.start < spans[i].start or t.end > spans[i].end:
                return None
            continue  # replaced by the placeholder
        t.start += shift
        t.end += shift
        if after_placeholder:
            # What precedes this token changed: only here can a sentence start change.
            t.sentence_start = (t.cap or t.upper) and _starts_sentence(out, t.start)
            after_placeholder = False
        t.allowed = t.info.protected
        kept.append(t)
        cue = _CUE_KINDS.get(t.key)
        if cue is not None:
            cues.setdefault(cue, []).append(t)
    _mark_allowed_phrases(kept)
    return _Tokens(kept, cues)


def _shape(word: str) -> tuple[str, bool, bool]:
    """Lookup key, written-like-a-name, all-capitals."""
    key = word.lower()
    if key.endswith(("'s", "’s")):
        key = key[:-2]
        word = word[:-2]
    elided = len(word) > 2 and key[:2] in _ELISIONS
    if not (word[:1].isupper() or elided):
        return key, False, False
    # "d'Hondt", "l'Olivier": the capital comes after the elision.
    core = word[2:] if elided else word
    parts = _PART_SPLIT_RE.split(core)
    upper = len(core) >= 3 and core.isupper()
    cap = (
        not upper
        and parts[0][:1].isupper()
        and parts[-1][:1].isupper()  # "Bancontact-kaart" is a thing, "El-Amrani" a name
        and not any(c.isupper() for part in parts for c in part[1:])  # "UiTPAS", "WhatsApp"
    )
    return key, cap, upper


_ELISIONS: Final = frozenset(("d'", "d’", "l'", "l’"))
_PART_SPLIT_RE: Final = re.compile(r"[-'’]")
_OPENERS: Final = frozenset(" \t\r\u00a0\"'“”‘’«»([{*•·–—->")
_SENTENCE_ENDS: Final = frozenset(".!?:;…\n")


def _starts_sentence(text: str, pos: int) -> bool:
    """Whether a capital at ``pos`` may be there only because a sentence or line starts."""
    i = pos - 1
    while i >= 0 and text[i] in _OPENERS:
        i -= 1
    if i < 0 or "\n" in text[i + 1 : pos]:
        return True
    char = text[i]
    if char not in _SENTENCE_ENDS:
        return False
    if char == ".":
        j = i
        while j > 0 and (text[j - 1].isalpha() or text[j - 1] == "."):
            j -= 1
        before = text[j:i].replace(".", "").lower()
        # "mevr. Peeters", "bv. Gent", "J. Peeters": the full stop ends an abbreviation.
        if before in lex.ABBREVIATIONS or len(before) == 1:
            return False
    return True


def _tokens_of(phrase: Iterable[str]) -> tuple[str, ...]:
    return tuple(t.lower() for t in _TOKEN_RE.findall(" ".join(phrase)))


_ALLOWED_PHRASE_SET: Final = frozenset(_tokens_of(p) for p in lex.ALLOWED_PHRASES)
_PHRASE_INDEX: Final[dict[tuple[str, str], tuple[tuple[str, ...], ...]]] = {
    pair: tuple(sorted((p for p in _ALLOWED_PHRASE_SET if p[:2] == pair), key=len, reverse=True))
    for pair in {(p[0], p[1]) for p in _ALLOWED_PHRASE_SET}
}
"""Protected phrases by their first two words, longest first."""
_PHRASE_FIRST_WORDS: Final = frozenset(pair[0] for pair in _PHRASE_INDEX)


def _mark_allowed_phrases(tokens: list[_Token]) -> None:
    n = len(tokens)
    skip_to = 0
    for i, token in enumerate(tokens):
        if i < skip_to or i + 1 >= n or token.key not in _PHRASE_FIRST_WORDS:
            continue
        for phrase in _PHRASE_INDEX.get((token.key, tokens[i + 1].key), ()):
            window = tokens[i : i + len(phrase)]
            if tuple(t.key for t in window) == phrase:
                for t in window:
                    t.allowed = True
                skip_to = i + len(phrase)
                break


def _adjacent(text: str, left: _Token, right: _Token) -> bool:
    gap = text[left.end : right.start]
    return 0 < len(gap) <= 3 and gap.isspace()


# Words that make a nearby number worth a closer look, by what they announce.
_CUE_KINDS: Final[dict[str, str]] = {
    **dict.fromkeys(
        _split(
            "rijksregister rijksregisternummer rijksregisternr rrn insz insz-nummer insznummer "
            "insz-nr nationaal nat identificatienummer bisnummer bis-nummer"
        ),
        "national_number",
    ),
    **dict.fromkeys(
        _split(
            "tel telefoon telefoonnummer telefoonnr telnr gsm gsmnummer gsm-nummer gsmnr gsm-nr "
            "mobiel mobiele whatsapp bel gebeld bereikbaar nummer"
        ),
        "phone",
    ),
    **dict.fromkeys(
        _split("geboren geb geboortedatum geboortedag verjaardag verjaart jarig"), "birth"
    ),
    **dict.fromkeys(
        _split(
            "woont wonen woonde woonden woonachtig verblijft verblijven verhuisd verhuist "
            "verhuizen adres"
        ),
        "address",
    ),
    **dict.fromkeys(("bus", "bte"), "box"),
}


# --------------------------------------------------------------------------------------------
# E-mail
# --------------------------------------------------------------------------------------------

_EMAIL_DOMAIN_RE: Final = re.compile(r"[\w\-]+(?:\.[\w\-]+)+")
_EMAIL_LOCAL_EXTRA: Final = frozenset("!#$%&'*+/=?^_`{|}~.-")


def _emails(text: str) -> Iterator[_Finding]:
    # Scan outwards from each '@' rather than with one regex: a pattern that may start at
    # every letter is quadratic on long words, and this text is user input.
    at = text.find("@")
    while at != -1:
        start = at
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] in _EMAIL_LOCAL_EXTRA):
            start -= 1
        domain = _EMAIL_DOMAIN_RE.match(text, at + 1)
        if start < at and domain:
            yield _Finding(start, domain.end(), RedactionKind.EMAIL, _RANK_EMAIL)
            at = text.find("@", domain.end())
        else:
            at = text.find("@", at + 1)


def _spelled_at(text: str) -> bool:
    """The rarer ways to spell "@"; the common ones are tested inline in ``_detect`` because
    substring tests are far cheaper than a pattern and most signals hold no address."""
    return "{at}" in text or " AT " in text or "(a)" in text or "apenstaartje" in text


_DOT_WORDS: Final = r"(?:\s*[(\[{](?:punt|dot)[)\]}]\s*|\s+(?:punt|dot)\s+|\s?\.\s?)"
_SPELLED_EMAIL_RE: Final = re.compile(
    rf"(?i)(?<![\w.])[\w+\-]+(?:{_DOT_WORDS}[\w+\-]+)*"
    r"(?:\s*(?:[(\[{](?:at|a)[)\]}]|@)\s*|\s+(?:at|apenstaartje)\s+)"
    rf"[\w\-]+(?:{_DOT_WORDS}[\w\-]+)*{_DOT_WORDS}"
    r"(?:be|com|nl|net|org|eu|fr|de|info|biz|me|io|ma|tr|pl|ro|uk|gmail|hotmail)(?![\w])"
)
"""An address spelled out against spam filters or typed on a phone: "naam at telenet punt be",
"naam(at)gmail.com", "naam @ hotmail.be". The top-level domain must be one people here use, so
"kijk at home punt" is not an address."""


def _spelled_emails(text: str) -> Iterator[_Finding]:
    for m in _SPELLED_EMAIL_RE.finditer(text):
        yield _Finding(m.start(), m.end(), RedactionKind.EMAIL, _RANK_EMAIL)


# --------------------------------------------------------------------------------------------
# IBAN
# --------------------------------------------------------------------------------------------

_IBAN_LENGTHS: Final = {
    "AD": 24, "AL": 28, "AT": 20, "BA": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24,
    "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22,
    "GI": 23, "GL": 18, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21,
    "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MT": 31, "NL": 18,
    "NO": 15, "PL": 28, "PT": 25, "RO": 24, "RS": 22, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "TR": 26, "UA": 29, "VA": 22, "XK": 20,
}  # fmt: skip
"""Total IBAN length per country (Europe and neighbours). A known length tells where the
number ends, so a word after it is never swallowed."""

_IBAN_START_RE: Final = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{2})[ \u00a0]?([0-9]{2})(?=[ \u00a0.\-]?[A-Za-z0-9])"
)
_IBAN_MAX_LETTERS: Final = 4
"""Bank codes in a few countries are letters (NL ABNA, GB NWBK); more letters than that is a
sentence ("de 12 kinderen ..."), not an account number."""


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _ibans(text: str, runs: list[_Run]) -> Iterator[_Finding]:
    for run in runs:
        yield from _ibans_in(text, max(0, run.start - _IBAN_REACH), run.end)
        for m in _BE_ACCOUNT_RE.finditer(text, run.start, run.end):
            if int(m.group(1) + m.group(2)) % 97 in (int(m.group(3)), int(m.group(3)) % 97):
                yield _Finding(m.start(), m.end(), RedactionKind.IBAN, _RANK_IBAN)


_BE_ACCOUNT_RE: Final = re.compile(
    r"(?<![0-9])([0-9]{3})[ \u00a0.\-]([0-9]{7})[ \u00a0.\-]([0-9]{2})(?![0-9])"
)
"""The Belgian account number from before the IBAN (3-7-2 digits; the last two are the first
ten mod 97, 97 for 0). It still stands on old invoices and in people's memory, and it is the
core of the BE IBAN: the same account."""


def _ibans_in(text: str, lo: int, hi: int) -> Iterator[_Finding]:
    for m in _IBAN_START_RE.finditer(text, lo, hi):
        country = m.group(1).upper()
        length = _IBAN_LENGTHS.get(country)
        if length is None:
            continue
        end = _iban_end(text, m.end(), length - 4)
        if end is None:
            continue
        bban = "".join(c for c in text[m.end() : end] if _is_ascii_alnum(c)).upper()
        if sum(not c.isdigit() for c in bban) > _IBAN_MAX_LETTERS:
            continue
        if _iban_checksum_ok(country + m.group(2) + bban):
            yield _Finding(m.start(), end, RedactionKind.IBAN, _RANK_IBAN)


def _iban_end(text: str, pos: int, needed: int) -> int | None:
    """Where ``needed`` alphanumerics, single separators between them, end; None if not."""
    m = _IBAN_TAILS[needed].match(text, pos)
    return m.end() if m else None


_IBAN_TAILS: Final = {
    n: re.compile(rf"(?:[ \u00a0.\-]?[A-Za-z0-9]){{{n}}}(?![A-Za-z0-9]|\.[A-Za-z0-9])")
    for n in {length - 4 for length in _IBAN_LENGTHS.values()}
}


def _iban_checksum_ok(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


# --------------------------------------------------------------------------------------------
# Rijksregisternummer (national number, also INSZ)
# --------------------------------------------------------------------------------------------

_RRN_RE: Final = re.compile(
    r"(?<![0-9+])[0-9]{2}(?P<s>[ \u00a0.\-/]?)[0-9]{2}(?P=s)[0-9]{2}[ \u00a0.\-/]?[0-9]{3}"
    r"[ \u00a0.\-/]?[0-9]{2}(?![0-9])"
)
_RRN_OFFICIAL_RE: Final = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}-[0-9]{3}\.[0-9]{2}")
_RRN_LABEL_RE: Final = re.compile(
    r"(?i:rijksregister(?:nummer|nr)?|rrn|insz(?:-?nummer|-?nr)?|nationaal\s+nummer"
    r"|nat\.?\s*nr|identificatienummer|bis-?nummer)\b"
    r"[^0-9\n]{0,25}?(?<![0-9])(?P<number>[0-9](?:[ \u00a0.\-/]?[0-9]){8,12})(?![0-9])"
)


def _rrn_check_ok(digits: str) -> bool:
    """Mod-97 check of an 11-digit rijksregisternummer, for births before and from 2000."""
    first9, check = int(digits[:9]), int(digits[9:])
    return 97 - first9 % 97 == check or 97 - (2_000_000_000 + first9) % 97 == check


def _national_numbers(
    text: str, runs: list[_Run], cues: Mapping[str, list[_Token]]
) -> Iterator[_Finding]:
    for m in (m for run in runs for m in _RRN_RE.finditer(text, run.start, run.end)):
        digits = "".join(c for c in m.group() if c.isdigit())
        if _rrn_check_ok(digits):
            yield _Finding(m.start(), m.end(), RedactionKind.NATIONAL_NUMBER, _RANK_RRN)
        elif _RRN_OFFICIAL_RE.fullmatch(m.group()):
            # Written in the official YY.MM.DD-XXX.CC form: a mistyped national number.
            yield _Finding(m.start(), m.end(), RedactionKind.NATIONAL_NUMBER, _RANK_RRN_LABELLED)
    for token in cues.get("national_number", ()):
        label = _RRN_LABEL_RE.match(text, token.start)
        if label:
            yield _Finding(
                label.start("number"),
                label.end("number"),
                RedactionKind.NATIONAL_NUMBER,
                _RANK_RRN_LABELLED,
            )


# --------------------------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------------------------

_NUMBER_RUN_RE: Final = re.compile(
    r"(?<![\w+])(?:(?P<prefix>\+|00)[ \u00a0\-]?|\((?=0[1-9]))?"
    r"[0-9]+(?:(?:[ \u00a0./\-]|\)[ \u00a0]?|[ \u00a0]?\(0\)[ \u00a0]?)[0-9]+)*"
)
"""Digit groups joined by single separators, optionally after + or 00: the raw material of a
phone number. Which groups form the number is decided in Python (``_phone_spans``)."""
_DIGIT_GROUP_RE: Final = re.compile(r"\(0\)|[0-9]+")
_DATE_START_RE: Final = re.compile(r"[0-9]{1,2}([./\-])[0-9]{1,2}\1(?:19|20)[0-9]{2}")
_BELGIAN_ZONES: Final = frozenset(
    _split(
        "10 11 12 13 14 15 16 19 50 51 52 53 54 55 56 57 58 59 60 61 63 64 65 67 68 69 71 80 81 82 "
        "83 84 85 86 87 89"
    )
)
"""Two-digit Belgian zone codes (the one-digit ones are 2, 3, 4 and 9). Checking the zone keeps
digit runs such as "85 07 30 033 29" from passing for a landline."""
_SERVICE_PREFIXES: Final = ("0800", "070", "078", "090")
"""Free, shared-cost and premium numbers belong to services (helplines), never to a family."""
_PHONE_LABEL_RE: Final = re.compile(
    r"(?i:tel(?:efoon)?(?:nummer|nr)?|gsm(?:-?nummer|-?nr)?|mobiel(?:e)?(?:\s+nummer)?"
    r"|whatsapp|bel(?:\s+naar|\s+op)?|gebeld\s+op|bereikbaar\s+op|nummer)\b\.?[ \t:\-]*"
    r"(?P<number>\+?[0-9](?:[ \u00a0./\-]?[0-9]){6,14})(?![0-9])"
)


_CODE_BEFORE_RE: Final = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,4}[0-9]+[ \u00a0.\-]\Z")


def _phones(text: str, runs: list[_Run], cues: Mapping[str, list[_Token]]) -> Iterator[_Finding]:
    for run in runs:
        for m in _NUMBER_RUN_RE.finditer(text, max(0, run.start - 3), run.end):
            if _CODE_BEFORE_RE.search(text, max(0, m.start() - 8), m.start()):
                continue  # "BE94 0010 0000 0076": the tail of an account or reference number
            number = m.group()
            if not (m.group("prefix") or number.lstrip("(").startswith("0") or " 0" in number):
                continue  # neither international nor a national number starting with 0
            for start, end in _phone_spans(text, m):
                yield _Finding(start, end, RedactionKind.PHONE, _RANK_PHONE)
    for token in cues.get("phone", ()):
        label = _PHONE_LABEL_RE.match(text, token.start)
        if label is None:
            continue
        if "".join(c for c in label.group("number") if c.isdigit()).startswith(_SERVICE_PREFIXES):
            continue
        yield _Finding(
            label.start("number"), label.end("number"), RedactionKind.PHONE, _RANK_PHONE_LABELLED
        )


def _phone_spans(text: str, run: re.Match[str]) -> Iterator[tuple[int, int]]:
    groups = list(_DIGIT_GROUP_RE.finditer(text, run.start(), run.end()))
    if run.group("prefix"):
        end = _international_end(groups)
        if end is not None:
            yield run.start(), end
        return
    i = 0
    phone_end = 0
    while i < len(groups):
        first = groups[i]
        # A number starts at the run's start or after white space, never after the "." or "/"
        # inside a date ("03.05.2015 0471 ...").
        starts_here = i == 0 or text[first.start() - 1] in " \u00a0"
        last = _national_last_group(text, groups, i) if starts_here else None
        if last is None:
            i += 1
            continue
        if (last + 1 < len(groups) and _national_last_group(text, groups, last + 1) is None) or (
            i > phone_end
            and len(groups[i - 1].group()) <= 3
            and first.start() - groups[i - 1].end() == 1
        ):
            # More digits around it that are no phone number of their own: one longer number
            # ("10 02 10 001 00", an invoice or a national number with a typo).
            i = len(groups)
            continue
        phone_end = last + 1
        start = first.start()
        if text[start - 1 : start] == "(" and text[first.end() : first.end() + 1] == ")":
            # "(0471) 23 45 67": the brackets go too
            start -= 1
        yield start, groups[last].end()
        i = last + 1


def _national_last_group(text: str, groups: list[re.Match[str]], i: int) -> int | None:
    head = groups[i].group()
    if not head.startswith("0") or head.startswith("00") or head == "(0)":
        return None
    if _DATE_START_RE.match(text, groups[i].start()):
        return None
    digits = ""
    best: int | None = None
    for j in range(i, len(groups)):
        group = groups[j].group()
        if group == "(0)" or (j > i and len(group) < 2):
            break
        digits += group
        if len(digits) > 10:
            break
        zone_ok = digits[1:2] in ("2", "3", "4", "9") or digits[1:3] in _BELGIAN_ZONES
        # 0 + zone + subscriber; a subscriber number never starts with 0
        zone_len = 1 if digits[1:2] in ("2", "3", "4", "9") else 2
        landline = (
            len(digits) == 9
            and zone_ok
            and digits[1 + zone_len] != "0"
            and len(head) >= 1 + zone_len  # "01 01 001 00" splits the zone: no phone
        )
        mobile = len(digits) == 10 and digits[:2] in ("04", "06")  # BE 04xx, NL 06
        if (landline or mobile) and not digits.startswith(_SERVICE_PREFIXES):
            best = j
    return best


def _international_end(groups: list[re.Match[str]]) -> int | None:
    digits = ""
    best: int | None = None
    counted = 0
    for m in groups:
        group = m.group()
        if group == "(0)":
            continue
        counted += 1
        # Country code and the first group may be short ("+33 6 12 ..."); later groups not.
        if counted > 2 and len(group) < 2:
            break
        digits += group
        if len(digits) > 15:  # E.164 maximum
            break
        if digits.startswith("00"):
            digits = digits[2:]  # the prefix "0032" is read as one group
        if digits.startswith("0"):
            return None  # no country code starts with 0: "BE57 0000 0000 0097" is no phone
        if digits.startswith("32"):
            rest = digits[2:].removeprefix("0")  # "+32 0471 ..." is a common slip
            ok = (len(rest) == 9 and rest[0] == "4") or (len(rest) == 8 and rest[0] != "0")
        else:
            ok = len(digits) >= 8
        if ok:
            best = m.end()
    return best


# --------------------------------------------------------------------------------------------
# Birth dates
# --------------------------------------------------------------------------------------------

_MONTHS: Final = (
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
    "|jan|feb|febr|mrt|apr|jun|jul|aug|sep|sept|okt|nov|dec"
)
_NUMERIC_DATE_RE: Final = re.compile(
    r"(?<![0-9])(?:"
    r"(?P<a>[0-9]{1,2})(?P<sep>[./\-])(?P<b>[0-9]{1,2})(?P=sep)(?:19|20)[0-9]{2}"
    r"|(?:19|20)[0-9]{2}-(?P<b2>[0-9]{1,2})-(?P<a2>[0-9]{1,2})"  # ISO 8601
    r")(?![0-9]|[./\-][0-9])"
)
_BIRTH_DATE_AFTER_CUE_RE: Final = re.compile(
    r"[^0-9\n]{0,30}?(?<![0-9])"
    r"(?P<date>(?:19|20)[0-9]{2}-[0-9]{1,2}-[0-9]{1,2}"  # ISO 8601
    r"|[0-9]{1,2}[./\-][0-9]{1,2}(?:[./\-](?:[0-9]{4}|[0-9]{2}))?"
    rf"|[0-9]{{1,2}}(?:ste|de|e)?\s+(?i:{_MONTHS})\b(?:\.?\s+[0-9]{{4}})?"
    rf"|(?i:{_MONTHS})\b\.?\s+[0-9]{{4}})"
    r"(?![0-9])"
)
"""A date within a few words after a birth cue: "geboren op 3 mei 2015", "° 03/05/15",
"geb. 3/5". A year alone ("geboren in 2015") stays: it says no more than an age."""


def _plausible_day_month(a: str, b: str) -> bool:
    day, month = int(a), int(b)
    return (1 <= day <= 31 and 1 <= month <= 12) or (1 <= month <= 31 and 1 <= day <= 12)


_WORD_BEFORE_RE: Final = re.compile(rf"({_LETTER}+)\.?[\s,:]*\Z")
_EVENT_DATE_WORDS: Final = frozenset(
    _split(
        "sinds vanaf tot tem tegen op voor vóór na tussen en datum dd deadline vervaldag "
        "vervaldatum uiterlijk gepland afspraak maandag dinsdag woensdag donderdag vrijdag "
        "zaterdag zondag ma di wo do vr za zo"
    )
)
"""Words that make a date the day something happens ("sinds 01/09/2024", "vanaf 2025-09-01",
"afspraak op 12/03/2025"): a steering group needs those, and they identify no one. A birth
cue still wins ("geboren op 03/05/2015")."""


def _dates_an_event(text: str, start: int) -> bool:
    m = _WORD_BEFORE_RE.search(text, max(0, start - 20), start)
    return m is not None and m.group(1).lower() in _EVENT_DATE_WORDS


def _birth_dates(
    text: str, runs: list[_Run], cues: Mapping[str, list[_Token]]
) -> Iterator[_Finding]:
    # A full numeric date with a year goes even without a cue (see the module docstring).
    dated = (run for run in runs if run.digits >= _MIN_DIGITS_DATE)
    for m in (m for run in dated for m in _NUMERIC_DATE_RE.finditer(text, run.start, run.end)):
        a, b = (m.group("a"), m.group("b")) if m.group("a") else (m.group("a2"), m.group("b2"))
        if _plausible_day_month(a, b) and not _dates_an_event(text, m.start()):
            yield _Finding(m.start(), m.end(), RedactionKind.BIRTH_DATE, _RANK_BIRTH_DATE)
    cue_ends = [token.end for token in cues.get("birth", ())]
    at = text.find("°")
    while at != -1:
        cue_ends.append(at + 1)
        at = text.find("°", at + 1)
    for end in cue_ends:
        cued = _BIRTH_DATE_AFTER_CUE_RE.match(text, end)
        if cued:
            yield _Finding(
                cued.start("date"), cued.end("date"), RedactionKind.BIRTH_DATE, _RANK_BIRTH_DATE
            )


# --------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------

_HOUSE_NUMBER: Final = (
    r"(?:\s*,\s*|\s+)(?:nr\.?\s*|n°\s*|nummer\s+)?[1-9][0-9]{0,3}"
    rf"(?:\s?[A-Za-z](?!{_LETTER}|\s?[0-9]))?"  # 12A, 12 b; "12 b 4" is a box
    r"(?:\s?-\s?[0-9]{1,4}[A-Za-z]?(?![0-9]))?"  # 12-14
    r"(?P<box>\s*,?\s*(?:bus|bte|bt\.?|b\.|b(?=\s?[0-9]))\s*[0-9]{1,4}[A-Za-z]?|\s?/\s?[0-9]{1,4}[A-Za-z]?)?"
    r"(?![0-9]|[.,:][0-9]|\s?%|\s?€)"
    # "..., 9000 Gent": the town after a street belongs to the address.
    rf"(?P<town>\s*,?\s*(?:B-?\s?)?[1-9][0-9]{{3}}\s+{_CAP_WORD})?"
)
_HOUSE_NUMBER_RE: Final = re.compile(_HOUSE_NUMBER)
_CUED_ADDRESS_RE: Final = re.compile(
    rf"{_LETTER}+[^\n.!?0-9]{{0,40}}?(?P<street>{_CAP_WORD}(?:\s+{_CAP_WORD}){{0,2}})"
    rf"{_HOUSE_NUMBER}"
)
"""No street word, but a living cue: "woont op de Meir 12"."""
_BOX_ADDRESS_RE: Final = re.compile(
    rf"(?P<street>{_CAP_WORD}(?:\s+{_CAP_WORD}){{0,2}})\s+[1-9][0-9]{{0,3}}[A-Za-z]?"
    r"\s*,?\s*(?:bus|bte)\s*[0-9]{1,4}[A-Za-z]?(?![0-9])"
)
"""No street word, but a box number, which only addresses have: "Meir 12 bus 3"."""
_POSTCODE_DIGITS_RE: Final = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{3}(?![0-9])")
_POSTCODE_RE: Final = re.compile(
    rf"[1-9][0-9]{{3}}\s+(?P<town>(?:(?:De|La|Le|Sint)\s+)?{_CAP_WORD})(?!{_LETTER})"
)
_DIGIT_BEFORE_RE: Final = re.compile(r"[0-9][ \u00a0./\-]\Z")
"""A postcode never continues another number ("7034" in "... 0754 7034 Gent")."""
_POSTCODE_PREFIX_RE: Final = re.compile(r"(?<![A-Za-z])B-?\s?\Z")
_NEXT_WORD_RE: Final = re.compile(rf"\s+({_LETTER}+(?:'s)?)")
_SUFFIX_WORDS: Final = frozenset(lex.STREET_SUFFIXES)
_FRENCH_HEADS: Final = frozenset(h.lower().rstrip(".") for h in lex.FRENCH_STREET_HEADS)
_FRENCH_PARTICLES: Final = frozenset(("de", "du", "des", "la", "le"))
_STREET_PARTICLES: Final = frozenset(("van", "de", "der", "den", "ter", "ten"))


def _addresses(
    text: str, tokens: list[_Token], runs: list[_Run], cues: Mapping[str, list[_Token]]
) -> Iterator[_Finding]:
    for first, last in _streets(text, tokens):
        end = tokens[last].end
        if text.startswith(".", end):  # "Kerkstr. 12"
            end += 1
        m = _HOUSE_NUMBER_RE.match(text, end)
        if m is None or _is_count(text, m):
            continue
        yield _Finding(tokens[first].start, m.end(), RedactionKind.ADDRESS, _RANK_ADDRESS)
    for token in cues.get("address", ()):
        m = _CUED_ADDRESS_RE.match(text, token.start)
        if m and not _is_count(text, m):
            yield _Finding(m.start("street"), m.end(), RedactionKind.ADDRESS, _RANK_ADDRESS)
    for token in cues.get("box", ()):
        box = _BOX_ADDRESS_RE.search(text, max(0, token.start - 100))
        if box and box.start() <= token.start < box.end():
            yield _Finding(box.start("street"), box.end(), RedactionKind.ADDRESS, _RANK_ADDRESS)
    for run in runs:
        if run.digits < 4:
            continue
        for code in _POSTCODE_DIGITS_RE.finditer(text, run.start, run.end):
            m = _POSTCODE_RE.match(text, code.start())
            if m is None or _DIGIT_BEFORE_RE.search(text, max(0, code.start() - 2), code.start()):
                continue
            town = m.group("town").lower()
            if town in lex.PLACES or tuple(town.split()) in _ALLOWED_PHRASE_SET:
                prefix = _POSTCODE_PREFIX_RE.search(text, max(0, m.start() - 3), m.start())
                start = prefix.start() if prefix else m.start()
                yield _Finding(start, m.end(), RedactionKind.ADDRESS, _RANK_ADDRESS)


def _is_count(text: str, number: re.Match[str]) -> bool:
    """ "in de Kerkstraat 12 gezinnen": the number counts something, it is no house number."""
    if number.group("box") or number.group("town"):
        return False
    m = _NEXT_WORD_RE.match(text, number.end())
    return bool(m and m.group(1).lower() in lex.COUNT_NOUNS)


def _streets(text: str, tokens: list[_Token]) -> Iterator[tuple[int, int]]:
    """Token ranges that name a street, house number not yet checked."""
    for i, token in enumerate(tokens):
        info = token.info
        if info.street_strong or (token.cap and info.street):
            # "Kerkstraat", "Sint-Pietersnieuwstraat", "kerkstraat"
            yield _street_prefix_start(text, tokens, i), i
        elif token.cap and token.key in _FRENCH_HEADS:
            # "Rue de la Loi", "Avenue Louise", "Chaussée de Gand", "Boulevard Anspach"
            last = _french_street_end(text, tokens, i)
            if last is not None:
                yield i, last
        elif (
            token.cap
            and token.key in _SUFFIX_WORDS
            and i > 0
            and tokens[i - 1].cap
            and _adjacent(text, tokens[i - 1], token)
        ):
            # "Vlaamse Kaai", "Grote Markt": the street word on its own.
            yield _street_prefix_start(text, tokens, i - 1), i


def _street_prefix_start(text: str, tokens: list[_Token], i: int) -> int:
    """Include words before the street word that belong to it ("Oude Houtlei",
    "Frans Van Cauwelaertlaan", "Jan van Eyckplein"), at most three."""
    first = i
    k = i
    while k > 0 and i - k < 3:
        prev = tokens[k - 1]
        if not _adjacent(text, prev, tokens[k]):
            break
        if prev.key in lex.STREET_PREFIX_WORDS or (
            prev.cap
            and not prev.common
            and (not prev.allowed or prev.listed or prev.key in lex.NAMES_ALSO_WORDS)
        ):
            first = k = k - 1
        elif prev.key in _STREET_PARTICLES:
            # "Frans Van Cauwelaertlaan", "Jan van Eyckplein": kept only if a word precedes.
            k -= 1
        else:
            break
    return first


def _french_street_end(text: str, tokens: list[_Token], i: int) -> int | None:
    k = i + 1
    while k < len(tokens) and tokens[k].key in _FRENCH_PARTICLES:
        k += 1
    last = None
    while (
        k < len(tokens)
        and k - i <= 6
        and tokens[k].cap
        and not text[tokens[k - 1].end : tokens[k].start].strip(" .'’")
    ):
        last = k
        k += 1
    return last


# --------------------------------------------------------------------------------------------
# Person names
# --------------------------------------------------------------------------------------------

_CAPITAL_PARTICLES: Final = frozenset(
    _split("van vanden vander vande de den el al ben bin ibn abu abou bou ait ter ten op")
)
_ARTICLES: Final = frozenset(_split("de het 't den een"))
_PLACE_PREPOSITIONS: Final = frozenset(
    _split(
        "in uit naar te nabij richting rond omgeving regio deelgemeente gemeente stad provincie "
        "land wijk buurt"
    )
)
"""An unknown capitalised word after these is a place ("in Oostduinkerke"); names after them
are still caught when they are on the name lists."""
_ORG_HEADS: Final = frozenset(
    _split(
        "vzw school basisschool kleuterschool team project dienst centrum huis club jeugdhuis "
        "kinderopvang crèche creche speelplein bibliotheek zwembad sporthal campus atheneum "
        "college instituut moskee kerk wijkcentrum buurtcentrum restaurant winkel café cafe "
        "vereniging organisatie programma app platform website site radio tv krant zender "
        "werking groep netwerk firma bedrijf"
    )
)
"""A capitalised word right after these is the organisation's name ("jeugdhuis Kompas")."""
_CUE_INDEX: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    last: tuple(cue for cue in lex.NAME_CUES if cue[-1] == last)
    for last in {cue[-1] for cue in lex.NAME_CUES}
}
"""Name cues by their last word."""
_INITIAL_GAPS: Final = frozenset((". ", ".", ".\u00a0"))


def _names(text: str, tokens: list[_Token]) -> Iterator[_Finding]:
    named = [False] * len(tokens)
    for i, token in enumerate(tokens):
        if named[i]:
            continue
        if token.cap or (token.upper and token.listed):
            width = _seed_width(text, tokens, i)
        elif not token.upper and (
            token.info.lower_name
            or (
                i > 0
                and tokens[i - 1].key in _CUE_INDEX
                and (not token.info.common or token.key in lex.NAME_PARTICLES)
                and token.key not in lex.ALLOWED_WORDS
            )
        ):
            width = _lower_seed_width(text, tokens, i)
        else:
            continue
        for k in range(i, i + width):
            named[k] = True
    for first, last in _extend(text, tokens, named):
        yield _Finding(tokens[first].start, tokens[last].end, RedactionKind.NAME, _RANK_NAME)


def _seed_width(text: str, tokens: list[_Token], i: int) -> int:
    """How many tokens from ``i`` on are a name by themselves (0 if none)."""
    token = tokens[i]
    info = token.info

    # Capitalised particle(s) + capitalised word: "De Smet", "Van den Bossche", "El Amrani".
    if token.cap and token.key in _CAPITAL_PARTICLES:
        j = _particle_run(text, tokens, i)
        if j is not None:
            target = tokens[j]
            if token.key in ("de", "den") and j == i + 1:
                # "De Regenboog" is a school, "De Smet" a person: only listed surnames, or
                # after a cue ("mevrouw De Wachter").
                if (
                    target.key in lex.SURNAMES_AFTER_DE
                    or target.info.surname
                    or _after_cue(text, tokens, i)
                ):
                    return j - i + 1
            elif not (target.allowed and (token.sentence_start or target.common)):
                # "Van Damme" is a name though Damme is a town; "Van Gent naar ..." opening a
                # sentence is not.
                return j - i + 1

    if _after_cue(text, tokens, i) and (
        info.listed
        or token.key in lex.NAMES_ALSO_WORDS
        # Only what is protected by name stays; a name may look like a street or an adjective
        # ("mevrouw Achterberg", "mama van Akise"). Mid-sentence a capital after a cue makes
        # even a word a name ("de mama van Elke"); after a full stop it may be the next
        # sentence ("met de mama. Elke dag ...").
        or not (
            (info.common and token.sentence_start)
            or token.key in lex.ALLOWED_WORDS
            or (token.allowed and not info.protected)
        )
        # After a title even a language or a town is a surname: "mevrouw Engels".
        or (tokens[i - 1].key in _TITLE_CUES and not token.sentence_start and not info.common)
    ):
        return 1

    if info.listed and not token.allowed:
        if not token.sentence_start:
            return 1
        if info.first_name and token.key not in lex.FIRST_NAMES_NOT_AT_SENTENCE_START:
            return 1
        if info.surname and token.key not in lex.SURNAMES_NOT_AT_SENTENCE_START:
            return 1
        # "Tim en Finn hebben ...": one of two names, not the word "tim".
        if i + 2 < len(tokens) and tokens[i + 1].key in ("en", "of"):
            other = tokens[i + 2]
            if other.cap and other.listed and not other.allowed:
                return 1
        return 0

    # An unknown capitalised word mid-sentence: in Dutch that is a proper noun, and the proper
    # nouns that are not people (places, services, brands) are on the allow-lists.
    if (
        token.cap
        and not token.sentence_start
        and not token.allowed
        and not info.common
        and len(token.key) >= 2
        and not (i > 0 and _names_a_thing_or_place(text, tokens[i - 1], token))
        and not (i > 0 and _in_a_title(text, tokens, i))
    ):
        return 1
    return 0


_TITLE_CUES: Final = frozenset(
    _split("mevrouw mevr mw mme madame meneer mijnheer menheer mr dhr monsieur heer juf juffrouw")
)


def _lower_seed_width(text: str, tokens: list[_Token], i: int) -> int:
    """A name typed without capitals: right after a cue ("mama van ayoub", "juf sarah",
    "meneer de backer"), or a listed name that is no Dutch word ("ayoub kan niet mee")."""
    token = tokens[i]
    if token.key in lex.NAME_PARTICLES:
        # The cheap checks first: "van de" follows half the cues and is rarely a name.
        j = i
        while j < len(tokens) and j - i < 3 and tokens[j].key in lex.NAME_PARTICLES:
            j += 1
        if (
            j < len(tokens)
            and not (tokens[j].cap or tokens[j].upper)
            and (tokens[j].key in lex.SURNAMES_AFTER_DE or _lower_name_after_cue(tokens[j]))
            and _adjacent(text, tokens[j - 1], tokens[j])
            and _after_cue(text, tokens, i)
        ):
            return j - i + 1
        return 0
    if token.info.lower_name:
        return 1
    return 1 if _lower_name_after_cue(token) and _after_cue(text, tokens, i) else 0


def _lower_name_after_cue(token: _Token) -> bool:
    key = token.key
    if key in lex.ALLOWED_WORDS or key in _COMMON_WORDS or key in _CUE_INDEX or len(key) < 2:
        return False
    return (
        token.info.listed
        or key in lex.NAMES_ALSO_WORDS
        or key in lex.FIRST_NAMES_NOT_AT_SENTENCE_START  # "juf roos", "meester toon"
        or key in lex.LOWERCASE_NAME_WORDS
        or not _is_dutch_word(key)
    )


def _in_a_title(text: str, tokens: list[_Token], i: int) -> bool:
    """ "het Eerste Leerjaar", "Pedagogische Studiedag": after a capitalised ordinary word
    mid-sentence, an unknown capitalised word is part of a title, not a person. A cue word
    ("Dokter Noori") and a sentence opener ("Gisteren Zarqa belde") do not count, nor does a
    word that only looks like an adjective without an article before it ("met Héloïse
    Verstappen", but "de Gentse Feesten")."""
    prev, token = tokens[i - 1], tokens[i]
    if _shaped_like_a_thing(prev) and not (i > 1 and tokens[i - 2].key in _ARTICLES):
        return False
    if prev.key in lex.TITLE_ADJECTIVES:  # "Oude Dokken", "Heilig Hart", even opening
        return prev.cap and _adjacent(text, prev, token)
    return (
        prev.cap
        and not prev.sentence_start
        and (prev.common or prev.allowed)
        and (prev.key,) not in lex.NAME_CUES
        and _adjacent(text, prev, token)
    )


def _names_a_thing_or_place(text: str, prev: _Token, token: _Token) -> bool:
    """ "de Regenboog", "in Oostduinkerke", "jeugdhuis Kompas"."""
    return _adjacent(text, prev, token) and (
        prev.key in _ARTICLES
        or prev.key in _PLACE_PREPOSITIONS
        or prev.key in _ORG_HEADS
        or prev.info.org
    )


def _after_cue(text: str, tokens: list[_Token], i: int) -> bool:
    if i == 0:
        return False
    prev = tokens[i - 1]
    cues = _CUE_INDEX.get(prev.key)
    if cues is None:
        return False
    gap = text[prev.end : tokens[i].start]
    if len(gap) > 3 or gap.strip(" .,:\u00a0"):
        return False
    return any(
        i >= len(cue)
        and tuple(t.key for t in tokens[i - len(cue) : i]) == cue
        # "de kleine Yusuf" is a cue, "De Kleine Wereld" the name of a crèche
        and not (len(cue) > 1 and prev.cap and tokens[i].cap)
        for cue in cues
    )


def _extend(text: str, tokens: list[_Token], named: list[bool]) -> Iterator[tuple[int, int]]:
    """Grow each run of name tokens over the rest of the name; yield (first, last) indexes."""
    i = 0
    while i < len(tokens):
        if not named[i]:
            i += 1
            continue
        first = last = i
        while (
            last + 1 < len(tokens)
            and named[last + 1]
            and _adjacent(text, tokens[last], tokens[last + 1])
        ):
            last += 1
        first = _extend_left(text, tokens, named, first)
        last = _extend_right(text, tokens, last)
        yield first, last
        i = last + 1


def _extend_left(text: str, tokens: list[_Token], named: list[bool], first: int) -> int:
    # A capitalised word just before the name is its first part ("Zarqa Noori"), unless it
    # is an ordinary word or a protected proper noun; so is an initial ("J. Peeters").
    while first > 0:
        left = tokens[first - 1]
        gap = text[left.end : tokens[first].start]
        if left.cap and len(left.key) == 1 and gap in _INITIAL_GAPS:
            first -= 1
            continue
        if not (left.cap and _adjacent(text, left, tokens[first])):
            break
        if left.allowed or left.common or named[first - 1] or left.key in _CAPITAL_PARTICLES:
            k = first - 1
            if not (_shaped_like_a_thing(left) and not (k > 0 and tokens[k - 1].key in _ARTICLES)):
                break
        first -= 1
    return first


def _shaped_like_a_thing(token: _Token) -> bool:
    """Protected only because it ends like an adjective, street or organisation, not by a list:
    "Héloïse", "Alphonse", "Sezen" may well be first names."""
    return (
        token.info.protected
        and not token.info.common
        and not token.info.listed
        and not _named_protected(token)
        and not token.sentence_start
    )


def _extend_right(text: str, tokens: list[_Token], last: int) -> int:
    # More capitalised parts, particles followed by one ("van der Berg"), initials ("Jan P.").
    while last + 1 < len(tokens):
        nxt = tokens[last + 1]
        if not _adjacent(text, tokens[last], nxt) or nxt.sentence_start:
            break
        through = _particle_run(text, tokens, last + 1)
        if through is not None:
            last = through
        elif (nxt.cap and (len(nxt.key) == 1 or nxt.listed or not _named_protected(nxt))) or (
            nxt.upper and nxt.listed  # text in capitals: only names we know
        ):
            if (nxt.key,) in lex.NAME_CUES:
                break  # "Ayoub Mama": the next cue, not a surname
            last += 1
        else:
            break
    return last


def _named_protected(token: _Token) -> bool:
    """Protected by a list (a place, a service, a phrase), not merely by its shape: after a
    first name, "Vandenbussche" is a surname although it ends like "Gentse"."""
    return token.key in lex.ALLOWED_WORDS or (token.allowed and not token.info.protected)


def _particle_run(text: str, tokens: list[_Token], k: int) -> int | None:
    """If particles start at ``k`` and a name part follows ("van der Berg"), its index."""
    j = k
    while j < len(tokens) and j - k < 3 and tokens[j].key in lex.NAME_PARTICLES:
        if j > k and not _adjacent(text, tokens[j - 1], tokens[j]):
            return None
        j += 1
    if j == k or j >= len(tokens) or not _adjacent(text, tokens[j - 1], tokens[j]):
        return None
    target = tokens[j]
    if (target.cap or (target.upper and target.listed)) and (
        text[tokens[k].start].isupper()  # "Van Damme", "EL AMRANI": a written capital
        or not target.allowed
        or target.listed
    ):
        return j
    return None
