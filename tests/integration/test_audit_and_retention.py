"""The audit log and the retention purge against the real PostgreSQL (and Kafka for the API).

Audit: every audited act writes exactly one entry, PostgreSQL refuses to change or remove one,
and only a network's coordinator reads them (their own network's). Retention: old free text is
gone, counts of published bundles are unchanged, new bundles over the purged period still count
the signals, and the purge is idempotent and audited.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from services.aggregator import retention
from services.aggregator.api import create_api
from services.aggregator.bundling import compile_for_group
from services.aggregator.domain.retention import retention_cutoff, without_free_text
from services.aggregator.periods import parse_period
from services.aggregator.settings import AggregatorSettings
from services.aggregator.storage import PostgresSignalStore, SteeringGroup, migrate
from services.classifier.storage import PostgresCorrectionStore
from services.common.access import AccessStore
from services.common.events import RecordRef
from services.common.kafka import ensure_topics
from services.common.settings import KafkaSettings, PostgresSettings
from services.intake.domain.privacy import scrub
from services.workflows import compile_group_bundle_files
from tests.factories import classified_signal, submitted_signal
from tests.integration.conftest import free_port, serving
from tests.integration.tenants import Q3, seed

ROOT = Path(__file__).resolve().parents[2]


def seinpost(postgres: PostgresSettings, *args: str) -> str:
    """Run the real ``seinpost`` command against the test's database; its standard output."""
    env = {
        **os.environ,
        "SEINPOST_POSTGRES_DSN": postgres.dsn.get_secret_value(),
        "SEINPOST_OPERATOR": "beheerder-test",
    }
    result = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "services.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


async def actions(pool: asyncpg.Pool[Any]) -> Counter[str]:
    return Counter(r["action"] for r in await pool.fetch("SELECT action FROM audit_log"))


