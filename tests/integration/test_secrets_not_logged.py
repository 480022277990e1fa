"""No secret and no personal data in any log line of a full run.

Intake, classifier, aggregator and the aggregator API run in this process with every log line
(DEBUG and up, through the production JSON pipeline) copied into a buffer; the ``seinpost``
command runs as real subprocesses whose log output (stderr, JSON) is kept too. The run covers
token creation and revocation, submissions full of raw personal data (names, national register
numbers, phone numbers, e-mail and street addresses, IBANs, birth dates) on the happy path and
on error paths, a decision, a correction, bundles compiled from the command line and
downloaded through the API, a retention dry run and the audit log. Then every token secret and
every raw personal value is searched for in all of it.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import structlog

from services.aggregator.api import create_api
from services.aggregator.storage import Network, PostgresSignalStore, SteeringGroup
from services.intake.domain.privacy import scrub
from tests.factories import submission_body
from tests.integration.conftest import Pipeline, free_port, serving, wait_for

ROOT = Path(__file__).resolve().parents[2]

# Raw personal data as a reporter might type it. Each value is distinctive enough that finding
# it in a log can only mean it leaked.
PERSONAL = {
    "name": "Wannes Vermeulenberghe",
    "name2": "Fatima El Khattabi",
    "national_register": "85.07.30-033.28",
    "national_register_plain": "85073003328",
    "phone": "0478 12 34 56",
    "phone_intl": "+32 479 65 43 21",
    "email": "wannes.vermeulenberghe@telenet.be",
    "iban": "BE68 5390 0754 7034",
    "iban_plain": "BE68539007547034",
    "street": "Sleepstraat 187",
    "birth_date": "14/03/2015",
}


def personal_text(i: int) -> str:
    p = PERSONAL
    return (
        f"Mama {p['name']} (rijksregister {p['national_register']}, geboren {p['birth_date']}) "
        f"woont in de {p['street']} en kan de schooluitstap naar zee niet betalen ({i}). "
        f"Bel {p['phone']} of {p['phone_intl']}, mail {p['email']}, "
        f"rekening {p['iban']}, buurvrouw {p['name2']}, rrn {p['national_register_plain']}, "
        f"iban {p['iban_plain']}."
    )


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log line of this process, rendered exactly as in production, at DEBUG."""
    root = logging.getLogger()
    # The handler configure_logging installed (conftest); pytest adds capture handlers beside it.
    [production] = [
        h for h in root.handlers if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
    ]
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(production.formatter)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


