"""Compiling, storing, publishing and writing bundles: the I/O around ``compile_bundle``.

Order matters: a bundle is committed to PostgreSQL (with its themes) before it is published,
so the topic never announces a bundle the database does not have; the files come last. A
crash after the commit leaves the bundle unpublished, and ``republish_unpublished`` (run by
the scheduler and by ``seinpost bundle``) finishes the job.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

import structlog

from schemas.topics import municipality_key
from schemas.v1 import PolicyBundleV1, policy_bundle_event
from services.aggregator.domain.bundle import (
    BundleScope,
    Compilation,
    SignalRecord,
    baseline_window,
    compile_with_members,
)
from services.aggregator.domain.render import render_html
from services.aggregator.periods import Period
from services.aggregator.rendering import html_to_pdf
from services.aggregator.storage import PostgresSignalStore, SteeringGroup, ThemeRow
from services.common.kafka import Outgoing, Publisher
from services.common.settings import KafkaSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class BundleFiles:
    json: Path
    html: Path
    pdf: Path


@dataclass(frozen=True, slots=True)
class CompiledBundle:
    bundle: PolicyBundleV1
    steering_group_id: str | None
    version: int
    html: str


def themes_of(compilation: Compilation) -> list[ThemeRow]:
    """The themes a bundle shows, with their signals, for decisions and feedback.

    The published bundle does not name the signals of a theme; the membership comes from the
    compilation beside it and is stored only in ``theme_signals``.
    """
    bundle = compilation.bundle
    return [
        ThemeRow(
            theme_id=theme.theme_id,
            label=theme.label,
            domain=theme.domain,
            signal_ids=compilation.theme_members.get(theme.theme_id, ()),
            terms=tuple(theme.shared_terms),
            signal_count=theme.signal_count.count or 0,
        )
        for section in bundle.domains
        for theme in section.themes
    ]


def scope_for(group: SteeringGroup, period: Period, baseline_periods: int) -> BundleScope:
    return BundleScope(
        steering_group_id=group.steering_group_id,
        steering_group_name=group.name,
        municipalities=frozenset(group.municipalities),
        neighbourhoods=frozenset(group.neighbourhoods) if group.neighbourhoods else None,
        domains_of_interest=(
            frozenset(group.domains_of_interest) if group.domains_of_interest else None
        ),
        min_group_size=group.min_group_size,
        period_start=period.start,
        period_end=period.end,
        baseline_periods=baseline_periods,
    )


async def _compile(store: PostgresSignalStore, scope: BundleScope, *, version: int) -> Compilation:
    period = Period(scope.period_start, scope.period_end)
    neighbourhoods = sorted(scope.neighbourhoods) if scope.neighbourhoods else None
    municipalities = sorted(scope.municipalities)
    fetches: list[Awaitable[list[SignalRecord]]] = [
        store.scope_signals(municipalities, period.start, period.end, neighbourhoods)
    ]
    if scope.baseline_periods:
        start, end = baseline_window(scope)
        # The bundle quotes only this period's texts; the baseline is compared on terms.
        fetches.append(
            store.scope_signals(municipalities, start, end, neighbourhoods, with_text=False)
        )
    # On connections of their own, so PostgreSQL runs the queries side by side while this
    # process decodes whichever rows arrive first.
    (current, *rest), previous = await asyncio.gather(
        asyncio.gather(*fetches),
        store.previous_outcomes(scope.steering_group_id, period.start),
    )
    baseline = rest[0] if rest else []
    compilation = compile_with_members(
        scope,
        current,
        baseline,
        previous,
        compiled_at=datetime.now(UTC),
        bundle_id=uuid.uuid4(),
        version=version,
    )
    bundle = compilation.bundle
    log.info(
        "bundle.compiled",
        bundle_id=str(bundle.bundle_id),
        steering_group_id=scope.steering_group_id,
        version=version,
        signals=len(current),
        baseline_signals=len(baseline),
    )
    return compilation


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
        compilation = await _compile(
            store, scope_for(group, period, baseline_periods), version=version
        )
        bundle = compilation.bundle
        html = render_html(bundle)
        await store.save_bundle(
            bundle,
            steering_group_id=group.steering_group_id,
            version=version,
            trigger="scheduled" if scheduled else "on_demand",
            themes=themes_of(compilation),
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
        municipalities=frozenset({municipality}),
        neighbourhoods=None,
        domains_of_interest=None,
        min_group_size=min_group_size,
        period_start=period_start,
        period_end=period_end,
        baseline_periods=0,
    )
    compilation = await _compile(store, scope, version=1)
    bundle = compilation.bundle
    html = render_html(bundle)
    await store.save_bundle(bundle, themes=themes_of(compilation), html=html)
    return CompiledBundle(bundle, None, 1, html)


class PublicationMarker(Protocol):
    async def mark_bundle_published(self, bundle: PolicyBundleV1) -> None: ...


def bundle_key(bundle: PolicyBundleV1, steering_group_id: str | None) -> bytes:
    # One steering group's bundles stay in order in one partition.
    return (steering_group_id or bundle.area.steering_group_id).encode()


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
    area = steering_group_id or bundle.area.steering_group_id
    stem = f"beleidsbundel-{area}-{bundle.period_start.isoformat()}-{bundle.period_end.isoformat()}"
    if steering_group_id is not None:
        stem += f"-v{version}"
    return stem.replace(" ", "-")


def write_bundle_files(compiled: CompiledBundle, directory: Path) -> BundleFiles:
    bundle = compiled.bundle
    directory.mkdir(parents=True, exist_ok=True)
    stem = file_stem(bundle, compiled.steering_group_id, compiled.version)
    json_path = directory / f"{stem}.json"
    html_path = directory / f"{stem}.html"
    pdf_path = directory / f"{stem}.pdf"
    json_path.write_text(bundle.model_dump_json(indent=2) + "\n", encoding="utf-8")
    html_path.write_text(compiled.html, encoding="utf-8")
    pdf_path.write_bytes(html_to_pdf(compiled.html))
    return BundleFiles(json=json_path, html=html_path, pdf=pdf_path)
