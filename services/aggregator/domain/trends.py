"""Periods and trends: is a theme new, is it rising — pure.

**Rising** uses the exact conditional binomial test for two Poisson rates (Przyborowski &
Wilenski): with ``c`` signals in the current period (``days_c`` long) and ``b`` in the baseline
(``days_b`` long), under "the rate did not change" ``c`` given ``c + b`` is
Binomial(c + b, days_c / (days_c + days_b)). One-sided p-value P(X >= c); rising when p < alpha
(default 0.05) and the current rate is higher.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from scipy.stats import binom

DEFAULT_ALPHA = 0.05


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def label(self) -> str:
        if self.start.day == 1 and (self.end + timedelta(days=1)).day == 1:
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            if months == 3 and self.start.month in (1, 4, 7, 10):
                return f"K{(self.start.month - 1) // 3 + 1} {self.start.year}"
            if months == 1:
                return f"{self.start.month:02d}/{self.start.year}"
        return f"{self.start.strftime('%d-%m-%Y')} – {self.end.strftime('%d-%m-%Y')}"


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def previous_periods(current: Period, count: int) -> list[Period]:
    """The ``count`` periods before ``current``, newest first, of the same length.

    Whole calendar months step back by months (a quarter before Q4 is Q3, whatever its days);
    any other period steps back by its number of days.
    """
    whole_months = current.start.day == 1 and (current.end + timedelta(days=1)).day == 1
    out: list[Period] = []
    end_exclusive = current.start
    if whole_months:
        months = (
            (current.end.year - current.start.year) * 12
            + current.end.month
            - current.start.month
            + 1
        )
        for step in range(1, count + 1):
            start = _add_months(current.start, -months * step)
            out.append(Period(start, end_exclusive - timedelta(days=1)))
            end_exclusive = start
    else:
        for _ in range(count):
            start = end_exclusive - timedelta(days=current.days)
            out.append(Period(start, end_exclusive - timedelta(days=1)))
            end_exclusive = start
    return out


@dataclass(frozen=True, slots=True)
class RateTest:
    p_value: float
    rate_ratio: float | None
    rising: bool


def rising_test(
    current: int, current_days: int, baseline: int, baseline_days: int, *, alpha: float
) -> RateTest:
    """One-sided exact conditional binomial test that the current rate exceeds the baseline's."""
    if baseline_days <= 0 or current == 0:
        return RateTest(1.0, None, False)
    share = current_days / (current_days + baseline_days)
    p_value = float(binom.sf(current - 1, current + baseline, share))
    ratio = (current / current_days) / (baseline / baseline_days) if baseline else None
    higher = ratio is None or ratio > 1.0
    return RateTest(p_value, ratio, higher and p_value < alpha)
