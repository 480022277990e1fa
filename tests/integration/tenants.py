"""Two tenants side by side in one database, for access and privacy tests.

Tenant "alfa" (network, steering group and organisation in Gent) and tenant "beta" (the same in
Antwerpen). Every name, id and text of a tenant carries a distinctive marker, so a test can
search any response for the *other* tenant's markers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg

from schemas.v1 import SignalClassifiedV1
from services.aggregator.bundling import compile_for_group
from services.aggregator.periods import parse_period
from services.aggregator.storage import Network, PostgresSignalStore, SteeringGroup, migrate
from services.common.access import AccessStore, PrincipalKind
from services.common.events import RecordRef
from tests.factories import classified_signal, submitted_signal

Q3 = parse_period("2026-Q3")


@dataclass
class Tenant:
    key: str  # "alfa" or "beta"
    municipality: str
    marker: str  # a word found in every text of this tenant, and nowhere else
    network_id: str
    steering_group_id: str
    organisation_id: str
    signals: list[SignalClassifiedV1] = field(default_factory=list)
    bundle_id: uuid.UUID | None = None
    theme_id: str = ""
    tokens: dict[str, str] = field(default_factory=dict)  # kind -> secret
    revoked: str = ""

    @property
    def signal_ids(self) -> list[str]:
        return [str(c.signal.signal_id) for c in self.signals]

    def markers(self) -> list[str]:
        """Strings that identify this tenant's data: ids, names and the text marker."""
        found = [
            self.marker,
            self.network_id,
            self.steering_group_id,
            self.organisation_id,
            *self.signal_ids,
        ]
        if self.bundle_id is not None:
            found.append(str(self.bundle_id))
        return found


def tenant(key: str, municipality: str) -> Tenant:
    return Tenant(
        key=key,
        municipality=municipality,
        marker=f"Merkwoord{key.capitalize()}",
        network_id=f"netwerk-{key}",
        steering_group_id=f"stuurgroep-{key}",
        organisation_id=f"organisatie-{key}",
    )


def theme_signals(t: Tenant, count: int = 6) -> list[SignalClassifiedV1]:
    """``count`` signals on one problem (a theme the bundle shows, with example texts)."""
    return [
        classified_signal(
            submitted_signal(
                observed_on=date(2026, 8, 1 + i),
                municipality=t.municipality,
                neighbourhood=None,
                organisation=t.organisation_id,
                text=f"Ouders kunnen de schooluitstap naar zee niet betalen ({t.marker}).",
            ),
            ("onderwijs",),
        )
        for i in range(count)
    ]


async def seed(pool: asyncpg.Pool[Any]) -> tuple[Tenant, Tenant]:
    """Both tenants with signals, a compiled bundle with a theme, and every kind of token."""
    async with pool.acquire() as connection:
        await migrate(connection)
    store = PostgresSignalStore(pool)
    access = AccessStore(pool)
    await access.migrate()
    alfa, beta = tenant("alfa", "Gent"), tenant("beta", "Antwerpen")
    offset = 0
    for t in (alfa, beta):
        t.signals = theme_signals(t)
        await store.store_classified(
            [(RecordRef("t", 0, offset + i, None, None), c) for i, c in enumerate(t.signals)]
        )
        offset += len(t.signals)
        await store.upsert_network(Network(t.network_id, f"Netwerk {t.marker}"))
        group = SteeringGroup(
            steering_group_id=t.steering_group_id,
            name=f"Stuurgroep {t.marker}",
            network_id=t.network_id,
            municipalities=(t.municipality,),
            neighbourhoods=None,
            domains_of_interest=None,
            cadence="quarterly",
            period_months=3,
            min_group_size=5,
            active_from=date(2026, 1, 1),
        )
        await store.upsert_steering_group(group)
        compiled = await compile_for_group(store, group, Q3, scheduled=False, baseline_periods=0)
        assert compiled is not None
        await store.mark_bundle_published(compiled.bundle)
        t.bundle_id = compiled.bundle.bundle_id
        [theme] = [th for section in compiled.bundle.domains for th in section.themes]
        assert theme.examples, "the theme must quote examples, or the leak check proves nothing"
        t.theme_id = theme.theme_id
        await access.add_organisation(
            t.organisation_id, f"Organisatie {t.marker}", [t.municipality]
        )
        for kind, subject in (
            (PrincipalKind.ORGANISATION, t.organisation_id),
            (PrincipalKind.STEERING_GROUP, t.steering_group_id),
            (PrincipalKind.COORDINATOR, t.network_id),
        ):
            t.tokens[kind.value] = (await access.create_token(kind, subject, "test")).secret
        revoked = await access.create_token(PrincipalKind.ORGANISATION, t.organisation_id, "oud")
        assert await access.revoke_token(revoked.token_id)
        t.revoked = revoked.secret
    return alfa, beta
