"""Compiling a policy bundle (beleidsbundel) for one steering group and period — pure.

The interface the I/O around it (``services/aggregator/bundling.py``) calls::

    scope = BundleScope(...)                          # steering group, area, period, minimum
    start, end = baseline_window(scope)               # fetch baseline signals for these days
    bundle = compile_bundle(
        scope,
        current,            # Sequence[SignalRecord]: signals observed in the period, in the area
        baseline,           # Sequence[SignalRecord]: same area, observed in baseline_window
        previous,           # Sequence[PreviousThemeOutcome]: themes of the previous bundle
        compiled_at=..., bundle_id=..., version=1,
    )
    html = render_html(bundle)                        # services.aggregator.domain.render

``SignalRecord.terms`` should be filled at ingest with ``text.theme_terms(text)`` (stored next to
the signal); when it is ``None`` it is computed here, which is correct but costs ~30 µs a
signal. Records outside the scope (municipality, neighbourhoods, domains, dates) are ignored,
so a caller may over-fetch.

What a bundle shows and hides is documented on ``PolicyBundleV1`` and in ``disclosure``.
"""

from __future__ import annotations

import functools
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

from schemas.v1 import (
    BundleAreaV1,
    CountCellV1,
    DomainSectionV1,
    EscalationV1,
    KnowledgeType,
    PeriodCountV1,
    PolicyBundleV1,
    PreviousThemeV1,
    SignalClassifiedV1,
    SourcesV1,
    ThemeV1,
    TrendV1,
)
from schemas.vocabulary import (
    KNOWLEDGE_TYPE_LABELS,
    LIFE_DOMAIN_LABELS,
    LIFE_DOMAINS,
    VINDPLAATSEN,
    label,
)
from services.aggregator.domain.disclosure import (
    Margin,
    Raw,
    cell,
    hidden,
    protect_partition,
    protect_table,
)
from services.aggregator.domain.escalation import advise
from services.aggregator.domain.text import theme_terms
from services.aggregator.domain.themes import (
    DEFAULT_EXACT_LIMIT,
    DEFAULT_THRESHOLD,
    TermGroup,
    TermSpace,
    group_block,
)
from services.aggregator.domain.trends import DEFAULT_ALPHA, Period, previous_periods, rising_test

NO_NEIGHBOURHOOD_KEY: Final = "_onbekend"
NO_NEIGHBOURHOOD_LABEL: Final = "Wijk niet opgegeven"
NEEDS_REVIEW_KEY: Final = "_te_bekijken"
NEEDS_REVIEW_LABEL: Final = "Zonder levensdomein (te bekijken)"
REINFORCED_SOURCES: Final = 3
MAX_EXAMPLES: Final = 3
EXAMPLE_MAX_CHARS: Final = 320
_THEME_NAMESPACE: Final = uuid.UUID("5e1a9057-0000-4000-8000-7e4e00000001")

DECISION_LABELS: Final[dict[str, str]] = {
    "in_behandeling": "In behandeling",
    "opgelost_in_de_wijk": "Opgelost in de wijk",
    "doorgestuurd_stad": "Doorgestuurd naar de stad / gemeente",
    "doorgestuurd_gemeente": "Doorgestuurd naar de stad / gemeente",
    "doorgestuurd_vlaanderen": "Doorgestuurd naar Vlaanderen",
    "doorgestuurd_federaal": "Doorgestuurd naar het federale niveau",
    "geen_actie": "Geen actie",
}


@dataclass(frozen=True, slots=True)
class SignalRecord:
    """One stored signal as a bundle sees it (its current tags: a correction outranks a model)."""

    signal_id: uuid.UUID
    municipality: str
    neighbourhood: str | None
    vindplaats: str
    reporter_role: str
    organisation: str
    """Opaque; only used to count independent sources. Never shown."""
    knowledge_type: KnowledgeType
    observed_on: date
    received_at: datetime
    text: str
    """Scrubbed text (as on the topics)."""
    domains: tuple[str, ...]
    """Current domain tags, primary first."""
    primary_domain: str | None
    needs_review: bool
    terms: str | None = None
    """``theme_terms(text)``, stored at ingest; ``None`` means compute it here."""

    @classmethod
    def of_classified(cls, classified: SignalClassifiedV1) -> SignalRecord:
        """The record of a classified event as it stands (no later correction applied)."""
        signal, classification = classified.signal, classified.classification
        return cls(
            signal_id=signal.signal_id,
            municipality=signal.municipality,
            neighbourhood=signal.neighbourhood,
            vindplaats=signal.vindplaats,
            reporter_role=signal.reporter_role,
            organisation=signal.organisation,
            knowledge_type=signal.knowledge_type,
            observed_on=signal.observed_on,
            received_at=signal.received_at,
            text=signal.text,
            domains=tuple(tag.domain for tag in classification.domains),
            primary_domain=classification.primary_domain,
            needs_review=classification.needs_review,
        )


