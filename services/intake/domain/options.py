"""The choices intake accepts (municipalities, neighbourhoods, pick lists) — pure.

They come from a TOML file, not from code, so a network can add a neighbourhood or a
vindplaats without a release. Parsing takes the already-read text; the app reads the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Any, Final

from schemas.v1 import TEXT_MAX_LENGTH, AgeBand, KnowledgeType, SignalSubmissionV1
from services.common.places import Municipality, parse_municipalities, place_key

__all__ = ["Choice", "IntakeOptions", "Municipality", "check_choices", "parse_options"]

Problem = tuple[str, str, str]  # (field, code, Dutch message)


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    label: str


# The municipalities are shared with the aggregator (a steering group's area): one model.
_key = place_key


@dataclass(frozen=True, slots=True)
class IntakeOptions:
    version: str
    municipalities: tuple[Municipality, ...]
    vindplaatsen: tuple[Choice, ...]
    reporter_roles: tuple[Choice, ...]
    knowledge_types: tuple[Choice, ...]
    age_bands: tuple[Choice, ...]
    family_situations: tuple[Choice, ...]
    text_max_length: int = TEXT_MAX_LENGTH
    families_count_max: int = 10_000
    _by_key: dict[str, Municipality] = field(default_factory=dict, compare=False, repr=False)
    _ids: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)
    """The ids of each pick list, made once: ``check_choices`` runs for every signal."""

    def __post_init__(self) -> None:
        for name in ("vindplaatsen", "reporter_roles", "knowledge_types", "family_situations"):
            self._ids[name] = frozenset(c.id for c in getattr(self, name))
        for municipality in self.municipalities:
            for name in (municipality.name, *municipality.aliases):
                if _key(name) in self._by_key:
                    raise ValueError(f"municipality {name!r} appears twice in the options")
                self._by_key[_key(name)] = municipality

    def municipality(self, name: str) -> Municipality | None:
        """The configured municipality for a name or alias, in any case; None if unknown."""
        return self._by_key.get(_key(name))

    def form_config(self, allowed: frozenset[str] | None = None) -> dict[str, Any]:
        """What ``GET /v1/form-config`` answers; ``allowed`` limits it to a token's area
        (municipality keys as ``schemas.topics.municipality_key``)."""
        municipalities = [
            m
            for m in self.municipalities
            if allowed is None or any(_key(n) in allowed for n in (m.name, *m.aliases))
        ]

        def choices(items: tuple[Choice, ...]) -> list[dict[str, str]]:
            return [{"id": c.id, "label": c.label} for c in items]

        return {
            "version": self.version,
            "municipalities": [
                {"name": m.name, "neighbourhoods": list(m.neighbourhoods)} for m in municipalities
            ],
            "vindplaatsen": choices(self.vindplaatsen),
            "reporter_roles": choices(self.reporter_roles),
            "knowledge_types": choices(self.knowledge_types),
            "age_bands": choices(self.age_bands),
            "family_situations": choices(self.family_situations),
            "text_max_length": self.text_max_length,
            "families_count_max": self.families_count_max,
        }


_PICK_LISTS: Final = (
    "vindplaatsen",
    "reporter_roles",
    "knowledge_types",
    "age_bands",
    "family_situations",
)


def parse_options(text: str) -> IntakeOptions:
    """Parse the options TOML; raises ``ValueError`` naming what is wrong."""
    document = tomllib.loads(text)
    try:
        lists = {
            name: tuple(Choice(str(item["id"]), str(item["label"])) for item in document[name])
            for name in _PICK_LISTS
        }
        municipalities = parse_municipalities(document["municipalities"])
        options = IntakeOptions(
            version=str(document["version"]),
            municipalities=municipalities,
            text_max_length=int(document.get("text_max_length", TEXT_MAX_LENGTH)),
            families_count_max=int(document.get("families_count_max", 10_000)),
            vindplaatsen=lists["vindplaatsen"],
            reporter_roles=lists["reporter_roles"],
            knowledge_types=lists["knowledge_types"],
            age_bands=lists["age_bands"],
            family_situations=lists["family_situations"],
        )
    except KeyError as missing:
        raise ValueError(f"intake options: missing key {missing}") from None
    known_knowledge = {k.value for k in KnowledgeType}
    if not {c.id for c in options.knowledge_types} <= known_knowledge:
        raise ValueError(f"intake options: knowledge_types must be among {sorted(known_knowledge)}")
    if not {c.id for c in options.age_bands} <= {a.value for a in AgeBand}:
        raise ValueError("intake options: age_bands must be among the contract's age bands")
    if options.text_max_length > TEXT_MAX_LENGTH:
        raise ValueError(f"intake options: text_max_length can be at most {TEXT_MAX_LENGTH}")
    return options


def check_choices(
    submission: SignalSubmissionV1, options: IntakeOptions
) -> tuple[dict[str, str], list[Problem]]:
    """Check the submission's place and codes against the options.

    Returns the canonical spellings to store (``municipality``, ``neighbourhood``), so that the
    bundles do not count "gent" and "Gent" apart, and the problems found.
    """
    problems: list[Problem] = []
    canonical: dict[str, str] = {}
    municipality = options.municipality(submission.municipality)
    if municipality is None:
        problems.append(
            (
                "municipality",
                "municipality_unknown",
                "onbekende gemeente: gebruik de officiële naam van een Vlaamse of Brusselse "
                "gemeente",
            )
        )
    else:
        canonical["municipality"] = municipality.name
        if submission.neighbourhood is not None and municipality.neighbourhoods:
            by_key = {_key(n): n for n in municipality.neighbourhoods}
            found = by_key.get(_key(submission.neighbourhood))
            if found is None:
                problems.append(
                    (
                        "neighbourhood",
                        "neighbourhood_unknown",
                        f"onbekende wijk voor {municipality.name}; kies een wijk uit de lijst",
                    )
                )
            else:
                canonical["neighbourhood"] = found
    ids = options._ids
    codes = (
        ("vindplaats", submission.vindplaats, ids["vindplaatsen"], "vindplaats_unknown"),
        (
            "reporter_role",
            submission.reporter_role,
            ids["reporter_roles"],
            "reporter_role_unknown",
        ),
    )
    for name, value, allowed, code in codes:
        if value not in allowed:
            problems.append((name, code, "onbekende code; kies een waarde uit de lijst"))
    if submission.knowledge_type.value not in ids["knowledge_types"]:
        problems.append(("knowledge_type", "knowledge_type_unknown", "onbekende soort kennis"))
    situations = ids["family_situations"]
    for index, situation in enumerate(submission.target_group.family_situations):
        if situation not in situations:
            problems.append(
                (
                    f"target_group.family_situations.{index}",
                    "family_situation_unknown",
                    "onbekende gezinssituatie; kies een waarde uit de lijst",
                )
            )
    if len(submission.text) > options.text_max_length:
        problems.append(
            ("text", "string_too_long", f"te lang: hoogstens {options.text_max_length} tekens")
        )
    if (
        submission.families_count is not None
        and submission.families_count > options.families_count_max
    ):
        problems.append(
            (
                "families_count",
                "less_than_equal",
                f"mag hoogstens {options.families_count_max} zijn",
            )
        )
    return canonical, problems
