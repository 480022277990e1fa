"""Rendering a bundle for people: HTML, Dutch, A4-printable — pure (no files, no network).

Autoescaping is on: every string that came from a reporter (example texts, neighbourhood
names, terms) is escaped, so a signal cannot inject markup into what a steering group reads.
The page has no external resources: CSS inline, charts as inline SVG.
"""

from __future__ import annotations

from importlib import resources

import jinja2
from markupsafe import Markup

from schemas.v1 import PolicyBundleV1, ThemeV1, TrendV1
from schemas.vocabulary import LIFE_DOMAIN_LABELS, label
from services.aggregator.domain.charts import horizontal_bars, period_columns
from services.aggregator.domain.disclosure import shown
from services.aggregator.domain.escalation import LEVEL_LABELS

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("services.aggregator.domain", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_CSS = resources.files("services.aggregator.domain").joinpath("templates/bundle.css")

MAX_NEIGHBOURHOOD_BARS = 16


def show_trend(trend: TrendV1) -> str:
    words = {
        "nieuw": "nieuw",
        "stijgend": "stijgend",
        "dalend": "dalend",
        "stabiel": "stabiel",
        "onbekend": "trend niet te tonen",
    }
    text = words[trend.direction]
    if trend.direction == "stijgend" and trend.p_value is not None:
        text += (
            " (p < 0,001)"
            if trend.p_value < 0.001
            else f" (p = {trend.p_value:.3f})".replace(".", ",")
        )
    return text


def plural(count: int, one: str, many: str) -> str:
    """ "1 gemeente", "3 gemeenten"."""
    return f"{count} {one if count == 1 else many}"


_ENVIRONMENT.filters["n"] = shown
_ENVIRONMENT.filters["plural"] = plural
_ENVIRONMENT.filters["trend"] = show_trend
_ENVIRONMENT.filters["d"] = lambda day: day.strftime("%d-%m-%Y")
_ENVIRONMENT.filters["domain"] = lambda key: label(LIFE_DOMAIN_LABELS, key)
_ENVIRONMENT.filters["level"] = lambda key: LEVEL_LABELS.get(key, key)


def _themes(bundle: PolicyBundleV1) -> list[ThemeV1]:
    return [theme for section in bundle.domains for theme in section.themes]


def render_html(bundle: PolicyBundleV1) -> str:
    shown_domains = [c for c in bundle.by_domain if c.count or c.suppressed]
    neighbourhoods = [c for c in bundle.by_neighbourhood if c.count or c.suppressed]
    template = _ENVIRONMENT.get_template("bundle.html.jinja")
    return template.render(
        bundle=bundle,
        themes=_themes(bundle),
        css=Markup(_CSS.read_text(encoding="utf-8")),  # noqa: S704 - our own stylesheet
        domain_chart=horizontal_bars(shown_domains, chart_id="domeinen"),
        trend_chart=period_columns([(p.label, p.count) for p in bundle.trend], chart_id="trend"),
        neighbourhood_chart=horizontal_bars(
            neighbourhoods[:MAX_NEIGHBOURHOOD_BARS], chart_id="wijken"
        ),
    )
