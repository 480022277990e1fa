"""Intake's API against the real Kafka broker and PostgreSQL: tokens, idempotency (also
across a restart), concurrent duplicates, batch, rate limits, options and the connectors."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from schemas.v1 import SignalSubmittedEventV1
from services.common.access import AccessStore
from services.common.postgres import create_pool
from services.common.settings import KafkaSettings, PostgresSettings
from services.intake.connectors import KOBO_EXAMPLE, ODK_EXAMPLE
from services.intake.settings import IntakeSettings
from tests.factories import submission_body
from tests.integration.conftest import free_port, issue_token, running_intake
from tests.integration.test_pipeline import read_topic


@dataclass
class Intake:
    url: str
    settings: IntakeSettings
    gent: str  # token of basisschool-de-regenboog (Gent)
    antwerpen: str  # token of clb-antwerpen (Antwerpen)

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token or self.gent}"} if token != "" else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)

    async def events(self, at_least: int) -> list[SignalSubmittedEventV1]:
        values = await read_topic(
            self.settings.kafka.bootstrap_servers,
            self.settings.kafka.submitted_topic,
            at_least=at_least,
        )
        return [SignalSubmittedEventV1.model_validate_json(v) for v in values]


def _settings(kafka: KafkaSettings, postgres: PostgresSettings, **extra: object) -> IntakeSettings:
    return IntakeSettings(kafka=kafka, postgres=postgres, port=free_port(), **extra)  # type: ignore[arg-type]


@pytest.fixture
async def intake(
    kafka_settings: KafkaSettings, postgres_settings: PostgresSettings
) -> AsyncIterator[Intake]:
    settings = _settings(kafka_settings, postgres_settings)
    gent = await issue_token(postgres_settings, "basisschool-de-regenboog", ["Gent"])
    antwerpen = await issue_token(postgres_settings, "clb-antwerpen", ["Antwerpen"])
    async with running_intake(settings) as url:
        yield Intake(url, settings, gent, antwerpen)


async def test_tokens_decide_who_may_submit_where(
    intake: Intake, postgres_settings: PostgresSettings
) -> None:
    revoked = await issue_token(postgres_settings, "ocmw-gent", ["Gent"])
    pool = await create_pool(postgres_settings)
    try:
        store = AccessStore(pool)
        [info] = [t for t in await store.list_tokens("ocmw-gent")]
        assert await store.revoke_token(info.token_id)
    finally:
        await pool.close()
    body = submission_body()
    async with intake.client("") as anonymous:
        response = await anonymous.post("/v1/signals", json=body)
        assert (response.status_code, response.json()["error"]) == (401, "token_missing")
    async with intake.client("spt_" + "q" * 43) as bad:
        response = await bad.post("/v1/signals", json=body)
        assert (response.status_code, response.json()["error"]) == (401, "token_invalid")
    async with intake.client(revoked) as gone:
        response = await gone.post("/v1/signals", json={**body, "organisation": "ocmw-gent"})
        assert (response.status_code, response.json()["error"]) == (401, "token_invalid")
    async with intake.client(intake.antwerpen) as antwerpen:
        del body["organisation"]
        response = await antwerpen.post("/v1/signals", json=body)
        assert (response.status_code, response.json()["error"]) == (403, "municipality_not_allowed")
    async with intake.client() as gent:
        response = await gent.post("/v1/signals", json=body)
        assert response.status_code == 202, response.text
    [event] = await intake.events(at_least=1)
    assert event.data.organisation == "basisschool-de-regenboog"  # from the token


async def test_idempotency_same_200_different_409_concurrent_once(intake: Intake) -> None:
    body = submission_body()
    async with intake.client() as client:
        first = await client.post("/v1/signals", json=body)
        again = await client.post("/v1/signals", json=body)
        assert (first.status_code, again.status_code) == (202, 200)
        assert again.json() == first.json()
        other = await client.post("/v1/signals", json={**body, "families_count": 7})
        assert (other.status_code, other.json()["error"]) == (409, "signal_id_conflict")

        racing = submission_body()
        answers = await asyncio.gather(
            *(client.post("/v1/signals", json=racing) for _ in range(25))
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200] * 24 + [202]
        assert len({a.json()["received_at"] for a in answers}) == 1
        marker = submission_body()  # published last: when it is read, everything before is
        assert (await client.post("/v1/signals", json=marker)).status_code == 202
    events = await intake.events(at_least=3)
    ids = [str(e.data.signal_id) for e in events]
    assert ids.count(body["signal_id"]) == 1
    assert ids.count(racing["signal_id"]) == 1
    assert marker["signal_id"] in ids


async def test_a_claim_without_its_published_mark_is_republished_identically(
    kafka_settings: KafkaSettings, postgres_settings: PostgresSettings
) -> None:
    """The process stopped between Kafka's acknowledgement and the mark: after a restart, the
    client's retry publishes the identical event again (consumers keep one) and gets 200."""
    token = await issue_token(postgres_settings, "basisschool-de-regenboog", ["Gent"])
    headers = {"Authorization": f"Bearer {token}"}
    body = submission_body()
    settings = _settings(kafka_settings, postgres_settings)
    async with running_intake(settings) as url, httpx.AsyncClient(base_url=url) as client:
        first = await client.post("/v1/signals", json=body, headers=headers)
        assert first.status_code == 202
    connection = await asyncpg.connect(postgres_settings.dsn.get_secret_value())
    try:
        assert await connection.fetchval(
            "SELECT published FROM intake_submissions WHERE signal_id = $1",
            uuid.UUID(body["signal_id"]),
        )
        await connection.execute("UPDATE intake_submissions SET published = false")
    finally:
        await connection.close()
    restarted = settings.model_copy(update={"port": free_port()})
    async with running_intake(restarted) as url, httpx.AsyncClient(base_url=url) as client:
        retry = await client.post("/v1/signals", json=body, headers=headers)
        assert retry.status_code == 200
        assert retry.json()["received_at"] == first.json()["received_at"]
    values = await read_topic(
        kafka_settings.bootstrap_servers, kafka_settings.submitted_topic, at_least=2
    )
    first_event, second_event = (SignalSubmittedEventV1.model_validate_json(v) for v in values)
    assert first_event == second_event  # same id, same data: one signal downstream