@dataclass(frozen=True, slots=True)
class BundleScope:
    steering_group_id: str
    steering_group_name: str
    municipalities: frozenset[str]
    neighbourhoods: frozenset[str] | None
    """``None``: the whole of the municipalities."""
    domains_of_interest: frozenset[str] | None
    """``None``: all domains."""
    min_group_size: int
    period_start: date
    period_end: date
    baseline_periods: int = 4
    """How many earlier periods of the same length make the longer baseline."""
    alpha: float = DEFAULT_ALPHA
    """p-value below which a theme counts as rising."""
    theme_threshold: float = DEFAULT_THRESHOLD

    @property
    def period(self) -> Period:
        return Period(self.period_start, self.period_end)


@dataclass(frozen=True, slots=True)
class PreviousThemeOutcome:
    """A theme of the previous bundle and what the steering group decided about it."""

    theme_id: str
    label: str
    domain: str
    terms: tuple[str, ...]
    """The theme's ``shared_terms`` as published in the previous bundle (for matching)."""
    decision_status: str | None
    owner: str | None
    note: str | None
    decided_at: datetime | None


def baseline_window(scope: BundleScope) -> tuple[date, date]:
    """First and last day of the baseline the caller must fetch signals for."""
    periods = previous_periods(scope.period, scope.baseline_periods)
    if not periods:
        return scope.period_start, scope.period_start
    return periods[-1].start, periods[0].end


# --- helpers ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    # Place names: a few hundred distinct values over a quarter of a million records.
    return " ".join(text.split()).casefold()


def _in_area(record: SignalRecord, scope: BundleScope, municipalities: frozenset[str]) -> bool:
    if _fold(record.municipality) not in municipalities:
        return False
    if scope.neighbourhoods is None:
        return True
    wanted = {_fold(n) for n in scope.neighbourhoods}
    return record.neighbourhood is not None and _fold(record.neighbourhood) in wanted


def _main_domain(record: SignalRecord, interest: frozenset[str] | None) -> str | None:
    """The domain a signal is counted and themed under: its primary one, unless the steering
    group does not follow that domain; then its first tag the group does follow."""
    if record.needs_review or not record.domains:
        return None
    primary = record.primary_domain or record.domains[0]
    if interest is None or primary in interest:
        return primary
    return next((d for d in record.domains if d in interest), None)


def _relevant(record: SignalRecord, scope: BundleScope) -> bool:
    if scope.domains_of_interest is None:
        return True
    return bool(set(record.domains) & scope.domains_of_interest)


def _neighbourhood_key(record: SignalRecord) -> str:
    if not record.neighbourhood:
        return f"{record.municipality}/{NO_NEIGHBOURHOOD_KEY}"
    return f"{record.municipality}/{' '.join(record.neighbourhood.split())}"


def _neighbourhood_label(key: str, several_municipalities: bool) -> str:
    municipality, _, name = key.partition("/")
    shown = NO_NEIGHBOURHOOD_LABEL if name == NO_NEIGHBOURHOOD_KEY else name
    return f"{shown} ({municipality})" if several_municipalities else shown


def _raws(counts: Counter[str], labels: dict[str, str] | None = None) -> list[Raw]:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [Raw(key, label(labels or {}, key), count) for key, count in ordered]


@dataclass
class _Theme:
    group: TermGroup
    domain: str
    current: list[SignalRecord]
    baseline: list[SignalRecord]
    theme_id: str = ""
    matched: PreviousThemeOutcome | None = None
    cell: CountCellV1 | None = None
    shared: list[str] = field(default_factory=list)


