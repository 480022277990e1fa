"""Bundle compilation: themes, trends, escalation, and the rule that no small group is shown."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.v1 import CountCellV1, KnowledgeType, PolicyBundleV1, TrendV1
from services.aggregator.domain.bundle import (
    BundleScope,
    PreviousThemeOutcome,
    SignalRecord,
    baseline_window,
    compile_bundle,
    compile_with_members,
)
from services.aggregator.domain.disclosure import (
    Margin,
    Raw,
    hidden_is_safe,
    protect_partition,
    protect_table,
)
from services.aggregator.domain.escalation import advise
from services.aggregator.domain.text import theme_terms
from services.aggregator.domain.themes import DEFAULT_THRESHOLD, group_texts, pair_scores
from services.aggregator.domain.trends import Period, previous_periods, rising_test
from tests.factories import NOW

MIN = 5
DEV = Path(__file__).resolve().parents[2] / "data" / "themes" / "dev.jsonl"
TRIP = "De schooluitstap naar zee is te duur, ouders kunnen de schooluitstap niet betalen."
MOULD = "Het huurhuis zit vol schimmel en vocht, de kinderen hoesten door de schimmel."


def record(
    text: str = TRIP,
    *,
    domain: str | None = "onderwijs",
    municipality: str = "Gent",
    neighbourhood: str | None = "Rabot",
    organisation: str = "org-a",
    observed_on: date = date(2026, 11, 3),
    knowledge: KnowledgeType = KnowledgeType.PROFESSIONAL,
    vindplaats: str = "schoolpoort",
) -> SignalRecord:
    return SignalRecord(
        signal_id=uuid.uuid4(),
        municipality=municipality,
        neighbourhood=neighbourhood,
        vindplaats=vindplaats,
        reporter_role="brugfiguur",
        organisation=organisation,
        knowledge_type=knowledge,
        observed_on=observed_on,
        received_at=NOW,
        text=text,
        domains=(domain,) if domain else (),
        primary_domain=domain,
        needs_review=domain is None,
    )


def scope(minimum: int = MIN, **changes: object) -> BundleScope:
    values: dict[str, object] = {
        "steering_group_id": "sg-gent",
        "steering_group_name": "Stuurgroep Gent",
        "municipalities": frozenset({"Gent"}),
        "neighbourhoods": None,
        "domains_of_interest": None,
        "min_group_size": minimum,
        "period_start": date(2026, 10, 1),
        "period_end": date(2026, 12, 31),
    }
    values.update(changes)
    return BundleScope(**values)  # type: ignore[arg-type]


def compile_(
    current: list[SignalRecord],
    baseline: list[SignalRecord] | None = None,
    previous: list[PreviousThemeOutcome] | None = None,
    minimum: int = MIN,
) -> PolicyBundleV1:
    return compile_bundle(
        scope(minimum),
        current,
        baseline or [],
        previous or [],
        compiled_at=NOW,
        bundle_id=uuid.uuid4(),
    )


def themes_of(bundle: PolicyBundleV1) -> list:  # type: ignore[type-arg]
    return [t for s in bundle.domains for t in s.themes]


# --- text and themes --------------------------------------------------------------------------


def test_theme_terms_are_lemmas_without_stop_words_and_split_compounds() -> None:
    terms = theme_terms("De ouders kunnen de schooluitstap niet betalen").split()
    assert "de" not in terms
    assert "niet" not in terms
    assert {"ouder", "schooluitstap", "uitstap", "betalen"} <= set(terms)


def test_paraphrases_group_and_a_different_problem_stays_apart() -> None:
    texts = [
        "De schooluitstap naar zee is te duur voor veel ouders.",
        "Ouders kunnen de schooluitstap niet betalen, de kinderen blijven thuis.",
        "Op drie scholen is de schooluitstap te duur.",
        "Het gezin heeft geen laptop voor het huiswerk op Smartschool.",
    ]
    groups = group_texts([theme_terms(t) for t in texts])
    together = next(g for g in groups if 0 in g.members)
    assert set(together.members) == {0, 1, 2}
    assert "schooluitstap" in dict(together.shared_terms)


def test_grouping_on_the_labelled_set_is_better_than_chance() -> None:
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()]
    onderwijs = [r for r in rows if r["domain"] == "onderwijs"]
    groups = group_texts([theme_terms(r["text"]) for r in onderwijs], threshold=DEFAULT_THRESHOLD)
    label = {m: n for n, g in enumerate(groups) for m in g.members}
    scores = pair_scores([label[i] for i in range(len(onderwijs))], [r["theme"] for r in onderwijs])
    assert scores.precision >= 0.7
    assert scores.recall >= 0.3


def test_large_blocks_use_rounds_and_still_find_the_themes() -> None:
    texts = [TRIP.replace("zee", f"zee {i % 7}") for i in range(60)] + [
        MOULD.replace("huurhuis", f"huurhuis {i % 5}") for i in range(60)
    ]
    groups = group_texts([theme_terms(t) for t in texts], exact_limit=20)
    big = sorted((len(g.members) for g in groups), reverse=True)
    assert big[:2] == [60, 60]


def test_pair_scores() -> None:
    scores = pair_scores(["a", "a", "b"], ["x", "x", "x"])
    assert scores.precision == 1.0
    assert round(scores.recall, 3) == round(1 / 3, 3)


# --- trends and escalation --------------------------------------------------------------------


def test_previous_quarters_follow_the_calendar() -> None:
    periods = previous_periods(Period(date(2026, 10, 1), date(2026, 12, 31)), 2)
    assert periods[0] == Period(date(2026, 7, 1), date(2026, 9, 30))
    assert periods[1] == Period(date(2026, 4, 1), date(2026, 6, 30))
    assert periods[0].label() == "K3 2026"


def test_rising_test_needs_a_real_increase() -> None:
    assert rising_test(30, 90, 30, 360, alpha=0.05).rising  # 4x the baseline rate
    assert not rising_test(9, 90, 30, 360, alpha=0.05).rising  # ~1.2x: noise
    assert not rising_test(5, 90, 40, 360, alpha=0.05).rising  # lower


def test_escalation_follows_competence_and_spread() -> None:
    wijk = advise(
        "inkomen", signals=8, neighbourhoods=1, municipalities=1, largest_neighbourhood_share=1.0
    )
    assert wijk.level == "wijk"
    federal = advise(
        "inkomen", signals=14, neighbourhoods=5, municipalities=3, largest_neighbourhood_share=0.3
    )
    assert federal.level == "federaal"
    assert "Inkomen en schulden is federaal en lokaal bevoegd" in federal.reason
    assert "14 signalen uit 5 wijken" in federal.reason
    assert (
        advise(
            "recht", signals=6, neighbourhoods=1, municipalities=1, largest_neighbourhood_share=1.0
        ).level
        == "federaal"
    )
    assert (
        advise(
            "gezin", signals=6, neighbourhoods=2, municipalities=1, largest_neighbourhood_share=0.5
        ).level
        == "vlaanderen"
    )
    assert (
        advise(
            "onderwijs",
            signals=9,
            neighbourhoods=3,
            municipalities=1,
            largest_neighbourhood_share=0.4,
        ).level
        == "gemeente"
    )


# --- the bundle -------------------------------------------------------------------------------


def test_a_theme_with_counts_sources_trend_and_advice() -> None:
    current = [
        record(organisation=f"org-{i % 4}", neighbourhood=["Rabot", "Muide"][i % 2])
        for i in range(12)
    ] + [record(MOULD, domain="wonen", organisation=f"o{i}") for i in range(6)]
    baseline = [record(observed_on=date(2026, 5, 2)) for _ in range(6)]
    bundle = compile_(current, baseline)
    trip = next(t for t in themes_of(bundle) if t.domain == "onderwijs")
    assert trip.signal_count.count == 12
    assert trip.sources.organisations == 4
    assert trip.sources.reinforced
    assert trip.neighbourhood_count == 2
    assert set(trip.neighbourhoods) == {"Rabot", "Muide"}
    assert "schooluitstap" in trip.label
    assert trip.is_rising
    assert not trip.is_new
    assert trip.trend.p_value is not None
    assert trip.trend.p_value < 0.05
    assert trip.escalation.level == "gemeente"
    assert 1 <= len(trip.examples) <= 3
    mould = next(t for t in themes_of(bundle) if t.domain == "wonen")
    assert mould.is_new
    assert mould.theme_id in bundle.new_theme_ids


def test_membership_names_the_signals_of_shown_themes_only_and_stays_out_of_the_json() -> None:
    trip = [record(organisation=f"org-{i % 3}") for i in range(7)]
    # Two small domains, so their hidden counts protect each other and the theme stays shown.
    small = [record(MOULD, domain="wonen") for _ in range(3)] + [
        record("Geen geld voor de tandarts.", domain="gezondheid") for _ in range(3)
    ]
    earlier = [record(observed_on=date(2026, 5, 2)) for _ in range(2)]
    result = compile_with_members(
        scope(), trip + small, earlier, [], compiled_at=NOW, bundle_id=uuid.uuid4()
    )
    [shown] = themes_of(result.bundle)
    # This period's signals only; the hidden small groups have no theme a reader could see.
    assert set(result.theme_members) == {shown.theme_id}
    assert set(result.theme_members[shown.theme_id]) == {r.signal_id for r in trip}
    body = result.bundle.model_dump_json()
    assert not any(str(r.signal_id) in body for r in trip + small + earlier)


def test_examples_never_repeat_nearly_the_same_text() -> None:
    copied = [
        record(f"De schooluitstap naar zee is te duur, {n} ouders kunnen de schooluitstap niet "
               "betalen.", organisation=f"org-{n}")
        for n in range(2, 8)
    ]  # fmt: skip
    other = [
        record(
            "Ouders vragen een afbetalingsplan voor de schooluitstap, de uitstap is te duur.",
            organisation="org-x",
        )
        for _ in range(2)
    ]
    bundle = compile_(copied + other)
    [theme] = themes_of(bundle)
    assert 1 <= len(theme.examples) <= 2
    assert sum("zee is te duur" in e for e in theme.examples) == 1


def test_a_returning_theme_keeps_its_id_and_shows_the_decision() -> None:
    old = PreviousThemeOutcome(
        theme_id="thema-1",
        label="schooluitstap · betalen",
        domain="onderwijs",
        terms=("schooluitstap", "uitstap", "betalen"),
        decision_status="opgelost_in_de_wijk",
        owner="Brugfiguren",
        note="Fonds voor uitstappen",
        decided_at=NOW,
    )
    gone = PreviousThemeOutcome(
        theme_id="thema-2",
        label="bril",
        domain="gezondheid",
        terms=("bril",),
        decision_status=None,
        owner=None,
        note=None,
        decided_at=None,
    )
    bundle = compile_([record(organisation=f"o{i}") for i in range(7)], previous=[old, gone])
    assert themes_of(bundle)[0].theme_id == "thema-1"
    assert not themes_of(bundle)[0].is_new
    shown = {p.theme_id: p for p in bundle.previous_themes}
    assert shown["thema-1"].decision_label == "Opgelost in de wijk"
    assert shown["thema-1"].current is not None
    assert shown["thema-1"].current.count == 7
    assert shown["thema-2"].current is None


def test_theme_ids_are_stable_without_a_previous_bundle() -> None:
    signals = [record(organisation=f"o{i}") for i in range(6)]
    first = compile_(signals)
    again = compile_(list(reversed(signals)))
    assert themes_of(first)[0].theme_id == themes_of(again)[0].theme_id


def test_signals_outside_the_scope_are_ignored() -> None:
    inside = [record() for _ in range(6)]
    outside = [record(municipality="Brugge") for _ in range(6)] + [
        record(observed_on=date(2027, 1, 5)) for _ in range(6)
    ]
    assert compile_(inside + outside).signal_count.count == 6


def test_baseline_window_is_the_four_quarters_before() -> None:
    assert baseline_window(scope()) == (date(2025, 10, 1), date(2026, 9, 30))


def test_small_theme_is_not_shown_and_its_domain_remainder_is_protected() -> None:
    current = (
        [record(organisation=f"o{i}") for i in range(9)]
        + [record(MOULD, domain="onderwijs") for _ in range(2)]  # a different, small problem
        + [record(MOULD, domain="wonen") for _ in range(8)]
    )
    bundle = compile_(current)
    onderwijs = next(s for s in bundle.domains if s.domain == "onderwijs")
    assert onderwijs.count.count == 11
    cells = [t.signal_count for t in onderwijs.themes] + [onderwijs.other]
    assert hidden_is_safe(cells, 11, MIN)
    assert all(c.count is None or c.count == 0 or c.count >= MIN for c in cells)


def all_partitions(bundle: PolicyBundleV1) -> list[tuple[list[CountCellV1], CountCellV1]]:
    """Every breakdown a reader could subtract from its total."""
    total = bundle.signal_count
    tables = [
        ([*bundle.by_domain, bundle.needs_review], total),
        (bundle.by_municipality, total),
        (bundle.by_neighbourhood, total),
        (bundle.by_vindplaats, total),
        (bundle.by_knowledge_type, total),
    ]
    for section in bundle.domains:
        if not section.details_hidden:
            tables.append(
                ([*(t.signal_count for t in section.themes), section.other], section.count)
            )
        for theme in section.themes:
            tables.append(
                ([theme.sources.professional, theme.sources.lived_experience], theme.signal_count)
            )
    return tables


TEXTS = [TRIP, MOULD, "Geen laptop voor huiswerk op Smartschool, kinderen missen opdrachten."]


@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(TEXTS),
            st.sampled_from(["onderwijs", "wonen", "inkomen", None]),
            st.sampled_from(["Rabot", "Dampoort", "Muide", None]),
            st.sampled_from(["schoolpoort", "huisbezoek", "oudercafe"]),
            st.sampled_from(list(KnowledgeType)),
            st.integers(min_value=0, max_value=5),
        ),
        max_size=60,
    ),
    st.integers(min_value=2, max_value=8),
)
def test_no_small_group_is_shown_or_recoverable_from_any_total(
    rows: list[tuple[str, str | None, str | None, str, KnowledgeType, int]], minimum: int
) -> None:
    current = [
        record(
            text, domain=domain, neighbourhood=n, vindplaats=v, knowledge=k, organisation=f"o{org}"
        )
        for text, domain, n, v, k, org in rows
    ]
    bundle = compile_(current, minimum=minimum)
    true_total = len(current)
    for cells, total_cell in all_partitions(bundle):
        for c in cells:
            assert c.count is None or c.count == 0 or c.count >= minimum
        if total_cell.suppressed:
            assert all(c.count in (0, None) for c in cells)
            continue
        # The reader knows the total: what it cannot see must be zero, or at least two cells
        # that together hold at least `minimum` signals (no hidden cell can be solved).
        assert hidden_is_safe(cells, total_cell.count or 0, minimum)
    assert bundle.signal_count.count in (None, true_total)
    for theme in themes_of(bundle):
        assert theme.signal_count.suppressed or (theme.signal_count.count or 0) >= minimum
        assert all(len(e) > 0 for e in theme.examples)


# The current quarter (offset 0) and the four before it, the scope's baseline.
QUARTER_DAYS = [
    date(2026, 11, 3),
    date(2026, 8, 3),
    date(2026, 5, 3),
    date(2026, 2, 3),
    date(2025, 11, 3),
]


def line_leaks(total: int, parts: list[CountCellV1], minimum: int) -> bool:
    """Whether a reader who knows a line's shown total learns a group below the minimum.

    The line may also hold signals no cell shows (the rest of a domain, signals without a
    domain): what the shown cells do not explain is either nothing, or at least `minimum`
    signals spread so that no hidden cell is pinned down.
    """
    remainder = total - sum(c.count or 0 for c in parts if not c.suppressed)
    hidden_cells = sum(1 for c in parts if c.suppressed)
    return (hidden_cells > 0 or remainder > 0) and remainder < minimum


def assert_trend_is_protected(trend: TrendV1, current: CountCellV1, minimum: int) -> None:
    past = [p.count for p in trend.series[:-1]]
    for c in [*past, trend.previous, trend.baseline]:
        assert c.count is None or c.count == 0 or c.count >= minimum
    if past:
        assert trend.previous == past[-1].model_copy(
            update={"key": "vorige", "label": "Vorige periode"}
        )
    # The baseline is the sum of the earlier points: neither may give the other away.
    if trend.baseline.suppressed:
        assert any(c.suppressed for c in past)
    else:
        assert hidden_is_safe(past, trend.baseline.count or 0, minimum)
    # A direction or test result is only shown when the counts it compares are.
    if trend.direction == "stijgend" or trend.p_value is not None or trend.rate_ratio is not None:
        assert not current.suppressed
        assert not trend.baseline.suppressed
    if trend.direction in ("dalend", "stabiel"):
        assert not current.suppressed
        assert not trend.previous.suppressed


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(TEXTS),
            st.sampled_from(["onderwijs", "wonen", None]),
            st.sampled_from(range(len(QUARTER_DAYS))),
        ),
        max_size=70,
    ),
    st.integers(min_value=2, max_value=7),
)
def test_earlier_periods_and_trends_never_give_a_small_group_away(
    rows: list[tuple[str, str | None, int]], minimum: int
) -> None:
    records = [
        record(text, domain=domain, organisation=f"o{i % 4}", observed_on=QUARTER_DAYS[q])
        for i, (text, domain, q) in enumerate(rows)
    ]
    current = [r for r, (_, _, q) in zip(records, rows, strict=True) if q == 0]
    baseline = [r for r, (_, _, q) in zip(records, rows, strict=True) if q > 0]
    bundle = compile_(current, baseline, minimum=minimum)
    quarters = range(1, len(QUARTER_DAYS))

    def true_count(q: int, domain: str | None = None, texts: set[str] | None = None) -> int:
        return sum(
            1
            for text, d, quarter in rows
            if quarter == q and (domain is None or d == domain) and (texts is None or text in texts)
        )

    total_points = [p.count for p in bundle.trend[:-1]]
    for index, q in enumerate(reversed(quarters)):
        # Each earlier quarter: the domains against the quarter's total.
        point = total_points[index]
        assert point.count is None or point.count == 0 or point.count >= minimum
        if not point.suppressed:
            parts = [s.trend.series[index].count for s in bundle.domains]
            assert not line_leaks(true_count(q), parts, minimum)
    if not any(p.suppressed for p in total_points):
        baselines = [s.trend.baseline for s in bundle.domains]
        assert not line_leaks(len(baseline), baselines, minimum)
    for section in bundle.domains:
        assert_trend_is_protected(section.trend, section.count, minimum)
        for theme in section.themes:
            assert_trend_is_protected(theme.trend, theme.signal_count, minimum)
            if theme.is_rising:
                assert not theme.signal_count.suppressed
                assert not theme.trend.baseline.suppressed
        if section.details_hidden or not section.themes:
            continue
        # Each earlier quarter: the domain's themes against the domain's count.
        for index, domain_point in enumerate(section.trend.series[:-1]):
            if not domain_point.count.suppressed:
                parts = [t.trend.series[index].count for t in section.themes]
                assert not line_leaks(domain_point.count.count or 0, parts, minimum)
        if not section.trend.baseline.suppressed:
            parts = [t.trend.baseline for t in section.themes]
            assert not line_leaks(section.trend.baseline.count or 0, parts, minimum)
        # The theme's earlier counts are the true ones where shown (texts identify a theme).
        for theme in section.themes:
            texts = set(theme.examples)
            for index, q in enumerate(reversed(quarters)):
                shown = theme.trend.series[index].count
                assert shown.suppressed or shown.count == true_count(q, section.domain, texts)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=8), st.integers(2, 10))
def test_protect_partition_never_leaves_a_recoverable_cell(counts: list[int], minimum: int) -> None:
    cells = protect_partition([Raw(str(i), str(i), c) for i, c in enumerate(counts)], minimum)
    total = sum(counts)
    if 0 < total < minimum:
        assert all(c.count in (0, None) for c in cells)
    else:
        assert hidden_is_safe(cells, total, minimum)
    for cell_, true in zip(cells, counts, strict=True):
        assert cell_.suppressed or cell_.count == true


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(min_value=0, max_value=12), min_size=3, max_size=3),
        min_size=1,
        max_size=5,
    ),
    st.integers(2, 7),
)
def test_protect_table_protects_rows_columns_and_baselines(
    table: list[list[int]], minimum: int
) -> None:
    columns = [sum(column) for column in zip(*table, strict=True)]
    margins = [Margin(c, shown=not 0 < c < minimum) for c in columns]
    grand = sum(columns)
    hide, hide_base = protect_table(
        table, minimum, column_totals=margins, grand_total=Margin(grand, shown=grand >= minimum)
    )

    def cells(values: list[int], hidden_flags: list[bool]) -> list[CountCellV1]:
        return [
            CountCellV1(key=str(i), label="", count=None if h else v, suppressed=h)
            for i, (v, h) in enumerate(zip(values, hidden_flags, strict=True))
        ]

    for row, row_hidden, base_hidden in zip(table, hide, hide_base, strict=True):
        assert all(h or not 0 < v < minimum for v, h in zip(row, row_hidden, strict=True))
        if base_hidden:
            assert any(row_hidden)
        else:
            assert hidden_is_safe(cells(row, row_hidden), sum(row), minimum)
    for p, margin in enumerate(margins):
        column = [row[p] for row in table]
        flags = [row_hidden[p] for row_hidden in hide]
        if margin.shown:
            assert not line_leaks(margin.count, cells(column, flags), minimum)
        else:
            assert all(h or v == 0 for v, h in zip(column, flags, strict=True))
    baselines = [sum(row) for row in table]
    if grand >= minimum:
        assert not line_leaks(grand, cells(baselines, hide_base), minimum)


def test_no_organisation_or_small_neighbourhood_reaches_the_json() -> None:
    current = [record(organisation="basisschool-geheim", neighbourhood="Rabot") for _ in range(8)]
    current += [record(neighbourhood="Klein-Wijkje") for _ in range(2)]
    body = compile_(current).model_dump_json()
    assert "basisschool-geheim" not in body
    assert "Klein-Wijkje" in body  # it is listed, as a suppressed cell …
    bundle = compile_(current)
    tiny = next(c for c in bundle.by_neighbourhood if c.label == "Klein-Wijkje")
    assert tiny.suppressed
    assert tiny.count is None
    assert all("Klein-Wijkje" not in t.neighbourhoods for t in themes_of(bundle))


def test_the_bundle_is_a_valid_v1_event_body() -> None:
    bundle = compile_([record(organisation=f"o{i}") for i in range(6)])
    again = PolicyBundleV1.model_validate_json(bundle.model_dump_json())
    assert again == bundle
    assert again.period_label == "K4 2026"
    assert "binomiaal" in again.method_note


def test_dates_in_the_past_quarters_feed_the_trend_series() -> None:
    baseline = [record(observed_on=date(2026, 8, 1) + timedelta(days=i)) for i in range(6)]
    bundle = compile_([record(organisation=f"o{i}") for i in range(6)], baseline)
    labels = [p.label for p in bundle.trend]
    assert labels == ["K4 2025", "K1 2026", "K2 2026", "K3 2026", "K4 2026"]
    assert bundle.trend[-2].count.count == 6
    assert bundle.compiled_at == NOW
    assert NOW.tzinfo is UTC
