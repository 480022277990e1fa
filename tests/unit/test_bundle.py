"""Bundle compilation: counts, and the privacy rule that no small group is ever shown."""

from __future__ import annotations

import uuid
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.v1 import KnowledgeType, PolicyBundleV1
from schemas.vocabulary import LIFE_DOMAINS
from services.aggregator.domain.bundle import SignalFacts, cell, compile_bundle, suppress_partition
from services.aggregator.domain.render import escape_markdown, render_markdown
from tests.factories import NOW

MIN = 5


def facts(
    neighbourhood: str | None = "Rabot",
    domains: tuple[str, ...] = ("onderwijs",),
    vindplaats: str = "schoolpoort",
    knowledge: KnowledgeType = KnowledgeType.PROFESSIONAL,
) -> SignalFacts:
    return SignalFacts(
        signal_id=uuid.uuid4(),
        municipality="Gent",
        neighbourhood=neighbourhood,
        vindplaats=vindplaats,
        knowledge_type=knowledge,
        domains=domains,
        needs_review=not domains,
    )


def compile_(signals: list[SignalFacts], min_group_size: int = MIN) -> PolicyBundleV1:
    return compile_bundle(
        signals,
        municipality="Gent",
        period_start=date(2026, 9, 1),
        period_end=date(2026, 11, 30),
        min_group_size=min_group_size,
        compiled_at=NOW,
        bundle_id=uuid.uuid4(),
    )


def by_key(cells: list) -> dict[str, int | None]:  # type: ignore[type-arg]
    return {c.key: c.count for c in cells}


def test_counts_per_domain_count_a_multi_domain_signal_in_each_domain() -> None:
    signals = [facts(domains=("onderwijs", "inkomen")) for _ in range(6)] + [
        facts(domains=("onderwijs",)) for _ in range(5)
    ]
    bundle = compile_(signals)
    counts = by_key(bundle.by_domain)
    assert counts["onderwijs"] == 11
    assert counts["inkomen"] == 6
    assert counts["wonen"] == 0  # a domain with nothing is shown as zero, not hidden
    assert {c.key for c in bundle.by_domain} == {d.id for d in LIFE_DOMAINS}
    assert bundle.signal_count.count == 11


def test_small_neighbourhood_is_suppressed_and_the_bundle_says_so() -> None:
    signals = (
        [facts("Rabot") for _ in range(7)]
        + [facts("Dampoort") for _ in range(2)]
        + [facts("Ledeberg") for _ in range(6)]
    )
    bundle = compile_(signals)
    cells = {c.key: c for c in bundle.by_neighbourhood}
    assert cells["Dampoort"].suppressed
    assert cells["Dampoort"].count is None
    # Secondary suppression: total 15 minus Rabot 7 would give Ledeberg+Dampoort, so one more
    # cell must go, or the hidden 2 could be recomputed.
    assert cells["Ledeberg"].suppressed
    assert cells["Rabot"].count == 7
    assert bundle.suppression_note is not None
    assert "kleiner dan 5" in bundle.suppression_note


def test_secondary_suppression_only_when_exactly_one_cell_is_hidden() -> None:
    cells = [cell("a", "A", 9, MIN), cell("b", "B", 6, MIN), cell("c", "C", 1, MIN)]
    after = suppress_partition(cells)
    assert [c.suppressed for c in after] == [False, True, True]
    two_hidden = [cell("a", "A", 9, MIN), cell("b", "B", 2, MIN), cell("c", "C", 1, MIN)]
    assert suppress_partition(two_hidden) == two_hidden


def test_signals_without_a_domain_are_counted_for_review() -> None:
    bundle = compile_([facts(domains=()) for _ in range(5)] + [facts() for _ in range(5)])
    assert bundle.needs_review.count == 5


def test_a_tiny_bundle_hides_even_its_total() -> None:
    bundle = compile_([facts() for _ in range(3)])
    assert bundle.signal_count.suppressed
    assert all(c.count in (0, None) for c in bundle.by_domain)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Rabot", "Dampoort", "Muide", None]),
            st.lists(st.sampled_from([d.id for d in LIFE_DOMAINS]), max_size=3, unique=True),
            st.sampled_from(["schoolpoort", "huisbezoek", "oudercafe"]),
            st.sampled_from(list(KnowledgeType)),
        ),
        max_size=60,
    ),
    st.integers(min_value=2, max_value=10),
)
def test_no_cell_ever_shows_a_group_below_the_minimum(
    rows: list[tuple[str | None, list[str], str, KnowledgeType]], minimum: int
) -> None:
    bundle = compile_([facts(n, tuple(d), v, k) for n, d, v, k in rows], minimum)
    all_cells = [
        bundle.signal_count,
        bundle.needs_review,
        *bundle.by_domain,
        *bundle.by_neighbourhood,
        *bundle.by_vindplaats,
        *bundle.by_knowledge_type,
    ]
    assert all(c.count is None or c.count == 0 or c.count >= minimum for c in all_cells)
    for breakdown in (bundle.by_neighbourhood, bundle.by_vindplaats, bundle.by_knowledge_type):
        hidden = [c for c in breakdown if c.suppressed]
        shown_nonzero = [c for c in breakdown if c.count]
        # A single hidden cell beside shown cells could be recomputed from the total.
        assert len(hidden) != 1 or not shown_nonzero


def test_markdown_is_dutch_and_escapes_reporter_text() -> None:
    signals = [facts("Rabot](http://kwaad.example) **x**") for _ in range(6)]
    markdown = render_markdown(compile_(signals))
    assert "# Beleidsbundel Gent" in markdown
    assert "Per levensdomein" in markdown
    assert "](http://kwaad.example)" not in markdown
    assert escape_markdown("a|b") == "a\\|b"


def test_markdown_shows_suppressed_cells_as_below_the_minimum() -> None:
    signals = [facts("Rabot") for _ in range(8)] + [facts("Muide"), facts("Dampoort")]
    markdown = render_markdown(compile_(signals))
    assert "| Muide | < 5 |" in markdown
    assert "| Rabot | 8 |" in markdown