def _match_previous(themes: list[_Theme], previous: Sequence[PreviousThemeOutcome]) -> None:
    """Give a returning theme the id it had: same domain and mostly the same shared terms."""
    candidates: list[tuple[float, int, int]] = []
    for t_index, theme in enumerate(themes):
        terms = set(theme.shared) or set(theme.group.top_terms[:5])
        for p_index, old in enumerate(previous):
            if old.domain != theme.domain or not old.terms or not terms:
                continue
            overlap = len(terms & set(old.terms)) / min(len(terms), len(old.terms))
            if overlap >= 0.5:
                candidates.append((overlap, t_index, p_index))
    taken_themes: set[int] = set()
    taken_previous: set[int] = set()
    # Best overlaps first, larger themes first on a tie: one previous theme, one current theme.
    for _, t_index, p_index in sorted(
        candidates, key=lambda c: (-c[0], -len(themes[c[1]].current), c[2])
    ):
        if t_index in taken_themes or p_index in taken_previous:
            continue
        taken_themes.add(t_index)
        taken_previous.add(p_index)
        themes[t_index].matched = previous[p_index]
        themes[t_index].theme_id = previous[p_index].theme_id


def _past_counts(records: Iterable[SignalRecord], periods: list[Period]) -> list[int]:
    """Signals per earlier period, newest period first (as ``periods``)."""
    counts = [0] * len(periods)
    # Count per day first (a few hundred distinct days for hundreds of thousands of records),
    # then place each day in its period.
    for day, n in Counter(record.observed_on for record in records).items():
        for index, period in enumerate(periods):
            if period.contains(day):
                counts[index] += n
                break
    return counts


@dataclass(frozen=True, slots=True)
class _Past:
    """A row of a protected earlier-periods table: counts and what of them may be shown."""

    counts: list[int]
    hidden: list[bool]
    baseline_hidden: bool

    def cells(self, periods: list[Period]) -> list[CountCellV1]:
        return [
            hidden(f"p{i}", p.label()) if self.hidden[i] else cell(f"p{i}", p.label(), n, 1)
            for i, (p, n) in enumerate(zip(periods, self.counts, strict=True))
        ]

    def baseline(self) -> CountCellV1:
        if self.baseline_hidden:
            return hidden("basislijn", "Basislijn")
        return cell("basislijn", "Basislijn", sum(self.counts), 1)


def _protect_past(
    rows: list[list[int]], minimum: int, totals: list[CountCellV1], grand: Margin
) -> list[_Past]:
    margins = [Margin(c.count or 0, not c.suppressed) for c in totals]
    hidden_cells, hidden_baselines = protect_table(
        rows, minimum, column_totals=margins, grand_total=grand
    )
    return [
        _Past(row, hide, base)
        for row, hide, base in zip(rows, hidden_cells, hidden_baselines, strict=True)
    ]


def _trend(
    current_cell: CountCellV1,
    current_count: int,
    past: _Past,
    scope: BundleScope,
    current_period: Period,
    periods: list[Period],
    *,
    is_new: bool,
) -> TrendV1:
    """Trend of a domain or theme; every count and every conclusion from counts is shown only
    when the counts behind it are (a direction or p-value could otherwise narrow a hidden
    count down)."""
    baseline_count = sum(past.counts)
    baseline_days = sum(p.days for p in periods)
    points = past.cells(periods)
    previous_cell = points[0] if points else cell("vorige", "Vorige periode", 0, 1)
    previous_cell = previous_cell.model_copy(update={"key": "vorige", "label": "Vorige periode"})
    baseline_cell = past.baseline()
    test = rising_test(
        current_count, current_period.days, baseline_count, baseline_days, alpha=scope.alpha
    )
    against_baseline = not current_cell.suppressed and not baseline_cell.suppressed
    against_previous = not current_cell.suppressed and not previous_cell.suppressed
    if is_new:
        direction = "nieuw"
    elif test.rising and against_baseline:
        direction = "stijgend"
    elif not against_previous or (test.rising and not against_baseline):
        direction = "onbekend"
    elif (current_cell.count or 0) < (previous_cell.count or 0) * 0.8:
        direction = "dalend"
    else:
        direction = "stabiel"
    series = [
        PeriodCountV1(period_start=p.start, period_end=p.end, label=p.label(), count=c)
        for p, c in zip(periods, points, strict=True)
    ]
    series.reverse()
    series.append(
        PeriodCountV1(
            period_start=current_period.start,
            period_end=current_period.end,
            label=current_period.label(),
            count=current_cell,
        )
    )
    return TrendV1(
        previous=previous_cell,
        baseline=baseline_cell,
        baseline_days=baseline_days,
        direction=direction,
        p_value=round(test.p_value, 4) if against_baseline and baseline_count else None,
        rate_ratio=(
            round(test.rate_ratio, 2) if against_baseline and test.rate_ratio is not None else None
        ),
        series=series,
    )