class Cli:
    """``seinpost`` as a real process; collects its log output (stderr) and its stdout."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.env = {
            **os.environ,
            "SEINPOST_POSTGRES_DSN": pipeline.postgres.dsn.get_secret_value(),
            "SEINPOST_KAFKA_BOOTSTRAP_SERVERS": pipeline.kafka.bootstrap_servers,
            "SEINPOST_KAFKA_TOPIC_NAMESPACE": pipeline.kafka.topic_namespace,
            "SEINPOST_LOG_LEVEL": "DEBUG",
            "SEINPOST_LOG_FORMAT": "json",
        }
        self.logs: list[str] = []
        self.outputs: list[str] = []

    def __call__(self, *args: str, keep_output: bool = True) -> str:
        result = subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "services.cli", *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=ROOT,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        self.logs.append(result.stderr)
        if keep_output:
            self.outputs.append(result.stdout)
        return result.stdout


def secret_of(output: str) -> str:
    match = re.search(r"secret:\s+(spt_\S+)", output)
    assert match, output
    return match.group(1)


async def test_a_full_run_logs_no_secret_and_no_personal_data(
    captured_logs: io.StringIO, pipeline: Pipeline, tmp_path: Path
) -> None:
    cli = Cli(pipeline)
    store = PostgresSignalStore(pipeline.pool)
    await store.upsert_network(Network("netwerk-gent", "Netwerk Gent"))
    await store.upsert_steering_group(
        SteeringGroup(
            steering_group_id="gent",
            name="Stuurgroep Gent",
            network_id="netwerk-gent",
            municipalities=("Gent",),
            neighbourhoods=None,
            domains_of_interest=None,
            cadence="quarterly",
            period_months=3,
            min_group_size=5,
            active_from=date(2026, 1, 1),
        )
    )
    # Tokens: made at the command line; the secret is printed once (stdout), never logged.
    group_secret = secret_of(
        cli("token", "create", "--steering-group", "gent", "--label", "t", keep_output=False)
    )
    coordinator_secret = secret_of(
        cli("token", "create", "--coordinator", "netwerk-gent", "--label", "t", keep_output=False)
    )
    spare = cli(
        "token", "create", "--coordinator", "netwerk-gent", "--label", "x", keep_output=False
    )
    spare_id = re.search(r"token_id:\s+(\S+)", spare)
    assert spare_id
    spare_secret = secret_of(spare)
    cli("token", "revoke", spare_id.group(1))
    wrong_secret = "spt_" + "Q" * 43  # an unknown token sent by a confused client

    headers = pipeline.headers
    async with httpx.AsyncClient(base_url=pipeline.url, timeout=60) as client:
        accepted = []
        for i in range(6):
            body = submission_body(text=personal_text(i), neighbourhood=None)
            del body["organisation"]
            answer = await client.post("/v1/signals", json=body, headers=headers)
            assert answer.status_code == 202, answer.text
            accepted.append(body["signal_id"])
        batch = [submission_body(text=personal_text(9), neighbourhood=None)]
        del batch[0]["organisation"]
        assert (
            await client.post("/v1/signals/batch", json={"signals": batch}, headers=headers)
        ).status_code == 200
        accepted.append(batch[0]["signal_id"])
        # Error paths, where leaks like to hide: invalid fields, broken JSON, bad tokens.
        invalid = submission_body(text=personal_text(7), observed_on="gisteren")
        assert (await client.post("/v1/signals", json=invalid, headers=headers)).status_code == 422
        broken = ('{"text": "' + personal_text(8)).encode()
        assert (await client.post("/v1/signals", content=broken, headers=headers)).status_code in (
            400,
            422,
        )
        for secret in (wrong_secret, spare_secret):
            assert (
                await client.post(
                    "/v1/signals",
                    json=submission_body(text=personal_text(10)),
                    headers={"Authorization": f"Bearer {secret}"},
                )
            ).status_code == 401
        check = await client.post(
            "/v1/privacy-check", json={"text": personal_text(11)}, headers=headers
        )
        assert check.status_code == 200

    async def stored() -> bool:
        count = await pipeline.fetchval(
            "SELECT count(*) FROM signals WHERE signal_id = ANY($1::uuid[])", accepted
        )
        return bool(count == len(accepted))

    await wait_for(stored, timeout_s=120, what="the signals classified and stored")

    # A bundle from the command line (compiled, published, written to files).
    cli(
        "bundle",
        "--steering-group",
        "gent",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--out",
        str(tmp_path / "bundles"),
    )
    # (the scheduler may have compiled the last closed quarter too)
    on_demand = "SELECT bundle_id FROM bundles WHERE trigger = 'on_demand'"
    [bundle_id] = [r["bundle_id"] for r in await pipeline.fetch(on_demand)]

    # The aggregator API: a decision, a correction, downloads.
    settings = pipeline.aggregator.model_copy(update={"api_port": free_port()})
    app = create_api(settings, scrub=lambda text: scrub(text).text)
    group = {"Authorization": f"Bearer {group_secret}"}
    coordinator = {"Authorization": f"Bearer {coordinator_secret}"}
    async with (
        serving(app, settings.api_port, what="aggregator API") as url,
        httpx.AsyncClient(base_url=url, timeout=60) as client,
    ):
        themes = (await client.get("/v1/steering-groups/gent/themes", headers=group)).json()
        assert themes["themes"], "the six signals should make a theme"
        theme_id = themes["themes"][0]["theme_id"]
        decision = await client.post(
            f"/v1/steering-groups/gent/themes/{theme_id}/decisions",
            headers=group,
            json={"status": "in_behandeling", "owner": "OCMW", "note": personal_text(12)},
        )
        assert decision.status_code == 202, decision.text
        correction = await client.post(
            f"/v1/signals/{accepted[0]}/corrections",
            headers=coordinator,
            json={"domains": ["onderwijs", "inkomen"], "reason": personal_text(13)[:500]},
        )
        assert correction.status_code == 202, correction.text
        for form in ("", "/html"):
            assert (
                await client.get(
                    f"/v1/steering-groups/gent/bundles/{bundle_id}{form}", headers=group
                )
            ).status_code == 200
        assert (await client.get("/v1/audit", headers=coordinator)).status_code == 200
        assert (
            await client.get("/v1/audit", headers={"Authorization": f"Bearer {wrong_secret}"})
        ).status_code == 401

        async def decided() -> bool:
            return bool(await pipeline.fetchval("SELECT count(*) FROM decisions") == 1)

        await wait_for(decided, timeout_s=60, what="the decision consumed")

    # The aggregator's scheduler ran its daily retention purge at start, and audited it.
    async def purged_by_scheduler() -> bool:
        count = await pipeline.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'retention.purged' "
            "AND actor_role = 'scheduler'"
        )
        return bool(count == 1)

    await wait_for(purged_by_scheduler, timeout_s=60, what="the scheduler's daily purge")
    cli("retention", "purge", "--dry-run")
    cli("audit", "list")

    process_logs = captured_logs.getvalue()
    everything = "\n".join([process_logs, *cli.logs, *cli.outputs])
    # The capture is real: lines of every service and of the command line are in it.
    lines = [json.loads(line) for line in process_logs.splitlines() if line.startswith("{")]
    loggers = {str(line.get("logger", "")) for line in lines}
    for service in ("services.intake", "services.classifier", "services.aggregator"):
        assert any(name.startswith(service) for name in loggers), (service, sorted(loggers))
    assert any(str(line.get("signal_id")) in accepted for line in lines)
    cli_lines = [json.loads(x) for log in cli.logs for x in log.splitlines() if x.startswith("{")]
    assert cli_lines, "the command line logs as JSON on stderr"

    secrets = {
        "pipeline token": pipeline.token,
        "steering-group token": group_secret,
        "coordinator token": coordinator_secret,
        "revoked token": spare_secret,
        "unknown token": wrong_secret,
    }
    found = [f"{what}" for what, value in secrets.items() if value in everything]
    found += [
        f"personal data ({kind})"
        for kind, value in PERSONAL.items()
        if value.casefold() in everything.casefold()
    ]
    print(
        f"\nlog capture: {len(lines)} lines from this process ({len(loggers)} loggers), "
        f"{len(cli_lines)} from {len(cli.logs)} command runs; searched for "
        f"{len(secrets)} secrets and {len(PERSONAL)} personal values: {len(found)} found"
    )
    assert found == []
