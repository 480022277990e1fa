"""Synthetic signal records for benchmarks and example bundles: themed paraphrases from
``data/themes/dev.jsonl`` with words shuffled in and out, spread over places, sources and days."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from schemas.v1 import KnowledgeType
from services.aggregator.domain.bundle import SignalRecord

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "data" / "themes" / "dev.jsonl"
MUNICIPALITIES = [f"Gemeente{n:02d}" for n in range(1, 49)] + ["Gent", "Antwerpen"]
NEIGHBOURHOODS = [
    "Rabot",
    "Dampoort",
    "Muide",
    "Ledeberg",
    "Brugse Poort",
    "Nieuw Gent",
    "Sluizeken",
]
VINDPLAATSEN = [
    "schoolpoort",
    "huisbezoek",
    "oudercafe",
    "huiswerkklas",
    "voedselbedeling",
    "ocmw_loket",
]
ROLES = [
    "brugfiguur",
    "schoolcoach",
    "opgroeicoach",
    "maatschappelijk_werker",
    "ervaringsdeskundige",
]
FILLER = [
    "gisteren",
    "vandaag",
    "opnieuw",
    "ook",
    "telkens",
    "duidelijk",
    "moeilijk",
    "blijkbaar",
    "zorgen",
    "vragen",
]


def _themes() -> list[tuple[str, list[str]]]:
    by_theme: dict[tuple[str, str], list[str]] = {}
    for line in DEV.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        by_theme.setdefault((row["domain"], row["theme"]), []).append(row["text"])
    return [(domain, texts) for (domain, _), texts in by_theme.items()]


def records(
    count: int,
    *,
    start: date,
    days: int,
    seed: int = 7,
    municipalities: list[str] | None = None,
    weights: list[float] | None = None,
) -> Iterator[SignalRecord]:
    rng = random.Random(seed)
    themes = _themes()
    places = municipalities or MUNICIPALITIES
    for _ in range(count):
        theme = (
            rng.choices(range(len(themes)), weights=weights)[0]
            if weights
            else rng.randrange(len(themes))
        )
        domain, texts = themes[theme]
        words = rng.choice(texts).split()
        if rng.random() < 0.5:
            words.insert(rng.randrange(len(words) + 1), rng.choice(FILLER))
        if rng.random() < 0.3 and len(words) > 6:
            del words[rng.randrange(len(words))]
        municipality = rng.choice(places)
        knowledge = (
            KnowledgeType.LIVED_EXPERIENCE if rng.random() < 0.3 else KnowledgeType.PROFESSIONAL
        )
        observed = start + timedelta(days=rng.randrange(days))
        yield SignalRecord(
            signal_id=uuid.UUID(int=rng.getrandbits(128)),
            municipality=municipality,
            neighbourhood=rng.choice(NEIGHBOURHOODS) if rng.random() < 0.85 else None,
            vindplaats=rng.choice(VINDPLAATSEN),
            reporter_role="ervaringsdeskundige"
            if knowledge is KnowledgeType.LIVED_EXPERIENCE
            else rng.choice(ROLES),
            organisation=f"org-{municipality.lower()}-{rng.randrange(6)}",
            knowledge_type=knowledge,
            observed_on=observed,
            received_at=datetime(observed.year, observed.month, observed.day, 12, tzinfo=UTC),
            text=" ".join(words),
            domains=(domain,),
            primary_domain=domain,
            needs_review=False,
        )