NEAR_DUPLICATE: Final = 0.8
"""Jaccard overlap of their lemmas above which two example texts say the same thing."""


def _examples(theme: _Theme, now: Sequence[SignalRecord]) -> list[str]:
    """Up to three typical texts, from different organisations where possible, and never two
    that say nearly the same thing (a copied message with another number still repeats)."""
    # Representatives are positions into this period's records followed by the baseline's.
    ordered = [now[i] for i in theme.group.representatives if i < len(now)]
    chosen: list[str] = []
    chosen_terms: list[set[str]] = []
    seen_organisations: set[str] = set()
    # Term strings already judged (chosen, or too close to a chosen one): the same string is
    # as close again, and the chosen set only grows. Large themes are mostly such repeats.
    judged: set[str] = set()
    for prefer_new_source in (True, False):
        for record in ordered:
            if len(chosen) == MAX_EXAMPLES:
                return chosen
            if prefer_new_source and record.organisation in seen_organisations:
                continue
            if record.terms and record.terms in judged:
                continue
            text = " ".join(record.text.split())
            term_string = record.terms if record.terms is not None else theme_terms(text)
            if term_string in judged:
                continue
            terms = set(term_string.split()) or {text.casefold()}
            if term_string:
                judged.add(term_string)
            if any(
                len(terms & other) / len(terms | other) >= NEAR_DUPLICATE for other in chosen_terms
            ):
                continue
            if len(text) > EXAMPLE_MAX_CHARS:
                text = text[: EXAMPLE_MAX_CHARS - 1].rsplit(" ", 1)[0] + " …"
            chosen.append(text)
            chosen_terms.append(terms)
            seen_organisations.add(record.organisation)
    return chosen


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _show(c: CountCellV1, minimum: int) -> str:
    return f"minder dan {minimum}" if c.suppressed else str(c.count)


# --- compile ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compilation:
    """A bundle and what only the aggregator may know about it.

    ``theme_members`` maps each theme the bundle shows to the ids of its signals in this period.
    It never goes into the bundle (which is published); it is stored beside it so an
    organisation can be told which themes its own signals ended up in (terugkoppeling).
    """

    bundle: PolicyBundleV1
    theme_members: dict[str, tuple[uuid.UUID, ...]]


def compile_bundle(
    scope: BundleScope,
    current: Sequence[SignalRecord],
    baseline: Sequence[SignalRecord],
    previous: Sequence[PreviousThemeOutcome],
    *,
    compiled_at: datetime,
    bundle_id: uuid.UUID,
    version: int = 1,
) -> PolicyBundleV1:
    """The bundle alone; see ``compile_with_members`` for the theme membership."""
    return compile_with_members(
        scope,
        current,
        baseline,
        previous,
        compiled_at=compiled_at,
        bundle_id=bundle_id,
        version=version,
    ).bundle


