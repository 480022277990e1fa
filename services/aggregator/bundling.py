"""Compiling, storing, publishing and writing bundles: the I/O around ``compile_bundle``.

Order matters: a bundle is committed to PostgreSQL (with its themes) before it is published,
so the topic never announces a bundle the database does not have; the files come last. A
crash after the commit leaves the bundle unpublished, and ``republish_unpublished`` (run by
the scheduler and by ``seinpost bundle``) finishes the job.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

import structlog

from schemas.topics import municipality_key
from schemas.v1 import PolicyBundleV1, policy_bundle_event
from services.aggregator.domain.render import render_markdown
from services.aggregator.interim import BundleScope, compile_bundle
from services.aggregator.periods import Period, previous_periods
from services.aggregator.storage import PostgresSignalStore, SteeringGroup, ThemeRow
from services.common.kafka import Outgoing, Publisher
from services.common.settings import KafkaSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class BundleFiles:
    json: Path
    markdown: Path
    html: Path | None = None
    pdf: Path | None = None


@dataclass(frozen=True, slots=True)
class CompiledBundle:
    bundle: PolicyBundleV1
    steering_group_id: str | None
    version: int
    html: str | None


def themes_of(bundle: PolicyBundleV1) -> list[ThemeRow]:
    """The themes a bundle carries, with the signals in each (for decisions and feedback)."""
    themes: Sequence[Any] = getattr(bundle, "themes", None) or ()
    return [
        ThemeRow(
            theme_id=str(theme.theme_id),
            label=str(theme.label),
            domain=getattr(theme, "domain", None),
            signal_ids=tuple(getattr(theme, "signal_ids", ())),
        )
        for theme in themes
    ]


def render_html(bundle: PolicyBundleV1) -> str | None:
    """HTML for people, when the rendering module is there (it is owned by the bundle work)."""
    try:
        from services.aggregator import rendering  # type: ignore[attr-defined]
    except ImportError:
        return None
    html: str = rendering.render_html(bundle)
    return html


def scope_for(group: SteeringGroup, period: Period) -> BundleScope:
    return BundleScope(
        steering_group_id=group.steering_group_id,
        steering_group_name=group.name,
        municipalities=group.municipalities,
        neighbourhoods=group.neighbourhoods,
        domains_of_interest=group.domains_of_interest,
        min_group_size=group.min_group_size,
        period_start=period.start,
        period_end=period.end,
    )


async def _compile(
    store: PostgresSignalStore,
    scope: BundleScope,
    *,
    months: int,
    baseline_periods: int,
    version: int,
) -> PolicyBundleV1:
    period = Period(scope.period_start, scope.period_end)
    current = await store.scope_signals(
        scope.municipalities, period.start, period.end, scope.neighbourhoods
    )
    baseline = []
    earlier = previous_periods(period, months, baseline_periods)
    if earlier:
        baseline = await store.scope_signals(
            scope.municipalities, earlier[-1].start, earlier[0].end, scope.neighbourhoods
        )
    previous = await store.previous_outcomes(scope.steering_group_id, period.start)
    bundle = compile_bundle(
        scope,
        current,
        baseline,
        previous,
        compiled_at=datetime.now(UTC),
        bundle_id=uuid.uuid4(),
        version=version,
    )
    log.info(
        "bundle.compiled",
        bundle_id=str(bundle.bundle_id),
        steering_group_id=scope.steering_group_id,
        version=version,
        signals=len(current),
        baseline_signals=len(baseline),
    )
    return bundle


async def compile_for_group(
    store: PostgresSignalStore,
    group: SteeringGroup,
    period: Period,
    *,
    scheduled: bool,
    baseline_periods: int,
) -> CompiledBundle | None:
    """Compile and commit a bundle for a steering group and period.

    On demand, a bundle is always made: version n + 1 when the period has n. Scheduled, the
    period is compiled only if it has no bundle yet, and only by the replica that holds the
    period's lock; the others return None.
    """
    async with store.period_lock(
        group.steering_group_id, period.start, period.end, wait=not scheduled
    ) as held:
        if not held:
            return None
        existing = await store.bundle_versions(group.steering_group_id, period.start, period.end)
        if scheduled and existing:
            return None
        version = existing + 1
        bundle = await _compile(
            store,
            scope_for(group, period),
            months=group.period_months,
            baseline_periods=baseline_periods,
            version=version,
        )
        html = render_html(bundle)
        await store.save_bundle(
            bundle,
            steering_group_id=group.steering_group_id,
            version=version,
            trigger="scheduled" if scheduled else "on_demand",
            themes=themes_of(bundle),
            html=html,
        )
        return CompiledBundle(bundle, group.steering_group_id, version, html)


async def compile_ad_hoc(
    store: PostgresSignalStore,
    *,
    municipality: str,
    period_start: date,
    period_end: date,
    min_group_size: int,
) -> CompiledBundle:
    """A bundle for one municipality without a steering group (``--municipality``)."""
    scope = BundleScope(
        steering_group_id=f"gemeente-{municipality_key(municipality).decode()}",
        steering_group_name=municipality,
        municipalities=(municipality,),
        neighbourhoods=None,
        domains_of_interest=None,
        min_group_size=min_group_size,
        period_start=period_start,
        period_end=period_end,
    )
    bundle = await _compile(store, scope, months=1, baseline_periods=0, version=1)
    html = render_html(bundle)
    await store.save_bundle(bundle, themes=themes_of(bundle), html=html)
    return CompiledBundle(bundle, None, 1, html)


class PublicationMarker(Protocol):
    async def mark_bundle_published(self, bundle: PolicyBundleV1) -> None: ...


def bundle_key(bundle: PolicyBundleV1, steering_group_id: str | None) -> bytes:
    # One steering group's bundles stay in order in one partition.
    return (steering_group_id or municipality_key(bundle.municipality).decode()).encode()


async def publish_bundle(
    bundle: PolicyBundleV1,
    *,
    steering_group_id: str | None,
    store: PublicationMarker,
    publisher: Publisher,
    kafka: KafkaSettings,
) -> None:
    event = policy_bundle_event(bundle)
    await publisher.publish(
        Outgoing(kafka.bundles_topic, bundle_key(bundle, steering_group_id), event)
    )
    await store.mark_bundle_published(bundle)
    log.info("bundle.published", bundle_id=str(bundle.bundle_id), topic=kafka.bundles_topic)


async def republish_unpublished(
    store: PostgresSignalStore, publisher: Publisher, kafka: KafkaSettings, *, older_than_s: float
) -> list[uuid.UUID]:
    """Publish bundles that were committed but never published (a crash in between).

    The event id is the bundle id, so a consumer that saw the first attempt sees a duplicate
    it can recognise, never a different bundle.
    """
    done = []
    for stored in await store.unpublished_bundles(older_than_s=older_than_s):
        await publish_bundle(
            stored.bundle,
            steering_group_id=stored.steering_group_id,
            store=store,
            publisher=publisher,
            kafka=kafka,
        )
        done.append(stored.bundle_id)
    if done:
        log.warning("bundle.republished", bundles=[str(b) for b in done])
    return done


def file_stem(bundle: PolicyBundleV1, steering_group_id: str | None, version: int) -> str:
    area = steering_group_id or municipality_key(bundle.municipality).decode()
    stem = f"beleidsbundel-{area}-{bundle.period_start.isoformat()}-{bundle.period_end.isoformat()}"
    if steering_group_id is not None:
        stem += f"-v{version}"
    return stem.replace(" ", "-")


def render_pdf(html: str, path: Path) -> Path | None:
    try:
        from services.aggregator import rendering  # type: ignore[attr-defined]
    except ImportError:
        return None
    rendering.html_to_pdf(html, path)
    return path


def write_bundle_files(compiled: CompiledBundle, directory: Path) -> BundleFiles:
    bundle = compiled.bundle
    directory.mkdir(parents=True, exist_ok=True)
    stem = file_stem(bundle, compiled.steering_group_id, compiled.version)
    json_path = directory / f"{stem}.json"
    markdown_path = directory / f"{stem}.md"
    json_path.write_text(bundle.model_dump_json(indent=2) + "\n", encoding="utf-8")
    markdown_path.write_text(render_markdown(bundle), encoding="utf-8")
    html_path = pdf_path = None
    if compiled.html is not None:
        html_path = directory / f"{stem}.html"
        html_path.write_text(compiled.html, encoding="utf-8")
        pdf_path = render_pdf(compiled.html, directory / f"{stem}.pdf")
    return BundleFiles(json=json_path, markdown=markdown_path, html=html_path, pdf=pdf_path)
