"""Open vocabularies of the v1 contract, with their Dutch labels.

The codes are stable; labels may change. A network may add codes (additive within v1), so a
consumer that meets an unknown code shows the code itself rather than failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

GovernmentLevel = Literal["lokaal", "vlaams", "federaal"]


@dataclass(frozen=True, slots=True)
class LifeDomain:
    id: str
    label: str
    levels: tuple[GovernmentLevel, ...]


TAXONOMY_VERSION: Final = "v1"

LIFE_DOMAINS: Final[tuple[LifeDomain, ...]] = (
    LifeDomain("inkomen", "Inkomen en schulden", ("federaal", "lokaal")),
    LifeDomain("werk", "Werk en vorming", ("vlaams", "federaal")),
    LifeDomain("onderwijs", "Onderwijs", ("vlaams", "lokaal")),
    LifeDomain("wonen", "Wonen en energie", ("vlaams", "lokaal")),
    LifeDomain("gezondheid", "Gezondheid", ("federaal", "vlaams")),
    LifeDomain("gezin", "Gezin en opvoeding", ("vlaams",)),
    LifeDomain("vrije_tijd", "Vrije tijd", ("lokaal", "vlaams")),
    LifeDomain("dienstverlening", "Hulp- en dienstverlening", ("lokaal", "vlaams")),
    LifeDomain("participatie", "Participatie en netwerk", ("lokaal",)),
    LifeDomain("recht", "Rechten en justitie", ("federaal",)),
    LifeDomain("mobiliteit", "Mobiliteit", ("vlaams", "lokaal")),
    LifeDomain("digitaal", "Digitale inclusie", ("lokaal", "vlaams")),
)
LIFE_DOMAIN_LABELS: Final[dict[str, str]] = {d.id: d.label for d in LIFE_DOMAINS}

VINDPLAATSEN: Final[dict[str, str]] = {
    "schoolpoort": "Schoolpoort",
    "huisbezoek": "Huisbezoek",
    "oudercafe": "Oudercafé",
    "huiswerkklas": "Huiswerkklas",
    "jeugdhuis": "Jeugdhuis / jeugdwerking",
    "buurtrestaurant": "Buurtrestaurant",
    "voedselbedeling": "Voedselbedeling / sociale kruidenier",
    "whatsapp": "WhatsApp of telefoon",
    "ocmw_loket": "Loket OCMW / Sociaal Huis",
    "huis_van_het_kind": "Huis van het Kind / consultatiebureau",
    "klas": "In de klas",
    "straat": "Op straat / in de buurt",
    "andere": "Andere vindplaats",
}

REPORTER_ROLES: Final[dict[str, str]] = {
    "brugfiguur": "Brugfiguur",
    "schoolcoach": "Schoolcoach",
    "zorgcoordinator": "Zorgcoördinator",
    "leerkracht": "Leerkracht",
    "clb_medewerker": "CLB-medewerker",
    "jeugdwerker": "Jeugd(opbouw)werker",
    "opgroeicoach": "Opgroeicoach",
    "maatschappelijk_werker": "Maatschappelijk werker OCMW / Sociaal Huis",
    "medewerker_huis_van_het_kind": "Medewerker Huis van het Kind",
    "vrijwilliger": "Vrijwilliger",
    "ervaringsdeskundige": "Ervaringsdeskundige",
    "ouder": "Ouder / gezin",
    "coordinator": "Coördinator",
    "andere": "Andere rol",
}

FAMILY_SITUATIONS: Final[dict[str, str]] = {
    "eenoudergezin": "Eenoudergezin",
    "groot_gezin": "Groot gezin",
    "nieuwkomers": "Nieuwkomers",
    "nieuw_samengesteld": "Nieuw samengesteld gezin",
    "werkende_armen": "Werkend, maar te weinig inkomen",
    "leefloon": "Leefloon of vervangingsinkomen",
}

KNOWLEDGE_TYPE_LABELS: Final[dict[str, str]] = {
    "professionele_kennis": "Professionele kennis",
    "ervaringskennis": "Ervaringskennis",
}


def label(vocabulary: dict[str, str], code: str) -> str:
    """Dutch label of a code, or the code itself for an extension this release does not know."""
    return vocabulary.get(code, code)
