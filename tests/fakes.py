"""In-memory twins of the Kafka publisher and the signal store, for handler unit tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from schemas.v1 import DecisionV1, PolicyBundleV1, SignalClassifiedV1
from services.aggregator.domain.bundle import SignalRecord
from services.common.events import RecordRef
from services.common.kafka import Outgoing


class FakePublisher:
    def __init__(self, *, fail: bool = False) -> None:
        self.published: list[Outgoing] = []
        self.fail = fail

    async def publish(self, outgoing: Outgoing) -> Any:
        if self.fail:
            raise TimeoutError("no acknowledgement")
        self.published.append(outgoing)

    async def publish_all(self, items: Iterable[Outgoing]) -> None:
        for item in items:
            await self.publish(item)


class InMemorySignalStore:
    """Same idempotency rules as the PostgreSQL store: first write of a signal_id wins."""

    def __init__(self) -> None:
        self.signals: dict[Any, SignalClassifiedV1] = {}
        self.bundles: dict[Any, PolicyBundleV1] = {}
        self.published: set[Any] = set()
        self.decisions: dict[Any, DecisionV1] = {}

    async def store_classified(self, items: Sequence[tuple[RecordRef, SignalClassifiedV1]]) -> int:
        new = 0
        for _, classified in items:
            if classified.signal.signal_id not in self.signals:
                self.signals[classified.signal.signal_id] = classified
                new += 1
        return new

    async def store_decisions(self, items: Sequence[tuple[RecordRef, DecisionV1]]) -> int:
        new = 0
        for _, decision in items:
            if decision.decision_id not in self.decisions:
                self.decisions[decision.decision_id] = decision
                new += 1
        return new

    async def signal_records(
        self, municipalities: Sequence[str], period_start: date, period_end: date
    ) -> list[SignalRecord]:
        wanted = {m.casefold() for m in municipalities}
        return [
            SignalRecord.of_classified(c)
            for c in self.signals.values()
            if c.signal.municipality.casefold() in wanted
            and period_start <= c.signal.observed_on <= period_end
        ]

    async def save_bundle(self, bundle: PolicyBundleV1) -> None:
        self.bundles.setdefault(bundle.bundle_id, bundle)

    async def mark_bundle_published(self, bundle: PolicyBundleV1) -> None:
        self.published.add(bundle.bundle_id)
