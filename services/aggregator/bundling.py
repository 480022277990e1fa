"""Compiling, storing, publishing and writing a bundle: the I/O around ``compile_bundle``.

Order matters: the bundle is committed to PostgreSQL before it is published, so the topic
never announces a bundle the database does not have.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import structlog

from schemas.topics import municipality_key
from schemas.v1 import PolicyBundleV1, policy_bundle_event
from services.aggregator.domain.bundle import BundleScope, baseline_window, compile_bundle
from services.aggregator.domain.render import render_html
from services.aggregator.rendering import html_to_pdf
from services.aggregator.storage import SignalStore
from services.common.kafka import Outgoing, Publisher
from services.common.settings import KafkaSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class BundleFiles:
    json: Path
    html: Path
    pdf: Path


async def compile_and_store(
    store: SignalStore,
    *,
    municipality: str,
    period_start: date,
    period_end: date,
    min_group_size: int,
) -> PolicyBundleV1:
    # One municipality as its own area until steering groups are stored (platform work).
    scope = BundleScope(
        steering_group_id=f"gemeente-{municipality_key(municipality).decode()}",
        steering_group_name=municipality,
        municipalities=frozenset({municipality}),
        neighbourhoods=None,
        domains_of_interest=None,
        min_group_size=min_group_size,
        period_start=period_start,
        period_end=period_end,
    )
    facts = await store.signal_records([municipality], period_start, period_end)
    baseline_start, baseline_end = baseline_window(scope)
    baseline = await store.signal_records([municipality], baseline_start, baseline_end)
    bundle = compile_bundle(
        scope, facts, baseline, [], compiled_at=datetime.now(UTC), bundle_id=uuid.uuid4()
    )
    await store.save_bundle(bundle)
    log.info("bundle.compiled", bundle_id=str(bundle.bundle_id), signals=len(facts))
    return bundle


async def publish_bundle(
    bundle: PolicyBundleV1, *, store: SignalStore, publisher: Publisher, kafka: KafkaSettings
) -> None:
    event = policy_bundle_event(bundle)
    await publisher.publish(
        Outgoing(kafka.bundles_topic, bundle.area.steering_group_id.encode(), event)
    )
    await store.mark_bundle_published(bundle)
    log.info("bundle.published", bundle_id=str(bundle.bundle_id), topic=kafka.bundles_topic)


def write_bundle_files(bundle: PolicyBundleV1, directory: Path) -> BundleFiles:
    directory.mkdir(parents=True, exist_ok=True)
    stem = (
        f"beleidsbundel-{bundle.area.steering_group_id}-"
        f"{bundle.period_start.isoformat()}-{bundle.period_end.isoformat()}"
    ).replace(" ", "-")
    json_path = directory / f"{stem}.json"
    html_path = directory / f"{stem}.html"
    pdf_path = directory / f"{stem}.pdf"
    json_path.write_text(bundle.model_dump_json(indent=2) + "\n", encoding="utf-8")
    html = render_html(bundle)
    html_path.write_text(html, encoding="utf-8")
    pdf_path.write_bytes(html_to_pdf(html))
    return BundleFiles(json=json_path, html=html_path, pdf=pdf_path)
