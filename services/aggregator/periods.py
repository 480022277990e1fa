"""Bundle periods: months, quarters and custom lengths, aligned on January 2000.

A period of ``n`` months starts at a multiple of ``n`` months after 2000-01-01, so quarters are
calendar quarters, half years are calendar halves, and every aggregator replica computes the
same periods without talking to the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_EPOCH_YEAR = 2000
# ASCII digits only: \d would also take Arabic-Indic or Saurashtra digits, which int() reads.
_PERIOD = re.compile(
    r"^(?P<year>\d{4})(?:-(?:(?P<q>[Qq][1-4])|(?P<h>[Hh][12])|(?P<m>\d{2})))?$", re.ASCII
)

CADENCE_MONTHS = {"monthly": 1, "quarterly": 3}


@dataclass(frozen=True, slots=True, order=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def _month_index(day: date) -> int:
    return (day.year - _EPOCH_YEAR) * 12 + day.month - 1


def _month_start(index: int) -> date:
    return date(_EPOCH_YEAR + index // 12, index % 12 + 1, 1)


def period_of(index: int, months: int) -> Period:
    start = _month_start(index * months)
    end = _month_start((index + 1) * months) - timedelta(days=1)
    return Period(start, end)


def period_containing(day: date, months: int) -> Period:
    return period_of(_month_index(day) // months, months)


def last_closed_period(today: date, months: int) -> Period:
    """The most recent period that ended before ``today``."""
    return period_containing(period_containing(today, months).start - timedelta(days=1), months)


def previous_periods(period: Period, months: int, count: int) -> list[Period]:
    """The ``count`` periods before ``period``, most recent first."""
    index = _month_index(period.start) // months
    return [period_of(index - k, months) for k in range(1, count + 1)]


def parse_period(text: str) -> Period:
    """``2026-Q3``, ``2026-H1``, ``2026-07`` or ``2026`` → the period it names."""
    match = _PERIOD.match(text.strip())
    if match is None:
        raise ValueError(f"'{text}' is geen periode; gebruik bv. 2026-Q3, 2026-H1, 2026-07 of 2026")
    year = int(match["year"])
    # The period after this one must exist too (Python's dates stop at 9999).
    if not 1 <= year <= 9998:
        raise ValueError(f"'{text}': jaar {year} valt buiten het bereik 1-9998")
    if match["q"]:
        quarter = int(match["q"][1])
        return period_containing(date(year, 3 * quarter - 2, 1), 3)
    if match["h"]:
        return period_containing(date(year, 6 * int(match["h"][1]) - 5, 1), 6)
    if match["m"]:
        month = int(match["m"])
        if not 1 <= month <= 12:
            raise ValueError(f"'{text}': maand {month} bestaat niet")
        return period_containing(date(year, month, 1), 1)
    return period_containing(date(year, 1, 1), 12)