def compile_with_members(
    scope: BundleScope,
    current: Sequence[SignalRecord],
    baseline: Sequence[SignalRecord],
    previous: Sequence[PreviousThemeOutcome],
    *,
    compiled_at: datetime,
    bundle_id: uuid.UUID,
    version: int = 1,
) -> Compilation:
    minimum = scope.min_group_size
    municipalities = frozenset(_fold(m) for m in scope.municipalities)
    period = scope.period
    periods = previous_periods(period, scope.baseline_periods)
    baseline_start, baseline_end = baseline_window(scope)
    interest = scope.domains_of_interest

    def keep(record: SignalRecord, start: date, end: date) -> bool:
        return (
            start <= record.observed_on <= end
            and _in_area(record, scope, municipalities)
            and _relevant(record, scope)
        )

    # UUIDs order by their integer exactly as by their hex string, without formatting one.
    order = lambda r: (r.observed_on, r.signal_id.int)  # noqa: E731 - a sort key, used twice
    now = sorted((r for r in current if keep(r, period.start, period.end)), key=order)
    before = sorted(
        (r for r in baseline if periods and keep(r, baseline_start, baseline_end)), key=order
    )
    # Indices below `n_now` are this period's records, the rest the baseline's.
    everything = now + before
    n_now = len(now)
    space = TermSpace.fit(
        [r.terms if r.terms is not None else theme_terms(r.text) for r in everything]
    )
    mains = [_main_domain(record, interest) for record in everything]

    # Themes per main domain, over this period and the baseline together.
    by_main: dict[str, list[int]] = defaultdict(list)
    for index, main in enumerate(mains):
        if main is not None:
            by_main[main].append(index)
    themes: list[_Theme] = []
    for domain in sorted(by_main):
        for group in group_block(
            space, by_main[domain], threshold=scope.theme_threshold, exact_limit=DEFAULT_EXACT_LIMIT
        ):
            now_members = [everything[i] for i in group.members if i < n_now]
            if not now_members:
                continue
            theme = _Theme(
                group=group,
                domain=domain,
                current=now_members,
                baseline=[everything[i] for i in group.members if i >= n_now],
            )
            # Only terms that at least `minimum` signals share may be shown: a rare word (a
            # name the scrubber missed) can then never become a label.
            theme.shared = [t for t, n in group.shared_terms if n >= minimum][:8]
            themes.append(theme)
    _match_previous(themes, previous)
    for theme in themes:
        if not theme.theme_id:
            # Both lists follow `everything`, whose two parts are each in `order`: the
            # earliest member is the first of one of them.
            earliest = min((m[0] for m in (theme.current, theme.baseline) if m), key=order)
            theme.theme_id = str(
                uuid.uuid5(_THEME_NAMESPACE, f"{theme.domain}:{earliest.signal_id}")
            )

    # Totals and the per-domain partition (main domain, plus "to review").
    total_cell = cell("totaal", "Signalen", len(now), minimum)
    domain_ids = [d.id for d in LIFE_DOMAINS if interest is None or d.id in interest]
    domain_ids += sorted({d for d in by_main if d not in domain_ids})
    main_counts = Counter[str]()
    review = 0
    for main in mains[:n_now]:
        if main is None:
            review += 1
        else:
            main_counts[main] += 1
    domain_raws = [Raw(d, label(LIFE_DOMAIN_LABELS, d), main_counts[d]) for d in domain_ids]
    domain_raws.sort(key=lambda r: (-r.count, r.key))
    domain_cells = protect_partition(
        [*domain_raws, Raw(NEEDS_REVIEW_KEY, NEEDS_REVIEW_LABEL, review)],
        minimum,
        total_shown=not total_cell.suppressed,
    )
    needs_review_cell = domain_cells.pop()
    domain_cell_of = {c.key: c for c in domain_cells}

    several = len({_fold(r.municipality) for r in now}) > 1
    municipality_counts = Counter(r.municipality for r in now)
    neighbourhood_counts = Counter(_neighbourhood_key(r) for r in now)
    neighbourhood_labels = {k: _neighbourhood_label(k, several) for k in neighbourhood_counts}
    breakdowns = {
        "municipality": protect_partition(
            _raws(municipality_counts), minimum, total_shown=not total_cell.suppressed
        ),
        "neighbourhood": protect_partition(
            _raws(neighbourhood_counts, neighbourhood_labels),
            minimum,
            total_shown=not total_cell.suppressed,
        ),
        "vindplaats": protect_partition(
            _raws(Counter(r.vindplaats for r in now), VINDPLAATSEN),
            minimum,
            total_shown=not total_cell.suppressed,
        ),
        "knowledge": protect_partition(
            _raws(Counter(r.knowledge_type.value for r in now), KNOWLEDGE_TYPE_LABELS),
            minimum,
            total_shown=not total_cell.suppressed,
        ),
    }

    # Domain sections: themes with at least `minimum` signals, the rest as "other".
    themes_by_domain: dict[str, list[_Theme]] = defaultdict(list)
    for theme in themes:
        themes_by_domain[theme.domain].append(theme)
    baseline_by_domain: dict[str, list[SignalRecord]] = defaultdict(list)
    for record, main in zip(before, mains[n_now:], strict=True):
        baseline_by_domain[main if main is not None else NEEDS_REVIEW_KEY].append(record)
    # Earlier periods form linked tables (total by period, domains by period, themes by
    # period, each row summed into a baseline): protected together, top down.
    total_points = [
        cell(f"p{i}", p.label(), n, minimum)
        for i, (p, n) in enumerate(zip(periods, _past_counts(before, periods), strict=True))
    ]
    past_rows = [
        _past_counts(baseline_by_domain[key], periods)
        for key in [*(r.key for r in domain_raws), NEEDS_REVIEW_KEY]
    ]
    domain_past = dict(
        zip(
            (r.key for r in domain_raws),
            _protect_past(past_rows, minimum, total_points, Margin(len(before), shown=True)),
            strict=False,
        )
    )
    previous_ids = {p.theme_id for p in previous}
    sections: list[DomainSectionV1] = []
    theme_models: dict[str, ThemeV1] = {}
    for raw in domain_raws:
        domain = raw.key
        domain_cell = domain_cell_of[domain]
        shown = sorted(
            (t for t in themes_by_domain[domain] if len(t.current) >= minimum),
            key=lambda t: (-len(t.current), t.theme_id),
        )
        rest = raw.count - sum(len(t.current) for t in shown)
        details_hidden = domain_cell.suppressed
        if details_hidden:
            shown = []
            other = (
                hidden("overige", "Overige signalen")
                if raw.count
                else cell("overige", "Overige signalen", 0, minimum)
            )
        else:
            cells = protect_partition(
                [
                    *(
                        Raw(t.theme_id, t.shared[0] if t.shared else t.theme_id, len(t.current))
                        for t in shown
                    ),
                    Raw("overige", "Overige signalen", rest),
                ],
                minimum,
            )
            other = cells.pop()
            for theme, theme_cell in zip(shown, cells, strict=True):
                theme.cell = theme_cell
        domain_row = domain_past[domain]
        theme_rows = [_past_counts(t.baseline, periods) for t in shown]
        rest_row = (
            [
                total - sum(column)
                for total, *column in zip(domain_row.counts, *theme_rows, strict=True)
            ]
            if theme_rows
            else list(domain_row.counts)
        )
        theme_past = _protect_past(
            [*theme_rows, rest_row],
            minimum,
            domain_row.cells(periods),
            Margin(sum(domain_row.counts), shown=not domain_row.baseline_hidden),
        )
        models = [
            _theme_model(theme, past, scope, period, periods, previous_ids, now)
            for theme, past in zip(shown, theme_past, strict=False)
        ]
        for model in models:
            theme_models[model.theme_id] = model
        domain_trend = _trend(
            domain_cell,
            raw.count,
            domain_row,
            scope,
            period,
            periods,
            is_new=False,
        )
        sections.append(
            DomainSectionV1(
                domain=domain,
                label=label(LIFE_DOMAIN_LABELS, domain),
                count=domain_cell,
                trend=domain_trend,
                themes=models,
                other=other,
                details_hidden=details_hidden,
            )
        )

    # What happened to the previous bundle's themes.
    current_by_id = {t.theme_id: t for t in themes}
    previous_models = []
    for old in previous:
        returning = current_by_id.get(old.theme_id)
        if returning is None:
            now_cell: CountCellV1 | None = None
        elif old.theme_id in theme_models:
            now_cell = theme_models[old.theme_id].signal_count
        else:
            now_cell = cell("deze_periode", "Deze periode", len(returning.current), minimum)
        if returning is not None and domain_cell_of.get(returning.domain, total_cell).suppressed:
            now_cell = hidden("deze_periode", "Deze periode")
        previous_models.append(
            PreviousThemeV1(
                theme_id=old.theme_id,
                label=old.label,
                domain=old.domain,
                decision_status=old.decision_status,
                decision_label=DECISION_LABELS.get(
                    old.decision_status or "",
                    (old.decision_status or "nog geen beslissing").replace("_", " ").capitalize(),
                ),
                owner=old.owner,
                note=old.note,
                decided_at=old.decided_at,
                current=now_cell,
            )
        )

    # Trend of the total.
    total_series = [
        PeriodCountV1(period_start=p.start, period_end=p.end, label=p.label(), count=c)
        for p, c in zip(periods, total_points, strict=True)
    ]
    total_series.reverse()
    total_series.append(
        PeriodCountV1(
            period_start=period.start, period_end=period.end, label=period.label(), count=total_cell
        )
    )

    all_themes = list(theme_models.values())
    new_ids = [t.theme_id for t in all_themes if t.is_new]
    rising_ids = [t.theme_id for t in all_themes if t.is_rising]
    all_cells = [
        total_cell,
        needs_review_cell,
        *domain_cells,
        *(c for cells in breakdowns.values() for c in cells),
        *(s.other for s in sections),
        *(
            c
            for t in all_themes
            for c in (t.signal_count, t.sources.professional, t.sources.lived_experience)
        ),
    ]
    suppressed = sum(1 for c in all_cells if c.suppressed)
    note = None
    if suppressed:
        note = (
            f"{_plural(suppressed, 'aantal is', 'aantallen zijn')} verborgen: groepen kleiner dan "
            f"{minimum} signalen tonen we niet, en waar nodig verbergen we nog een aantal, zodat "
            "een verborgen aantal niet uit de totalen terug te rekenen is."
        )
    area = BundleAreaV1(
        steering_group_id=scope.steering_group_id,
        steering_group_name=scope.steering_group_name,
        municipalities=sorted(scope.municipalities),
        neighbourhoods=sorted(scope.neighbourhoods) if scope.neighbourhoods is not None else None,
        domains_of_interest=sorted(interest) if interest is not None else None,
    )
    summary = _summary(
        total_cell, needs_review_cell, sections, all_themes, previous_models, minimum, period
    )
    bundle = PolicyBundleV1(
        bundle_id=bundle_id,
        version=version,
        title=f"Beleidsbundel {scope.steering_group_name} — {period.label()}",
        area=area,
        period_start=period.start,
        period_end=period.end,
        period_label=period.label(),
        compiled_at=compiled_at,
        min_group_size=minimum,
        summary=summary,
        signal_count=total_cell,
        needs_review=needs_review_cell,
        by_domain=domain_cells,
        by_municipality=breakdowns["municipality"],
        by_neighbourhood=breakdowns["neighbourhood"],
        by_vindplaats=breakdowns["vindplaats"],
        by_knowledge_type=breakdowns["knowledge"],
        trend=total_series,
        domains=sections,
        new_theme_ids=new_ids,
        rising_theme_ids=rising_ids,
        previous_themes=previous_models,
        method_note=_method_note(scope, periods),
        suppression_note=note,
    )
    # Only themes the bundle shows: a theme that stayed hidden has no id a reader could use.
    theme_members = {
        theme.theme_id: tuple(r.signal_id for r in theme.current)
        for theme in themes
        if theme.theme_id in theme_models
    }
    return Compilation(bundle, theme_members)


