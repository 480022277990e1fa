"""The municipalities (and their neighbourhoods) Seinpost knows — pure, shared.

One list for every service: intake checks a signal's place against it, the aggregator a
steering group's area. It lives in intake's options file (``services/intake/options.toml``,
replaced with ``SEINPOST_INTAKE_OPTIONS_FILE``), so a network edits one file. Parsing takes
the already-read TOML text; ``load_places`` is the one function that reads a file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from schemas.topics import municipality_key

OPTIONS_FILE_ENV: Final = "SEINPOST_INTAKE_OPTIONS_FILE"
DEFAULT_OPTIONS_FILE: Final = Path(__file__).resolve().parents[1] / "intake" / "options.toml"


def place_key(name: str) -> str:
    # The same normalisation as the Kafka record key, so "gent " and "Gent" are one place.
    return municipality_key(name).decode("utf-8")


@dataclass(frozen=True, slots=True)
class Municipality:
    name: str
    region: str
    aliases: tuple[str, ...] = ()
    neighbourhoods: tuple[str, ...] = ()  # empty: any neighbourhood name is accepted

    def neighbourhood(self, name: str) -> str | None:
        """The official spelling of a neighbourhood; the name itself when the list is open."""
        if not self.neighbourhoods:
            return " ".join(name.split())
        # Inner blanks too: "Brugse  Poort" typed twice-spaced is still the Brugse Poort.
        wanted = place_key(" ".join(name.split()))
        return next((n for n in self.neighbourhoods if place_key(n) == wanted), None)


@dataclass(frozen=True, slots=True)
class Places:
    municipalities: tuple[Municipality, ...]
    _by_key: dict[str, Municipality] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for municipality in self.municipalities:
            for name in (municipality.name, *municipality.aliases):
                if place_key(name) in self._by_key:
                    raise ValueError(f"municipality {name!r} appears twice in the options")
                self._by_key[place_key(name)] = municipality

    def municipality(self, name: str) -> Municipality | None:
        """The configured municipality for a name or alias, in any case; None if unknown."""
        return self._by_key.get(place_key(name))


class UnknownPlaceError(ValueError):
    """A municipality or neighbourhood that is not in the list; the message is Dutch."""


@dataclass(frozen=True, slots=True)
class Area:
    municipalities: tuple[str, ...]
    neighbourhoods: tuple[str, ...] | None


def resolve_area(
    places: Places, municipalities: Iterable[str], neighbourhoods: Iterable[str] | None
) -> Area:
    """Official names for an area (a steering group's): aliases resolve, unknown names raise.

    A neighbourhood must belong to one of the area's municipalities; a municipality without a
    closed list of neighbourhoods accepts any name.
    """
    found: list[Municipality] = []
    for name in municipalities:
        municipality = places.municipality(name)
        if municipality is None:
            raise UnknownPlaceError(
                f"onbekende gemeente: {name.strip()!r}; gebruik de officiële naam van een "
                "Vlaamse of Brusselse gemeente"
            )
        if municipality not in found:
            found.append(municipality)
    if neighbourhoods is None:
        return Area(tuple(m.name for m in found), None)
    resolved: list[str] = []
    for name in neighbourhoods:
        # A closed list's spelling wins over a municipality that takes any name.
        closed = [m for m in found if m.neighbourhoods] + [m for m in found if not m.neighbourhoods]
        official = next((n for m in closed if (n := m.neighbourhood(name)) is not None), None)
        if official is None:
            raise UnknownPlaceError(
                f"onbekende wijk: {name.strip()!r} ligt niet in {', '.join(m.name for m in found)}"
            )
        if official not in resolved:
            resolved.append(official)
    return Area(tuple(m.name for m in found), tuple(resolved))


def parse_municipalities(items: Iterable[Mapping[str, Any]]) -> tuple[Municipality, ...]:
    return tuple(
        Municipality(
            name=str(item["name"]),
            region=str(item.get("region", "")),
            aliases=tuple(str(alias) for alias in item.get("aliases", ())),
            neighbourhoods=tuple(str(n) for n in item.get("neighbourhoods", ())),
        )
        for item in items
    )


def parse_places(text: str) -> Places:
    """The places of an options TOML text; raises ``ValueError`` naming what is wrong."""
    document = tomllib.loads(text)
    try:
        return Places(parse_municipalities(document["municipalities"]))
    except KeyError as missing:
        raise ValueError(f"options: missing key {missing}") from None


def options_file() -> Path:
    """The options file in use: ``SEINPOST_INTAKE_OPTIONS_FILE`` or intake's default."""
    configured = os.environ.get(OPTIONS_FILE_ENV)
    return Path(configured) if configured else DEFAULT_OPTIONS_FILE


def load_places(path: Path | None = None) -> Places:
    return parse_places((path or options_file()).read_text(encoding="utf-8"))
