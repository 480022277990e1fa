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


HIDDEN = "verborgen"


def shown(cell: CountCellV1) -> str:
    """What a reader sees for a cell. A hidden cell reads the same whether it was small itself or
    was hidden to protect a small one: "< 5" would be false for the second kind, and telling the
    kinds apart (that one hidden cell holds at least the minimum) can pin the small one down."""
    return HIDDEN if cell.suppressed else str(cell.count)


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


@dataclass(frozen=True, slots=True)
class Margin:
    """A total the reader may know: its true count and whether it is shown."""

    count: int
    shown: bool


def protect_table(
    counts: Sequence[Sequence[int]],
    min_group_size: int,
    *,
    column_totals: Sequence[Margin],
    grand_total: Margin,
) -> tuple[list[list[bool]], list[bool]]:
    """Which cells of a linked table to hide: rows (themes or domains) by earlier periods.

    ``counts[r][p]`` is row r's count in period p; each row's sum (its baseline) is shown
    too, each period's column adds up to ``column_totals[p]`` and the baselines add up to
    ``grand_total`` (both decided by the parent table, so fixed here). A row that is never
    shown (the rest of a domain) belongs in ``counts`` all the same: the reader can derive it
    from the totals, so it must be protected like any other.

    Every line (a row with its baseline, a column with its total, the baselines with the
    grand total) is protected the way ``protect_partition`` protects one breakdown, repeated
    until no line changes: a line with a shown total hides nothing or at least two cells that
    hold at least ``min`` together (else one more cell is hidden, smallest first, or - for a
    row - its baseline); a line whose total is hidden hides at least one nonzero cell, so the
    total cannot be summed back. Line by line is the usual heuristic for linked tables, not a
    proof over all lines at once.

    Returns ``hidden[r][p]`` and ``hidden_baseline[r]``.
    """
    periods = len(column_totals)
    # Column `periods` of the grid is the row's baseline.
    grid = [[*row, sum(row)] for row in counts]
    hidden = [[0 < c < min_group_size for c in row] for row in grid]

    def fix(line: list[tuple[int, int]], total: int, total_hidden: bool) -> bool:
        """Hide one more cell of the line if it needs it; True when something changed."""
        nonzero = [(r, p) for r, p in line if grid[r][p] > 0]
        covered = [(r, p) for r, p in nonzero if hidden[r][p]]
        open_ = [(r, p) for r, p in nonzero if not hidden[r][p]]
        if total_hidden:
            safe = bool(covered) or not nonzero
        else:
            held = sum(grid[r][p] for r, p in covered)
            safe = not covered or (len(covered) >= 2 and held >= min_group_size)
        if safe or not open_:
            return False
        r, p = min(open_, key=lambda rp: (grid[rp[0]][rp[1]], rp))
        hidden[r][p] = True
        return True

    changed = True
    while changed:
        changed = False
        for r, row in enumerate(grid):
            points = [(r, p) for p in range(periods)]
            if not hidden[r][periods]:
                fixed = fix(points, row[periods], total_hidden=False)
                # Every nonzero point hidden but the line still unsafe: only hiding the
                # baseline itself protects them.
                if not fixed and _unsafe(points, grid, hidden, row[periods], min_group_size):
                    hidden[r][periods] = True
                    fixed = True
                changed |= fixed
            else:
                changed |= fix(points, row[periods], total_hidden=True)
        for p, total in enumerate(column_totals):
            changed |= fix([(r, p) for r in range(len(grid))], total.count, not total.shown)
        changed |= fix(
            [(r, periods) for r in range(len(grid))], grand_total.count, not grand_total.shown
        )
    return [row[:periods] for row in hidden], [row[periods] for row in hidden]


def _unsafe(
    line: list[tuple[int, int]],
    grid: list[list[int]],
    hidden: list[list[bool]],
    total: int,
    min_group_size: int,
) -> bool:
    covered = [grid[r][p] for r, p in line if hidden[r][p] and grid[r][p] > 0]
    return bool(covered) and (len(covered) < 2 or sum(covered) < min_group_size) and total > 0