async def test_each_act_writes_one_entry_the_log_is_append_only_and_only_a_coordinator_reads(
    kafka_settings: KafkaSettings, postgres_settings: PostgresSettings, tmp_path: Path
) -> None:
    await ensure_topics(kafka_settings)
    dsn = postgres_settings.dsn.get_secret_value()
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        alfa, beta = await seed(pool)
        # Per tenant: three tokens and one that was revoked right away.
        assert await actions(pool) == Counter({"token.created": 8, "token.revoked": 2})
        created = await pool.fetch(
            "SELECT * FROM audit_log WHERE action = 'token.created' AND subject = $1",
            alfa.network_id,
        )
        assert len(created) == 1
        assert created[0]["subject_kind"] == "coordinator"
        assert created[0]["actor_role"] == "operator"

        settings = AggregatorSettings(
            kafka=kafka_settings, postgres=postgres_settings, api_port=free_port()
        )
        app = create_api(settings, scrub=lambda text: scrub(text).text)
        group = {"Authorization": f"Bearer {alfa.tokens['steering_group']}"}
        coordinator = {"Authorization": f"Bearer {alfa.tokens['coordinator']}"}
        decision_id = str(uuid.uuid4())
        async with (
            serving(app, settings.api_port, what="aggregator API") as url,
            httpx.AsyncClient(base_url=url, timeout=60) as client,
        ):
            decide = (
                f"/v1/steering-groups/{alfa.steering_group_id}/themes/{alfa.theme_id}/decisions"
            )
            body = {"decision_id": decision_id, "status": "in_behandeling", "owner": "OCMW"}
            for _ in range(2):  # a retry of the same decision is one act, one entry
                assert (await client.post(decide, headers=group, json=body)).status_code == 202
            fix = {"domains": ["onderwijs", "inkomen"], "reason": "Bel 0478 12 34 56"}
            correct = f"/v1/signals/{alfa.signal_ids[0]}/corrections"
            answer = await client.post(correct, headers=coordinator, json=fix)
            assert answer.status_code == 202, answer.text
            bundle = f"/v1/steering-groups/{alfa.steering_group_id}/bundles/{alfa.bundle_id}"
            assert (await client.get(bundle, headers=group)).status_code == 200
            await compile_group_bundle_files(
                settings.model_copy(update={"bundle_dir": tmp_path}),
                steering_group_ids=[alfa.steering_group_id],
                period=Q3,
                out=tmp_path,
                publish=False,
            )
            await retention.purge(pool, before=date(2020, 1, 1))

            assert await actions(pool) == Counter(
                {
                    "token.created": 8,
                    "token.revoked": 2,
                    "decision.requested": 1,
                    "correction.requested": 1,
                    "bundle.exported": 2,  # one API download, one CLI export
                    "retention.purged": 1,
                }
            )
            [corrected] = await pool.fetch(
                "SELECT * FROM audit_log WHERE action = 'correction.requested'"
            )
            assert (corrected["actor_role"], corrected["actor_subject"]) == (
                "coordinator",
                alfa.network_id,
            )
            assert corrected["target"] == alfa.signal_ids[0]
            # Entries hold ids, roles and counts: never a text someone typed.
            assert "0478" not in str(await pool.fetch("SELECT * FROM audit_log"))

            # The coordinator reads their own network's log; nobody else reads it at all.
            mine = (await client.get("/v1/audit", headers=coordinator)).json()["entries"]
            assert {e["action"] for e in mine} == {
                "token.created",
                "token.revoked",
                "decision.requested",
                "correction.requested",
                "bundle.exported",
                "retention.purged",
            }
            subjects = {e["subject"]["id"] for e in mine}
            assert subjects == {
                alfa.network_id,
                alfa.steering_group_id,
                alfa.organisation_id,
                None,  # the purge concerns every network
            }
            other = {"Authorization": f"Bearer {beta.tokens['coordinator']}"}
            theirs = (await client.get("/v1/audit", headers=other)).json()["entries"]
            assert not {e["subject"]["id"] for e in theirs} & {
                alfa.network_id,
                alfa.steering_group_id,
                alfa.organisation_id,
            }
            assert {e["action"] for e in theirs} == {
                "token.created",
                "token.revoked",
                "retention.purged",
            }
            for kind in ("steering_group", "organisation"):
                denied = {"Authorization": f"Bearer {alfa.tokens[kind]}"}
                assert (await client.get("/v1/audit", headers=denied)).status_code == 403
            assert (await client.get("/v1/audit")).status_code == 401

        print(f"\naudit entries per action: {dict(sorted((await actions(pool)).items()))}")
        # Append-only, enforced by PostgreSQL itself.
        for statement in (
            "UPDATE audit_log SET actor_subject = 'iemand-anders'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await pool.execute(statement)
        assert sum((await actions(pool)).values()) == 15

        # The operator's view from the command line, filtered like the coordinator's.
        listed = seinpost(postgres_settings, "audit", "list", "--network", beta.network_id)
        lines = listed.strip().splitlines()
        assert len(lines) == len(theirs)
        assert alfa.organisation_id not in listed
        assert beta.organisation_id in listed
    finally:
        await pool.close()


OLD_PERIOD = parse_period("2024-Q1")
TODAY = date(2026, 11, 23)


def old_and_new_signals() -> tuple[list[Any], list[Any]]:
    old = [
        classified_signal(
            submitted_signal(
                observed_on=date(2024, 2, 1 + i),
                neighbourhood=None,
                text=f"Oudetekst: ouders kunnen de schooluitstap naar zee niet betalen ({i}).",
            ),
            ("onderwijs",),
        )
        for i in range(7)
    ]
    new = [
        classified_signal(
            submitted_signal(
                observed_on=date(2026, 8, 1 + i),
                neighbourhood=None,
                text=f"Nieuwetekst: de schoolfactuur voor de zeeklassen is te hoog ({i}).",
            ),
            ("onderwijs",),
        )
        for i in range(3)
    ]
    return old, new


async def test_the_purge_removes_old_text_keeps_counts_and_is_idempotent_and_audited(
    postgres_settings: PostgresSettings,
) -> None:
    pool = await asyncpg.create_pool(
        postgres_settings.dsn.get_secret_value(), min_size=1, max_size=2
    )
    try:
        async with pool.acquire() as connection:
            await migrate(connection)
        await AccessStore(pool).migrate()
        await PostgresCorrectionStore(pool).migrate()
        store = PostgresSignalStore(pool)
        old, new = old_and_new_signals()
        await store.store_classified(
            [(RecordRef("t", 0, i, None, None), c) for i, c in enumerate(old + new)]
        )
        group = SteeringGroup(
            steering_group_id="gent",
            name="Stuurgroep Gent",
            network_id=None,
            municipalities=("Gent",),
            neighbourhoods=None,
            domains_of_interest=None,
            cadence="quarterly",
            period_months=3,
            min_group_size=5,
            active_from=date(2024, 1, 1),
        )
        await store.upsert_steering_group(group)
        compiled = await compile_for_group(
            store, group, OLD_PERIOD, scheduled=False, baseline_periods=0
        )
        assert compiled is not None
        await store.mark_bundle_published(compiled.bundle)
        before_purge = compiled.bundle
        assert any(
            "Oudetekst" in e for s in before_purge.domains for t in s.themes for e in t.examples
        )
        old_id, new_id = old[0].signal.signal_id, new[0].signal.signal_id
        # Free text elsewhere: a correction's reason, the classifier's training copy, a note.
        await pool.execute(
            "INSERT INTO signal_corrections (correction_id, signal_id, domains, "
            "corrected_by_role, corrected_at, reason) VALUES ($1, $2, '{wonen}', 'coordinator', "
            "$3, 'Oudetekst in de reden')",
            uuid.uuid4(),
            old_id,
            datetime(2024, 3, 1, tzinfo=UTC),
        )
        await pool.execute(
            "INSERT INTO classifier_corrections (correction_id, signal_id, taxonomy_id, domains, "
            "text, municipality, corrected_by_role, corrected_at, reason) VALUES "
            "($1, $2, 'seinpost_v1', '{wonen}', 'Oudetekst als trainingsvoorbeeld', 'Gent', "
            "'coordinator', $3, 'reden')",
            uuid.uuid4(),
            old_id,
            datetime(2024, 3, 1, tzinfo=UTC),
        )
        await pool.execute(
            "INSERT INTO decisions (decision_id, steering_group_id, theme_id, status, note, "
            "decided_at, source_topic, source_partition, source_offset) VALUES "
            "($1, 'gent', 'x', 'geen_actie', 'Oudetekst in een notitie', $2, 't', 0, 0)",
            uuid.uuid4(),
            datetime(2024, 4, 1, tzinfo=UTC),
        )

        cutoff = retention_cutoff(TODAY, 24)
        assert cutoff == date(2024, 11, 23)
        dry = await retention.purge(pool, before=cutoff, dry_run=True)
        assert (dry.signals, dry.correction_reasons, dry.classifier_examples) == (7, 1, 1)
        assert (dry.decision_notes, dry.bundles) == (1, 1)
        assert (
            await pool.fetchval("SELECT count(*) FROM signals WHERE text_purged_at IS NOT NULL")
            == 0
        )
        assert await pool.fetchval("SELECT count(*) FROM audit_log") == 0

        report = await retention.purge(pool, before=cutoff)
        assert (report.signals, report.correction_reasons, report.classifier_examples) == (7, 1, 1)
        assert (report.decision_notes, report.bundles) == (1, 1)

        # Old free text gone everywhere; the new signals untouched.
        dump = str(
            [
                await pool.fetch(f"SELECT * FROM {table}")  # noqa: S608 - constant names
                for table in (
                    "signals",
                    "signal_corrections",
                    "classifier_corrections",
                    "decisions",
                    "bundles",
                )
            ]
        )
        assert "Oudetekst" not in dump
        assert "Nieuwetekst" in dump
        assert await pool.fetchval("SELECT text FROM signals WHERE signal_id = $1", old_id) == ""
        assert (
            await pool.fetchval("SELECT text FROM signals WHERE signal_id = $1", new_id)
        ).startswith("Nieuwetekst")
        # The classifier learns nothing from a purged example.
        assert await PostgresCorrectionStore(pool).training_examples("seinpost_v1") == []

        # The published bundle: every count the same, only example texts and notes removed.
        stored = await store.bundle(compiled.bundle.bundle_id)
        assert stored is not None
        assert stored.published_at is not None
        assert stored.bundle == without_free_text(before_purge)
        assert stored.bundle.signal_count == before_purge.signal_count
        assert stored.bundle.by_domain == before_purge.by_domain
        assert "Oudetekst" not in (stored.html or "")
        # And it is still immutable to anything but the purge.
        with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="immutable"):
            await pool.execute(
                "UPDATE bundles SET body = jsonb_set(body, '{title}', '\"anders\"') "
                "WHERE bundle_id = $1",
                stored.bundle_id,
            )

        # A new bundle over the purged period still counts every signal.
        again = await compile_for_group(
            store, group, OLD_PERIOD, scheduled=False, baseline_periods=0
        )
        assert again is not None
        assert again.version == 2
        assert again.bundle.signal_count.count == before_purge.signal_count.count == 7
        assert "Oudetekst" not in again.bundle.model_dump_json()

        # Idempotent: nothing left the second time, and each run is one audit entry.
        second = await retention.purge(pool, before=cutoff)
        assert (second.signals, second.correction_reasons, second.classifier_examples) == (0, 0, 0)
        assert (second.decision_notes, second.bundles) == (0, 1)  # version 2 is newly in scope
        third = await retention.purge(pool, before=cutoff)
        assert (third.signals, third.bundles) == (0, 0)
        entries = await pool.fetch(
            "SELECT details FROM audit_log WHERE action = 'retention.purged' ORDER BY entry_id"
        )
        assert len(entries) == 3
        assert '"signals": 7' in entries[0]["details"]

        print(
            f"\nretention purge before {cutoff}: {report.signals} signal texts, "
            f"{report.correction_reasons} correction reasons, {report.classifier_examples} "
            f"training texts, {report.decision_notes} decision notes, {report.bundles} bundle(s); "
            f"published bundle total {stored.bundle.signal_count.count} before and after, "
            f"recompiled {again.bundle.signal_count.count}; second run {second.signals} texts, "
            f"third run {third.bundles} bundles; audit entries {len(entries)}"
        )
        # The command line: a dry run finds nothing left.
        out = seinpost(
            postgres_settings, "retention", "purge", "--dry-run", "--before", str(cutoff)
        )
        assert "would remove" in out
        assert "signal texts:          0" in out
    finally:
        await pool.close()
