"""Retention without a database: the cutoff date, and a bundle stripped of its free text."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from schemas.v1 import PolicyBundleV1
from services.aggregator.domain.retention import retention_cutoff, without_free_text

PAYLOADS = Path(__file__).resolve().parents[2] / "schemas" / "examples"


def test_the_cutoff_is_whole_calendar_months_back_and_clamps_to_short_months() -> None:
    assert retention_cutoff(date(2026, 11, 23), 24) == date(2024, 11, 23)
    assert retention_cutoff(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert retention_cutoff(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert retention_cutoff(date(2026, 1, 15), 1) == date(2025, 12, 15)


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2200, 1, 1)), st.integers(1, 240))
def test_the_cutoff_lies_the_given_number_of_months_back(today: date, months: int) -> None:
    cutoff = retention_cutoff(today, months)
    assert (today.year * 12 + today.month) - (cutoff.year * 12 + cutoff.month) == months
    assert cutoff.day <= today.day


def _bundle() -> PolicyBundleV1:
    raw = json.loads((PAYLOADS / "policy_bundle.v1.json").read_text(encoding="utf-8"))
    return PolicyBundleV1.model_validate(raw.get("data", raw))


def test_a_stripped_bundle_keeps_every_count_and_loses_every_example_and_note() -> None:
    bundle = _bundle()
    examples = [e for s in bundle.domains for t in s.themes for e in t.examples]
    assert examples, "the sample bundle must quote examples for this test to mean anything"
    stripped = without_free_text(bundle)
    assert all(not t.examples for s in stripped.domains for t in s.themes)
    assert all(p.note is None for p in stripped.previous_themes)
    text = stripped.model_dump_json()
    assert not any(example in text for example in examples)
    # Everything else is the bundle as it was.
    restored = stripped.model_copy(
        update={
            "domains": [
                s.model_copy(
                    update={
                        "themes": [
                            t.model_copy(update={"examples": o.examples})
                            for t, o in zip(s.themes, so.themes, strict=True)
                        ]
                    }
                )
                for s, so in zip(stripped.domains, bundle.domains, strict=True)
            ],
            "previous_themes": bundle.previous_themes,
        }
    )
    assert restored == bundle