def _theme_model(
    theme: _Theme,
    past: _Past,
    scope: BundleScope,
    period: Period,
    periods: list[Period],
    previous_ids: set[str],
    now: Sequence[SignalRecord],
) -> ThemeV1:
    minimum = scope.min_group_size
    records = theme.current
    assert theme.cell is not None
    knowledge = Counter(r.knowledge_type for r in records)
    knowledge_cells = protect_partition(
        [
            Raw(
                "professionele_kennis",
                "Professionele kennis",
                knowledge[KnowledgeType.PROFESSIONAL],
            ),
            Raw("ervaringskennis", "Ervaringskennis", knowledge[KnowledgeType.LIVED_EXPERIENCE]),
        ],
        minimum,
        total_shown=not theme.cell.suppressed,
    )
    organisations = len({r.organisation for r in records})
    neighbourhoods = Counter(_neighbourhood_key(r) for r in records if r.neighbourhood)
    municipalities = len({_fold(r.municipality) for r in records})
    several = municipalities > 1
    largest_share = max(neighbourhoods.values()) / len(records) if neighbourhoods else 0.0
    advice = advise(
        theme.domain,
        signals=len(records),
        neighbourhoods=len(neighbourhoods),
        municipalities=municipalities,
        largest_neighbourhood_share=largest_share,
    )
    if theme.cell.suppressed:
        # The count is hidden (complementary suppression): the advice must not repeat it.
        advice = advise(
            theme.domain,
            signals=minimum,
            neighbourhoods=len(neighbourhoods),
            municipalities=municipalities,
            largest_neighbourhood_share=largest_share,
        )
        reason = advice.reason.replace(f"{minimum} signalen", "signalen", 1)
        advice = type(advice)(advice.level, reason)
    vindplaatsen = Counter(r.vindplaats for r in records)
    is_new = not theme.baseline and theme.theme_id not in previous_ids
    trend = _trend(theme.cell, len(records), past, scope, period, periods, is_new=is_new)
    label_terms = theme.shared[:3] or ["(geen gedeelde woorden)"]
    return ThemeV1(
        theme_id=theme.theme_id,
        domain=theme.domain,
        label=" · ".join(label_terms),
        shared_terms=theme.shared,
        signal_count=theme.cell,
        sources=SourcesV1(
            organisations=organisations,
            roles=len({r.reporter_role for r in records}),
            vindplaatsen=len(vindplaatsen),
            professional=knowledge_cells[0],
            lived_experience=knowledge_cells[1],
            reinforced=organisations >= REINFORCED_SOURCES,
        ),
        municipality_count=municipalities,
        neighbourhood_count=len(neighbourhoods),
        neighbourhoods=[
            _neighbourhood_label(key, several)
            for key, count in sorted(neighbourhoods.items(), key=lambda kv: (-kv[1], kv[0]))
            if count >= minimum
        ],
        vindplaatsen=[
            label(VINDPLAATSEN, key)
            for key, count in sorted(vindplaatsen.items(), key=lambda kv: (-kv[1], kv[0]))
            if count >= minimum
        ],
        first_seen=min(r.observed_on for r in records),
        last_seen=max(r.observed_on for r in records),
        is_new=is_new,
        is_rising=trend.direction == "stijgend",
        trend=trend,
        escalation=EscalationV1(level=advice.level, reason=advice.reason),
        examples=_examples(theme, now),
    )


