"""The bundle for people: HTML sections, escaping, no suppressed numbers; a real A4 PDF."""

from __future__ import annotations

import io
import re
import uuid
from datetime import date

from pypdf import PdfReader

from schemas.v1 import CountCellV1, PolicyBundleV1
from services.aggregator.domain.bundle import compile_bundle
from services.aggregator.domain.charts import horizontal_bars, period_columns
from services.aggregator.domain.render import render_html
from services.aggregator.rendering import html_to_pdf
from tests.factories import NOW
from tests.unit.test_bundle import MOULD, TRIP, record, scope

SECTIONS = [
    "Samenvatting",
    "Waar gaat het over?",
    "Nieuw en stijgend",
    "Welk niveau moet dit oppakken?",
    "Thema’s per levensdomein",
    "Waar en door wie?",
    "Wat gebeurde er met de thema’s van de vorige bundel?",
    "Hoe kwam deze bundel tot stand?",
]


def bundle_with_small_groups() -> PolicyBundleV1:
    current = [record(organisation=f"o{i}", neighbourhood="Rabot") for i in range(9)]
    current += [record(MOULD, domain="wonen", organisation=f"w{i}") for i in range(7)]
    current += [record(neighbourhood="Klein <b>wijkje</b>") for _ in range(3)]
    current += [record("<script>alert(1)</script> schooluitstap te duur", organisation="x")]
    baseline = [record(observed_on=date(2026, 4, 2)) for _ in range(5)]
    return compile_bundle(scope(), current, baseline, [], compiled_at=NOW, bundle_id=uuid.uuid4())


def test_html_has_every_section_in_dutch() -> None:
    html = render_html(bundle_with_small_groups())
    for heading in SECTIONS:
        assert heading in html
    assert '<html lang="nl">' in html
    assert "<svg" in html  # charts inline
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # nothing external


def test_html_escapes_reporter_text() -> None:
    html = render_html(bundle_with_small_groups())
    assert "<script>" not in html
    assert "<b>wijkje</b>" not in html
    assert "Klein &lt;b&gt;wijkje&lt;/b&gt;" in html


def test_html_never_shows_a_suppressed_number() -> None:
    bundle = bundle_with_small_groups()
    html = render_html(bundle)
    tiny = next(c for c in bundle.by_neighbourhood if "Klein" in c.label)
    assert tiny.suppressed
    # The three-signal neighbourhood: its row in the chart says "verborgen", never its count,
    # and no hidden cell reads "< 5" (false for one hidden to protect another).
    row = re.search(r"Klein &lt;b&gt;wijkje&lt;/b&gt;</text>(.*?)</text>", html)
    assert row
    assert row.group(1).endswith(">verborgen")
    assert ">3<" not in row.group(1)
    assert "&lt; 5" not in html


def test_a_hidden_theme_count_reads_hidden_not_below_the_minimum() -> None:
    bundle = bundle_with_small_groups()
    section = next(d for d in bundle.domains if d.themes)
    theme = section.themes[0]
    assert theme.signal_count.count is not None
    assert theme.signal_count.count >= bundle.min_group_size
    hidden = theme.signal_count.model_copy(update={"count": None, "suppressed": True})
    themed = section.model_copy(
        update={"themes": [theme.model_copy(update={"signal_count": hidden})]}
    )
    bundle = bundle.model_copy(
        update={"domains": [themed if d is section else d for d in bundle.domains]}
    )
    html = render_html(bundle)
    # A theme has at least the minimum of signals: its count was hidden to protect another cell.
    card = re.search(r"<th>Signalen</th><td>([^(<]*)", html)
    assert card
    assert card.group(1).strip() == "verborgen"


def test_chart_draws_suppressed_cells_as_stubs() -> None:
    bundle = bundle_with_small_groups()
    svg = str(horizontal_bars(bundle.by_neighbourhood, chart_id="t"))
    assert svg.count("url(#h-t)") == sum(1 for c in bundle.by_neighbourhood if c.suppressed)


def test_trend_labels_that_are_date_ranges_go_on_two_lines_within_their_column() -> None:
    labels = ["22-10-2025 – 08-01-2026", "09-01-2026 – 28-03-2026", "03-09-2026 – 20-11-2026"]
    cells = [
        CountCellV1(key=str(i), label=name, count=10 + i, suppressed=False)
        for i, name in enumerate(labels)
    ]
    svg = str(period_columns(list(zip(labels, cells, strict=True)), chart_id="t", width=300))
    lines = re.findall(r"<tspan x='([\d.]+)'[^>]*>([^<]*)</tspan>", svg)
    assert [text for _, text in lines] == [
        part for name in labels for part in (name[:12], name[13:])
    ]
    # At 12 px a digit is about 7 px wide: every line fits in its 100 px column.
    assert all(len(text) * 7 < 300 / len(labels) for _, text in lines)


def test_pdf_is_a_multi_page_a4_document_with_the_title() -> None:
    bundle = bundle_with_small_groups()
    pdf = html_to_pdf(render_html(bundle))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - 595.3) < 2
        assert abs(height - 841.9) < 2
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Beleidsbundel" in text
    assert "Stuurgroep Gent" in text
    assert TRIP.split()[1] in text  # an example signal made it to paper


def test_theme_cards_count_in_the_singular_when_there_is_one() -> None:
    one_place = [record(organisation="o1", neighbourhood="Rabot") for _ in range(6)]
    bundle = compile_bundle(scope(), one_place, [], [], compiled_at=NOW, bundle_id=uuid.uuid4())
    html = render_html(bundle)
    assert "1 wijk in 1 gemeente" in html
    assert "1 organisatie, 1 rol, 1 vindplaats" in html
    assert "1 gemeenten" not in html
    spread = [
        record(organisation=f"o{i}", neighbourhood=["Rabot", "Muide"][i % 2]) for i in range(8)
    ]
    html = render_html(
        compile_bundle(scope(), spread, [], [], compiled_at=NOW, bundle_id=uuid.uuid4())
    )
    assert "2 wijken in 1 gemeente" in html
    assert "8 organisaties" in html


def test_the_summary_counts_signals_awaiting_review_only_when_the_group_is_big_enough() -> None:
    base = [record(organisation=f"o{i}") for i in range(9)]
    few = compile_bundle(
        scope(),
        base + [record("iets onduidelijks", domain=None) for _ in range(2)],
        [],
        [],
        compiled_at=NOW,
        bundle_id=uuid.uuid4(),
    )
    (sentence,) = [s for s in few.summary if "geen levensdomein" in s]
    assert sentence.startswith("Enkele signalen (aantal verborgen)")
    assert not re.search(r"\d", sentence)
    many = compile_bundle(
        scope(),
        base + [record("iets onduidelijks", domain=None) for _ in range(6)],
        [],
        [],
        compiled_at=NOW,
        bundle_id=uuid.uuid4(),
    )
    (sentence,) = [s for s in many.summary if "geen levensdomein" in s]
    assert sentence.startswith("6 signalen kregen geen levensdomein")
