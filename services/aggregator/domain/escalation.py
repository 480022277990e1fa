"""Escalation advice: which level of government a theme belongs to — pure.

From the domain's competent levels (``schemas.vocabulary.LIFE_DOMAINS``) and the theme's spread:

- a domain without local competence goes to its first competent level (``recht`` → federaal,
  ``gezin`` → Vlaanderen);
- a domain with local competence stays local while the theme stays local: one neighbourhood
  (or nearly all signals from one) → *wijk*; several neighbourhoods of one municipality →
  *gemeente*;
- when it shows up in several municipalities, it is structural: it goes to the domain's
  highest supra-local level (federaal before Vlaanderen); a purely local domain
  (``participatie``) goes to each *gemeente*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from schemas.vocabulary import LIFE_DOMAINS, GovernmentLevel

EscalationLevel = Literal["wijk", "gemeente", "vlaanderen", "federaal"]

LEVEL_LABELS: Final[dict[str, str]] = {
    "wijk": "Wijk",
    "gemeente": "Gemeente / stad",
    "vlaanderen": "Vlaanderen",
    "federaal": "Federaal",
}
_LEVEL_WORDS: Final[dict[GovernmentLevel, str]] = {
    "lokaal": "lokaal",
    "vlaams": "Vlaams",
    "federaal": "federaal",
}
_SUPRA: Final[dict[GovernmentLevel, EscalationLevel]] = {
    "federaal": "federaal",
    "vlaams": "vlaanderen",
}
CONCENTRATED: Final = 0.8
"""Share of a theme's signals from one neighbourhood above which it counts as that wijk's."""

_LEVELS = {domain.id: domain.levels for domain in LIFE_DOMAINS}
_LABELS = {domain.id: domain.label for domain in LIFE_DOMAINS}


@dataclass(frozen=True, slots=True)
class Advice:
    level: EscalationLevel
    reason: str


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def advise(
    domain: str,
    *,
    signals: int,
    neighbourhoods: int,
    municipalities: int,
    largest_neighbourhood_share: float,
) -> Advice:
    levels: tuple[GovernmentLevel, ...] = _LEVELS.get(domain, ("lokaal",))
    words = " en ".join(_LEVEL_WORDS[level] for level in levels)
    competence = f"{_LABELS.get(domain, domain)} is {words} bevoegd"
    spread = (
        f"{_plural(signals, 'signaal', 'signalen')} uit "
        f"{_plural(neighbourhoods, 'wijk', 'wijken')} in "
        f"{_plural(municipalities, 'gemeente', 'gemeenten')}"
    )
    supra = [level for level in levels if level != "lokaal"]
    if "lokaal" not in levels:
        level = _SUPRA[supra[0]]
        why = "alleen een hogere overheid kan dit oplossen"
    elif municipalities >= 2:
        if supra:
            level = "federaal" if "federaal" in supra else "vlaanderen"
            why = "het komt in meerdere gemeenten voor, dus het is structureel"
        else:
            level = "gemeente"
            why = "het komt in meerdere gemeenten voor; elke gemeente kan zelf optreden"
    elif neighbourhoods <= 1 or largest_neighbourhood_share >= CONCENTRATED:
        level = "wijk"
        why = "het speelt vooral in één wijk"
    else:
        level = "gemeente"
        why = "het speelt in meerdere wijken van de gemeente"
    return Advice(level, f"{competence}; {spread}: {why}.")