_UPWARD: Final = {"federaal": "federaal", "vlaanderen": "voor Vlaanderen"}


def _summary(
    total: CountCellV1,
    review: CountCellV1,
    sections: list[DomainSectionV1],
    themes: list[ThemeV1],
    previous: list[PreviousThemeV1],
    minimum: int,
    period: Period,
) -> list[str]:
    lines = [f"In {period.label()} kwamen {_show(total, minimum)} signalen binnen."]
    top = [s for s in sections if not s.count.suppressed and s.count.count][:3]
    if top:
        lines.append(
            "De meeste gingen over "
            + ", ".join(f"{s.label.lower()} ({s.count.count})" for s in top)
            + "."
        )
    if themes:
        reinforced = sum(1 for t in themes if t.sources.reinforced)
        lines.append(
            f"We vonden {_plural(len(themes), 'thema', 'thema’s')} met minstens {minimum} "
            f"signalen; {_plural(reinforced, 'daarvan is', 'daarvan zijn')} een versterkt "
            "signaal (minstens drie organisaties)."
        )
    new = [t for t in themes if t.is_new]
    rising = [t for t in themes if t.is_rising]
    if new:
        lines.append("Nieuw: " + "; ".join(t.label for t in new[:5]) + ".")
    if rising:
        lines.append("Stijgend: " + "; ".join(t.label for t in rising[:5]) + ".")
    upward = Counter(
        t.escalation.level for t in themes if t.escalation.level in ("vlaanderen", "federaal")
    )
    if upward:
        lines.append(
            "Voor een hogere overheid: "
            + ", ".join(
                f"{_plural(n, 'thema', 'thema’s')} {_UPWARD[lvl]}"
                for lvl, n in sorted(upward.items())
            )
            + "."
        )
    if previous:
        returning = sum(1 for p in previous if p.current is not None)
        lines.append(
            f"Van de {_plural(len(previous), 'thema', 'thema’s')} uit de vorige bundel "
            f"{'kwam er' if returning == 1 else 'kwamen er'} {returning} opnieuw terug."
        )
    if review.suppressed:
        lines.append(
            "Enkele signalen (aantal verborgen) kregen geen levensdomein en wachten op een "
            "coördinator."
        )
    elif review.count:
        lines.append(
            f"{review.count} signalen kregen geen levensdomein en wachten op een coördinator."
        )
    return lines


