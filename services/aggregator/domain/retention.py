"""Retention, free of I/O: where the retention period ends, and a bundle without free text.

The privacy-protective reading (docs/adr or README "Guarantees"): once a period is older than
the retention period, no free text about it is kept anywhere Seinpost controls — not in the
signals, not in corrections' reasons or decisions' notes, and not in the example texts quoted
by a bundle, even a published one. Counts, themes and labels stay: they are what the steering
group decided on, and they hold no one's words.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from schemas.v1 import PolicyBundleV1

PURGED_TEXT: Final = ""
"""What a purged signal's text becomes: empty, so no later compilation mistakes a placeholder
for words and builds a theme out of it."""


def retention_cutoff(today: date, months: int) -> date:
    """The first day that is still kept: ``months`` calendar months before ``today``."""
    total = today.year * 12 + (today.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    # The 31st of a month minus a month is the last day of the shorter month.
    for day in (today.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


def without_free_text(bundle: PolicyBundleV1) -> PolicyBundleV1:
    """The same bundle with every example text and decision note removed; counts unchanged."""
    return PolicyBundleV1.model_validate(_strip(bundle.model_dump(mode="json")))


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "examples":
                out[key] = []
            elif key == "note":
                out[key] = None
            else:
                out[key] = _strip(item)
        return out
    if isinstance(value, list):
        return [_strip(item) for item in value]
    return value