async def test_batch_answers_each_signal(intake: Intake) -> None:
    good, duplicate = submission_body(), submission_body()
    async with intake.client() as client:
        assert (await client.post("/v1/signals", json=duplicate)).status_code == 202
        signals = [
            good,
            submission_body(municipality="Atlantis"),
            duplicate,
            submission_body(municipality="Antwerpen", neighbourhood="Kiel"),
            {**duplicate, "text": "Een ander verhaal over de schoolfactuur."},
        ]
        response = await client.post("/v1/signals/batch", json={"signals": signals})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["status"], r["outcome"]) for r in results] == [
        (202, "accepted"),
        (422, "invalid"),
        (200, "duplicate"),
        (403, "forbidden"),
        (409, "conflict"),
    ]
    assert results[1]["error"]["problems"][0]["code"] == "municipality_unknown"


async def test_rate_limit_gives_429_with_retry_after(
    kafka_settings: KafkaSettings, postgres_settings: PostgresSettings
) -> None:
    token = await issue_token(postgres_settings, "basisschool-de-regenboog", ["Gent"])
    settings = _settings(
        kafka_settings, postgres_settings, rate_limit_per_s=0.5, rate_limit_burst=3
    )
    async with (
        running_intake(settings) as url,
        httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client,
    ):
        statuses = [
            (await client.post("/v1/signals", json=submission_body())).status_code for _ in range(4)
        ]
        assert statuses == [202, 202, 202, 429]
        limited = await client.post("/v1/signals", json=submission_body())
        assert limited.json()["error"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        metrics = (await client.get("/metrics")).text
        assert 'seinpost_intake_rejections_total{reason="rate_limited"}' in metrics or (
            'route="/v1/signals",status="429"' in metrics
        )


async def test_form_config_and_privacy_check(intake: Intake) -> None:
    async with intake.client(intake.antwerpen) as client:
        config = (await client.get("/v1/form-config")).json()
        assert [m["name"] for m in config["municipalities"]] == ["Antwerpen"]
        assert "Kiel" in config["municipalities"][0]["neighbourhoods"]
        check = await client.post("/v1/privacy-check", json={"text": "Mail naar an@voorbeeld.be"})
        assert check.json()["contains_personal_data"] is True
        assert "an@voorbeeld.be" not in check.json()["scrubbed_text"]


async def test_kobo_and_odk_submissions_arrive_once(
    intake: Intake, postgres_settings: PostgresSettings
) -> None:
    kobo = await issue_token(postgres_settings, "caw-oost-vlaanderen", ["Gent"])
    odk = await issue_token(postgres_settings, "samenlevingsopbouw-antwerpen", ["Antwerpen"])
    async with intake.client(kobo) as client:
        url = "/v1/connectors/kobo/seinpost-signaal-kobo"
        assert (await client.post(url, json=KOBO_EXAMPLE)).status_code == 202
        assert (await client.post(url, json=KOBO_EXAMPLE)).status_code == 200  # Kobo retried
        wrong = await client.post("/v1/connectors/odk/seinpost_signaal", json=ODK_EXAMPLE)
        assert wrong.status_code == 403
    async with intake.client(odk) as client:
        response = await client.post("/v1/connectors/odk/seinpost_signaal", json=ODK_EXAMPLE)
        assert response.status_code == 202, response.text
    events = await intake.events(at_least=2)
    assert sorted(e.data.organisation for e in events) == [
        "caw-oost-vlaanderen",
        "samenlevingsopbouw-antwerpen",
    ]
    assert {e.data.municipality for e in events} == {"Gent", "Antwerpen"}
