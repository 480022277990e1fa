"""Value objects of a taxonomy: a vocabulary term and a life domain.

They validate themselves on construction, so that a domain built in code (a test, a future
admin screen) obeys the same rules as one read from the TOML file.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final, get_args

from schemas.vocabulary import GovernmentLevel

from .text import tokenize

DOMAIN_ID: Final = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
"""Same shape as ``schemas.v1.Slug``: a domain id ends up as a key of ``scores``."""

GOVERNMENT_LEVELS: Final[frozenset[str]] = frozenset(get_args(GovernmentLevel))
MAX_WEIGHT: Final = 5.0
DEFAULT_THRESHOLD: Final = 0.35


def term_key(text: str) -> tuple[str, ...]:
    """The normalised words of a vocabulary entry; two entries with the same key are one."""
    return tuple(token.norm for token in tokenize(text))


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    """The entry as written in the taxonomy, shown to people as evidence."""
    weight: float = 1.0
    compound: bool = True
    """Whether the entry also counts as part of a longer word (huur in huurachterstand).
    Off for short or ambiguous words ("huis" is in thuis, ziekenhuis, huiswerk)."""
    negatable: bool = False
    """Whether "geen"/"niet" before it cancels it. On for words that name a problem
    ("geen schulden", "niet ziek"); off for resources, whose absence *is* the problem
    ("geen internet", "geen verwarming")."""

    def __post_init__(self) -> None:
        if not term_key(self.text):
            raise ValueError(f"term {self.text!r} has no letters or digits")
        if not (math.isfinite(self.weight) and 0.0 < self.weight <= MAX_WEIGHT):
            raise ValueError(f"term {self.text!r}: weight must be in (0, {MAX_WEIGHT:g}]")


@dataclass(frozen=True, slots=True)
class Domain:
    id: str
    label: str
    """Dutch label shown to people; may change, unlike the id."""
    description: str
    levels: tuple[GovernmentLevel, ...]
    """Government levels competent for this domain (lokaal, vlaams, federaal)."""
    terms: tuple[Term, ...]
    threshold: float = DEFAULT_THRESHOLD
    """Score from which a signal is tagged with this domain."""
    cross_cutting: bool = False
    """A domain about *how* people are helped or connected (services, participation) rather
    than *what* they lack: it rarely is what a signal is mainly about, so it yields the
    primary place to a concrete need of similar strength."""

    def __post_init__(self) -> None:
        if not DOMAIN_ID.fullmatch(self.id):
            raise ValueError(
                f"domain id {self.id!r} must be lower case letters, digits and _, starting "
                "with a letter (at most 48 characters)"
            )
        where = f"domain {self.id!r}"
        if not self.label.strip():
            raise ValueError(f"{where}: label is empty")
        if not self.description.strip():
            raise ValueError(f"{where}: description is empty")
        if not self.levels:
            raise ValueError(f"{where}: needs at least one government level")
        unknown = [level for level in self.levels if level not in GOVERNMENT_LEVELS]
        if unknown:
            raise ValueError(
                f"{where}: unknown government level(s) {unknown}; use {sorted(GOVERNMENT_LEVELS)}"
            )
        if len(set(self.levels)) != len(self.levels):
            raise ValueError(f"{where}: a government level is listed twice")
        if not (math.isfinite(self.threshold) and 0.0 < self.threshold <= 1.0):
            raise ValueError(f"{where}: threshold {self.threshold} is not in (0, 1]")
        if not self.terms:
            raise ValueError(f"{where}: vocabulary is empty")
        seen: dict[tuple[str, ...], str] = {}
        for term in self.terms:
            key = term_key(term.text)
            if key in seen:
                raise ValueError(
                    f"{where}: term {term.text!r} is listed twice"
                    + ("" if seen[key] == term.text else f" (also as {seen[key]!r})")
                )
            seen[key] = term.text
