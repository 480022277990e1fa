"""Theme terms: the normalised lemmas a signal is compared on when themes are formed — pure.

``theme_terms(text)`` turns a scrubbed signal text into a space-separated string of content
lemmas (casefolded, accents stripped, Dutch stop words and numbers dropped). It is cheap enough
to run at ingest (the storage may keep the result next to the signal, so compiling a
region-wide bundle never lemmatises a quarter of a million texts again) and deterministic, so a
stored value and a fresh one are the same string.

Dutch compounds carry the meaning ("schooluitstap", "tandartsbezoek"). Besides the whole word,
a long word whose tail is itself a known content word also yields that tail ("uitstap",
"bezoek"), so "schooluitstap" and "uitstap naar zee" share a term.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

import simplemma

_WORD: Final = re.compile(r"[^\W\d_]{2,}")

# Function words and the filler of field notes: they say nothing about which problem a signal
# describes, and leaving them in would tie every signal to every other one.
STOP_WORDS: Final = frozenset(
    [
        "aan",
        "af",
        "al",
        "alle",
        "alleen",
        "als",
        "altijd",
        "andere",
        "ander",
        "anders",
        "bij",
        "binnen",
        "boven",
        "daar",
        "daarna",
        "dan",
        "dat",
        "de",
        "den",
        "der",
        "deze",
        "die",
        "dit",
        "doch",
        "doen",
        "door",
        "dus",
        "een",
        "eens",
        "eigen",
        "elk",
        "elke",
        "en",
        "enige",
        "er",
        "erg",
        "even",
        "ge",
        "geen",
        "geweest",
        "haar",
        "had",
        "heb",
        "hebben",
        "heeft",
        "hem",
        "het",
        "hier",
        "hij",
        "hoe",
        "hun",
        "iemand",
        "iets",
        "ik",
        "in",
        "is",
        "ja",
        "je",
        "jij",
        "jullie",
        "kan",
        "kon",
        "kunnen",
        "laat",
        "maar",
        "me",
        "meer",
        "men",
        "met",
        "mij",
        "mijn",
        "moet",
        "moeten",
        "na",
        "naar",
        "nee",
        "niet",
        "niets",
        "nog",
        "nu",
        "of",
        "om",
        "omdat",
        "onder",
        "ons",
        "onze",
        "ook",
        "op",
        "over",
        "reeds",
        "sommige",
        "te",
        "tegen",
        "toch",
        "toen",
        "tot",
        "u",
        "uit",
        "uw",
        "van",
        "veel",
        "voor",
        "vaak",
        "want",
        "waren",
        "was",
        "wat",
        "we",
        "wel",
        "welk",
        "welke",
        "werd",
        "wie",
        "wij",
        "wil",
        "worden",
        "wordt",
        "zal",
        "ze",
        "zei",
        "zelf",
        "zich",
        "zij",
        "zijn",
        "zo",
        "zoals",
        "zonder",
        "zou",
        "zullen",
        "zulke",
        "heel",
        "echt",
        "soms",
        "nooit",
        "al",
        "wanneer",
        "waar",
        "waarom",
        "hen",
        "hare",
        "hunne",
        "mekaar",
        "elkaar",
        "ieder",
        "iedereen",
        "niemand",
        "zeer",
        "ongeveer",
        "gaan",
        "ga",
        "gaat",
        "ging",
        "komen",
        "komt",
        "kwam",
        "zitten",
        "zit",
        "staan",
        "staat",
        "liggen",
        "ligt",
        "krijgen",
        "krijgt",
        "kregen",
        "maken",
        "maakt",
        "zeggen",
        "zegt",
        "zeggen",
        "weten",
        "weet",
        "zien",
        "ziet",
        "willen",
        "mogen",
        "mag",
        "hebben",
        "worden",
        "blijven",
        "lopen",
        "vinden",
        "vindt",
        "geven",
        "geeft",
        "nemen",
        "neemt",
        "houden",
        "kennen",
        "laten",
        "zullen",
        "kunnen",
        "keer",
        "dag",
        "week",
        "maand",
        "jaar",
        "paar",
        "nieuw",
        "groot",
        "klein",
        "goed",
        "veel",
        "weinig",
        "lang",
        "eerste",
        "tweede",
        "derde",
        "meeste",
        "sommigen",
        "anderen",
        "iets",
        "ding",
        "dingen",
        "manier",
        "deel",
        "ofte",
        "enkel",
        "enkele",
        "signaal",
        "signalen",
        "melden",
        "gemeld",
        "merken",
        "opgemerkt",
        "vertellen",
        "vertelt",
        "verteld",
        "euro",
        "eur",
        "procent",
        "uur",
        "minuut",
        "twee",
        "drie",
        "vier",
        "vijf",
        "zes",
        "zeven",
        "acht",
        "negen",
        "tien",
    ]
)

_MIN_PART: Final = 4
"""Shortest tail of a compound that counts as a word of its own ("pas" in "kansenpas" is not)."""


@functools.lru_cache(maxsize=16_384)
def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=200_000)
def _known(word: str) -> bool:
    return bool(simplemma.is_known(word, lang="nl"))


def _lemma(word: str) -> str:
    return _fold(simplemma.lemmatize(word, lang="nl")).replace("_", "")


@functools.lru_cache(maxsize=200_000)
def _lemmas_of(word: str) -> tuple[str, ...]:
    """Lemma of one casefolded word, plus head and tail lemmas when it is a compound."""
    lemma = _lemma(word)
    if lemma in STOP_WORDS or len(lemma) < 3:
        return ()
    out = [lemma]
    if (len(word) >= 2 * _MIN_PART and not _known(word)) or len(word) >= 2 * _MIN_PART + 2:
        # Shortest known head whose rest is a known word: "schooluitstap" -> school + uitstap,
        # "tandartsbezoeken" -> tandarts + bezoek. Both halves must be words, so "uitstellen"
        # is not split into "uits" + "tellen".
        for cut in range(_MIN_PART, len(word) - _MIN_PART + 1):
            head, tail = word[:cut], word[cut:]
            if not _known(tail) or tail in STOP_WORDS:
                continue
            if _known(head) or (head.endswith("s") and _known(head[:-1])):
                for part in (tail,):
                    part_lemma = _lemma(part)
                    if part_lemma not in STOP_WORDS and part_lemma != lemma:
                        out.append(part_lemma)
                break
    return tuple(out)


def theme_terms(text: str) -> str:
    """Space-separated content lemmas of ``text`` in order of appearance (repeats kept)."""
    terms: list[str] = []
    for word in _WORD.findall(text.casefold()):
        terms.extend(_lemmas_of(word))
    return " ".join(terms)
