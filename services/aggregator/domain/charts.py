"""Charts for the printed bundle as inline SVG, built from counts — pure.

Hand-built rather than plotted: a bar chart is a few rectangles, and building it here keeps the
one rule that matters in reach — a suppressed cell is drawn as a hatched stub labelled
"< min", never as a bar of its true length. Every label is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from schemas.v1 import CountCellV1
from services.aggregator.domain.disclosure import shown

_FONT = "font-family='DejaVu Sans, Arial, sans-serif'"
_BAR = "#2f6f8f"
_HATCH = (
    "<defs><pattern id='{id}' width='6' height='6' patternUnits='userSpaceOnUse' "
    "patternTransform='rotate(45)'><rect width='6' height='6' fill='#eee'/>"
    "<line x1='0' y1='0' x2='0' y2='6' stroke='#999' stroke-width='2'/></pattern></defs>"
)


def horizontal_bars(cells: Sequence[CountCellV1], *, chart_id: str, width: int = 640) -> Markup:
    """One bar per cell, largest first as given; suppressed cells as hatched stubs."""
    row, label_width, value_width = 22, 230, 50
    bar_space = width - label_width - value_width
    largest = max((c.count or 0 for c in cells), default=0) or 1
    height = row * len(cells) + 6
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' {_FONT} font-size='12'>",
        _HATCH.format(id=f"h-{escape(chart_id)}"),
    ]
    for i, c in enumerate(cells):
        y = i * row + 3
        parts.append(
            f"<text x='{label_width - 6}' y='{y + 15}' text-anchor='end'>{escape(c.label)}</text>"
        )
        if c.suppressed:
            parts.append(
                f"<rect x='{label_width}' y='{y + 3}' width='18' height='14' "
                f"fill='url(#h-{escape(chart_id)})'/>"
            )
            end = label_width + 18
        else:
            length = round(bar_space * (c.count or 0) / largest)
            parts.append(
                f"<rect x='{label_width}' y='{y + 3}' width='{length}' height='14' fill='{_BAR}'/>"
            )
            end = label_width + length
        parts.append(f"<text x='{end + 5}' y='{y + 15}'>{escape(shown(c))}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated label went through escape()


def _label_lines(name: str) -> list[str]:
    start, dash, end = name.partition(" – ")
    return [f"{start} –", end] if dash else [name]


def period_columns(
    points: Sequence[tuple[str, CountCellV1]],
    *,
    chart_id: str,
    width: int = 640,
    height: int = 170,
) -> Markup:
    """Columns per period, oldest left; the last (current) column is darker."""
    # A date-range label ("03-09-2026 to 20-11-2026") is wider than its column at A4 width,
    # so such labels go on two lines under the column instead of running into each other.
    label_lines = [_label_lines(name) for name, _ in points]
    label_rows = max((len(lines) for lines in label_lines), default=1)
    bottom, top = height - 10 - 14 * label_rows, 16
    slot = width / max(len(points), 1)
    largest = max((c.count or 0 for _, c in points), default=0) or 1
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' {_FONT} font-size='12'>",
        _HATCH.format(id=f"h-{escape(chart_id)}"),
        f"<line x1='0' y1='{bottom}' x2='{width}' y2='{bottom}' stroke='#444'/>",
    ]
    for i, (_, c) in enumerate(points):
        x = i * slot + slot * 0.2
        w = slot * 0.6
        colour = "#1d4e66" if i == len(points) - 1 else "#8fb3c6"
        if c.suppressed:
            h = 12.0
            fill = f"url(#h-{escape(chart_id)})"
        else:
            h = (bottom - top) * (c.count or 0) / largest
            fill = colour
        parts.append(
            f"<rect x='{x:.1f}' y='{bottom - h:.1f}' width='{w:.1f}' height='{h:.1f}' "
            f"fill='{fill}'/>"
        )
        parts.append(
            f"<text x='{x + w / 2:.1f}' y='{bottom - h - 4:.1f}' text-anchor='middle'>"
            f"{escape(shown(c))}</text>"
        )
        first_row = bottom + 16
        parts.append(
            f"<text x='{x + w / 2:.1f}' y='{first_row}' text-anchor='middle'>"
            + "".join(
                f"<tspan x='{x + w / 2:.1f}' y='{first_row + 14 * row}'>{escape(line)}</tspan>"
                for row, line in enumerate(label_lines[i])
            )
            + "</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated label went through escape()
