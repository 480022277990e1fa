"""Disclosure control for every count a bundle shows — pure.

Primary suppression: a count of 1..min-1 is never shown (zero is: it reveals nobody).

Complementary suppression, for a breakdown whose cells add up to a total that is shown: the
reader knows ``hidden = total - sum(shown)``. That sum must not pin a suppressed cell down, so
after protection either nothing is hidden, or at least two cells are hidden **and** together
they hold at least ``min`` signals — then each hidden cell could be anything from 1 to
``hidden - 1`` (two cells) or more. Cells are hidden smallest first, so the fewest signals
disappear from view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schemas.v1 import CountCellV1


@dataclass(frozen=True, slots=True)
class Raw:
    """A true count before protection (never leaves the domain package)."""

    key: str
    label: str
    count: int


def cell(key: str, label: str, count: int, min_group_size: int) -> CountCellV1:
    if 0 < count < min_group_size:
        return CountCellV1(key=key, label=label, count=None, suppressed=True)
    return CountCellV1(key=key, label=label, count=count, suppressed=False)


def hidden(key: str, label: str) -> CountCellV1:
    return CountCellV1(key=key, label=label, count=None, suppressed=True)


def protect_partition(
    raws: Sequence[Raw], min_group_size: int, *, total_shown: bool = True
) -> list[CountCellV1]:
    """Cells of a breakdown whose true counts add up to a total.

    ``total_shown=False`` when the total itself is suppressed: then every nonzero cell is
    hidden, since the total is below the minimum anyway.
    """
    total = sum(raw.count for raw in raws)
    if not total_shown or 0 < total < min_group_size:
        return [
            hidden(r.key, r.label) if r.count else cell(r.key, r.label, 0, min_group_size)
            for r in raws
        ]
    hide = {i for i, raw in enumerate(raws) if 0 < raw.count < min_group_size}
    while hide:
        hidden_sum = sum(raws[i].count for i in hide)
        if len(hide) >= 2 and hidden_sum >= min_group_size:
            break
        candidates = [i for i, raw in enumerate(raws) if i not in hide and raw.count > 0]
        if not candidates:
            break  # everything nonzero is hidden: what is hidden is the (shown) total itself
        hide.add(min(candidates, key=lambda i: (raws[i].count, raws[i].key)))
    return [
        hidden(raw.key, raw.label) if i in hide else cell(raw.key, raw.label, raw.count, 1)
        for i, raw in enumerate(raws)
    ]


def hidden_is_safe(cells: Sequence[CountCellV1], total: int, min_group_size: int) -> bool:
    """The property ``protect_partition`` promises, as a reader with the total would check it."""
    shown = sum(c.count or 0 for c in cells if not c.suppressed)
    hidden_count = sum(1 for c in cells if c.suppressed)
    remainder = total - shown
    if hidden_count == 0:
        return remainder == 0
    return hidden_count >= 2 and remainder >= min_group_size