def _method_note(scope: BundleScope, periods: list[Period]) -> str:
    baseline = (
        f"de {len(periods)} periodes ervoor ({periods[-1].label()} tot {periods[0].label()})"
        if periods
        else "geen eerdere periodes"
    )
    return (
        "Elk signaal telt één keer, bij zijn hoofddomein. Thema’s: signalen binnen hetzelfde "
        "levensdomein met dezelfde kernwoorden (lemma’s, gewogen met TF-IDF) zijn gegroepeerd "
        "wanneer hun gemiddelde gelijkenis (cosinus) minstens "
        f"{scope.theme_threshold:.2f} is; de woorden bij een thema zijn de woorden die minstens "
        "de helft van zijn signalen delen. Een thema is een versterkt signaal wanneer minstens "
        f"{REINFORCED_SOURCES} verschillende organisaties het meldden. Trend: vergeleken met de "
        f"vorige periode en met een basislijn over {baseline}. ‘Stijgend’ betekent dat een "
        "exacte conditionele binomiaaltoets (vergelijking van twee Poisson-ritmes, eenzijdig, "
        f"rekening houdend met de lengte van de periodes) p < {scope.alpha:g} geeft; ‘nieuw’ dat "
        "het thema in de basislijn en in de vorige bundel niet voorkwam. Advies over het "
        "bestuursniveau volgt uit de bevoegdheden van het levensdomein en de spreiding over "
        f"wijken en gemeenten. Privacy: groepen kleiner dan {scope.min_group_size} tonen we niet; "
        "voorbeelden zijn geanonimiseerde teksten uit thema’s die groot genoeg zijn."
    )
