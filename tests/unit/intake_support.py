"""In-memory twins for intake's HTTP tests: Kafka link, PostgreSQL backend, tokens."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from services.common.access import DEFAULT_SCOPES, Principal, PrincipalKind, area_key
from services.common.kafka import Outgoing
from services.common.settings import KafkaSettings
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.intake.storage import InMemorySubmissionStore, Reservation
from tests.fakes import FakePublisher

TOKEN = "spt_" + "g" * 43  # organisation basisschool-de-regenboog, area Gent
OTHER_TOKEN = "spt_" + "a" * 43  # organisation clb-antwerpen, area Antwerpen
KOBO_TOKEN = "spt_" + "k" * 43  # caw-oost-vlaanderen, area Gent (owner of the Kobo form)
ODK_TOKEN = "spt_" + "o" * 43  # samenlevingsopbouw-antwerpen (owner of the ODK form)
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def principal(subject: str, *municipalities: str) -> Principal:
    return Principal(
        token_id=uuid.uuid5(uuid.NAMESPACE_DNS, subject),
        kind=PrincipalKind.ORGANISATION,
        subject=subject,
        label=f"test {subject}",
        municipalities=frozenset(area_key(m) for m in municipalities),
        scopes=DEFAULT_SCOPES[PrincipalKind.ORGANISATION],
    )


PRINCIPALS = {
    TOKEN: principal("basisschool-de-regenboog", "Gent"),
    OTHER_TOKEN: principal("clb-antwerpen", "Antwerpen"),
    KOBO_TOKEN: principal("caw-oost-vlaanderen", "Gent"),
    ODK_TOKEN: principal("samenlevingsopbouw-antwerpen", "Antwerpen"),
}


class FakeLink:
    """Stands in for Kafka: records what would have been published, or fails like Kafka down."""

    def __init__(self, _: IntakeSettings, *, up: bool = True, failing: bool = False) -> None:
        self.connected = asyncio.Event()
        self.publisher = FakePublisher(fail=failing)
        self._up = up

    @property
    def published(self) -> list[Outgoing]:
        return self.publisher.published

    def start(self) -> None:
        if self._up:
            self.connected.set()

    async def stop(self) -> None:
        return None


class FakeAuthenticator:
    def __init__(self, principals: dict[str, Principal]) -> None:
        self.principals = principals

    async def authenticate(self, secret: str) -> Principal | None:
        return self.principals.get(secret)


class FakeBackend:
    def __init__(self, _: IntakeSettings) -> None:
        self.store = InMemorySubmissionStore()
        self.authenticator = FakeAuthenticator(dict(PRINCIPALS))
        self.ready = asyncio.Event()

    def start(self) -> None:
        self.ready.set()

    async def stop(self) -> None:
        return None


SETTINGS = IntakeSettings(kafka=KafkaSettings(topic_namespace="unit."), max_body_bytes=4096)


class Harness:
    def __init__(
        self,
        settings: IntakeSettings = SETTINGS,
        clock: Callable[[], float] | None = None,
        **link_options: Any,
    ) -> None:
        self.links: list[FakeLink] = []
        self.backends: list[FakeBackend] = []

        def link_factory(s: IntakeSettings) -> FakeLink:
            self.links.append(FakeLink(s, **link_options))
            return self.links[-1]

        def backend_factory(s: IntakeSettings) -> FakeBackend:
            self.backends.append(FakeBackend(s))
            return self.backends[-1]

        extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
        self.client = TestClient(
            create_app(
                settings, link_factory=link_factory, backend_factory=backend_factory, **extra
            ),
            headers=AUTH,
        )

    @property
    def published(self) -> list[Outgoing]:
        return self.links[0].published

    @property
    def store(self) -> InMemorySubmissionStore:
        return self.backends[0].store


def reservation() -> Reservation:
    """A new signal's idempotency claim, as intake makes one per request."""
    return Reservation(
        signal_id=uuid.uuid4(),
        content_hash=b"\x00" * 32,
        organisation="org",
        received_at=datetime(2026, 11, 20, tzinfo=UTC),
        redactions=(),
    )
