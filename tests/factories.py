"""Builders for valid test events; each call gives a fresh signal_id unless one is passed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from schemas.v1 import (
    ClassificationV1,
    DomainTagV1,
    EvidenceV1,
    SignalClassifiedV1,
    SignalSubmittedV1,
)

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def submission_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "signal_id": str(uuid.uuid4()),
        "observed_on": "2026-11-18",
        "text": "Drie ouders aan de schoolpoort kunnen de schooluitstap naar zee niet betalen.",
        "municipality": "Gent",
        "neighbourhood": "Rabot",
        "vindplaats": "schoolpoort",
        "reporter_role": "brugfiguur",
        "knowledge_type": "professionele_kennis",
        "target_group": {"age_bands": ["6-11"], "family_situations": ["eenoudergezin"]},
        "families_count": 3,
        "organisation": "basisschool-de-regenboog",
    }
    body.update(overrides)
    return body


def submitted_signal(**overrides: Any) -> SignalSubmittedV1:
    body = submission_body()
    body.update(submitted_at=NOW, received_at=NOW)
    body.update(overrides)
    return SignalSubmittedV1.model_validate(body)


def classified_signal(
    signal: SignalSubmittedV1 | None = None, domains: tuple[str, ...] = ("onderwijs", "inkomen")
) -> SignalClassifiedV1:
    signal = signal or submitted_signal()
    tags = [
        DomainTagV1(
            domain=domain,
            score=round(0.9 - 0.1 * rank, 2),
            evidence=[EvidenceV1(term="schooluitstap", matched="schooluitstap", start=0, end=13)],
        )
        for rank, domain in enumerate(domains)
    ]
    return SignalClassifiedV1(
        signal=signal,
        classification=ClassificationV1(
            classifier_version="test-1",
            taxonomy_version="v1",
            domains=tags,
            scores={tag.domain: tag.score for tag in tags},
            primary_domain=tags[0].domain if tags else None,
            needs_review=not tags,
            classified_at=NOW,
        ),
    )


def observed(day: int) -> date:
    return date(2026, 11, day)
