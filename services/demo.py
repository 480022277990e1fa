"""``seinpost demo``: the whole pipeline on this machine, from a fresh clone.

Starts the local stack (unless it already runs), the three services as separate processes,
sends the sample set over HTTP, waits until every signal is stored and classified, compiles a
bundle per municipality, prints where it is, and on Ctrl-C stops what it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import asyncpg
import httpx

from schemas.topics import municipality_key
from services.aggregator.periods import Period
from services.aggregator.settings import AggregatorSettings
from services.aggregator.storage import PostgresSignalStore, SteeringGroup, migrate
from services.common.access import AccessStore, PrincipalKind
from services.common.logging import configure_logging
from services.common.postgres import create_pool
from services.common.settings import LoggingSettings, PostgresSettings
from services.workflows import (
    SubmitReport,
    compile_group_bundle_files,
    load_signal_bodies,
    submit_all,
)

SERVICES = ("intake", "classifier", "aggregator")
# The varied sample set, and signals that recur across reporters so that the bundle has themes.
SAMPLE_FILES = ("signals.jsonl", "recurring.jsonl")


@dataclass
class _Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: TextIO


def _say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def _stack(root: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argument list, our own script
        ["bash", str(root / "deploy" / "local" / "stack.sh"), command],  # noqa: S607
        text=True,
        capture_output=True,
        check=False,
    )


def _stack_environment(root: Path) -> dict[str, str]:
    result = _stack(root, "env")
    environment = {}
    for line in result.stdout.splitlines():
        if line.startswith("export ") and "=" in line:
            key, _, value = line.removeprefix("export ").partition("=")
            environment[key] = value.strip().strip("'\"")
    return environment


def _start_services(root: Path, env: dict[str, str], port: int, log_dir: Path) -> list[_Process]:
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = []
    for name in SERVICES:
        command = [sys.executable, "-m", "services.cli", name, "run"]
        if name == "intake":
            command += ["--port", str(port)]
        log = (log_dir / f"{name}.log").open("w", encoding="utf-8")
        popen = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=log)  # noqa: S603
        processes.append(_Process(name, popen, log))
    return processes


def _stop_services(processes: list[_Process]) -> None:
    for process in processes:
        if process.popen.poll() is None:
            process.popen.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.popen.kill()
        process.log.close()


async def _wait_ready(url: str, processes: list[_Process], timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            for process in processes:
                if process.popen.poll() is not None:
                    raise RuntimeError(f"{process.name} stopped; see its log")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.3)
    raise TimeoutError("intake did not become ready")


async def _wait_stored(dsn: str, signal_ids: list[str], timeout_s: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    connection = await asyncpg.connect(dsn)
    try:
        while True:
            stored = await connection.fetchval(
                """
                SELECT count(DISTINCT c.signal_id) FROM signal_classifications c
                WHERE c.signal_id = ANY($1::uuid[])
                """,
                signal_ids,
            )
            if stored == len(signal_ids) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.3)
        domains = await connection.fetch(
            """
            SELECT d.domain, count(*) AS n FROM signal_domains d
            WHERE d.signal_id = ANY($1::uuid[]) GROUP BY d.domain ORDER BY n DESC
            """,
            signal_ids,
        )
        redacted = await connection.fetchval(
            "SELECT count(*) FROM signals WHERE signal_id = ANY($1::uuid[]) AND redactions <> '[]'",
            signal_ids,
        )
        return {
            "stored": stored,
            "domains": [(r["domain"], r["n"]) for r in domains],
            "redacted": redacted,
        }
    finally:
        await connection.close()


async def _enrol_sample_organisations(bodies: list[dict[str, Any]]) -> dict[str, str]:
    """What a coordinator does with `seinpost organisation add` and `seinpost token create`:
    each sample organisation, with the municipalities it reports for, and a token for it."""
    areas: dict[str, set[str]] = {}
    for body in bodies:
        areas.setdefault(str(body["organisation"]), set()).add(str(body["municipality"]))
    pool = await create_pool(PostgresSettings())
    try:
        store = AccessStore(pool)
        await store.migrate()
        tokens = {}
        for organisation, municipalities in sorted(areas.items()):
            await store.add_organisation(organisation, organisation, sorted(municipalities))
            issued = await store.create_token(PrincipalKind.ORGANISATION, organisation, "demo")
            tokens[organisation] = issued.secret
    finally:
        await pool.close()
    _say(f"enrolled {len(tokens)} sample organisations, one API token each")
    return tokens


async def _pipeline(root: Path, port: int, processes: list[_Process]) -> int:
    url = f"http://127.0.0.1:{port}"
    await _wait_ready(url, processes)
    bodies = [
        body
        for name in SAMPLE_FILES
        for body in load_signal_bodies(root / "data" / "samples" / name)
    ]
    _say(f"intake is ready at {url}; sending {len(bodies)} sample signals over HTTP ...")
    started = time.monotonic()
    tokens = await _enrol_sample_organisations(bodies)
    reports = await asyncio.gather(
        *(
            submit_all(url, [b for b in bodies if b["organisation"] == org], token=token)
            for org, token in tokens.items()
        )
    )
    report = SubmitReport(
        accepted=sum(r.accepted for r in reports),
        rejected=[item for r in reports for item in r.rejected],
        retries=sum(r.retries for r in reports),
    )
    _say(f"accepted {report.accepted}, rejected {len(report.rejected)}, retried {report.retries}")
    for signal_id, status, body in report.rejected:
        _say(f"  rejected {signal_id}: HTTP {status} {body}")

    settings = AggregatorSettings()
    ids = [str(body["signal_id"]) for body in bodies]
    summary = await _wait_stored(settings.postgres.dsn.get_secret_value(), ids)
    elapsed = time.monotonic() - started
    _say(f"{summary['stored']}/{len(ids)} signals stored and classified in {elapsed:.1f} s")
    _say(f"personal data was scrubbed from {summary['redacted']} signals before they reached Kafka")
    _say("signals per life domain: " + ", ".join(f"{d} {n}" for d, n in summary["domains"]))
    if summary["stored"] != len(ids):
        _say("not every signal arrived; see the service logs")
        return 1

    observed = [date.fromisoformat(body["observed_on"]) for body in bodies]
    municipalities = Counter(str(body["municipality"]) for body in bodies)
    groups = await _ensure_steering_groups(settings, [m for m, _ in municipalities.most_common()])
    _say(f"steering groups: {', '.join(groups)} (seinpost steering-group list)")
    results = await compile_group_bundle_files(
        settings,
        steering_group_ids=groups,
        period=Period(min(observed), max(observed)),
        out=root / "out" / "bundles",
        publish=True,
    )
    for result in results:
        bundle = result.bundle
        count = bundle.signal_count.count
        shown = str(count) if count is not None else f"< {bundle.min_group_size}"
        files = [result.files.json, result.files.html, result.files.pdf]
        _say(
            f"bundle {result.steering_group_id} v{result.version}: {shown} signals -> "
            + ", ".join(str(path) for path in files if path is not None)
        )
    top = results[0].bundle
    tagged = [c for c in top.by_domain if c.count]
    _say(
        f"{top.title}: top domains "
        + ", ".join(f"{c.label} ({c.count})" for c in tagged[:3])
        + (f"; {top.suppression_note}" if top.suppression_note else "")
    )
    return 0


async def _ensure_steering_groups(
    settings: AggregatorSettings, municipalities: list[str]
) -> list[str]:
    """One demo steering group per sample municipality (id = the municipality key), quarterly."""
    pool = await create_pool(settings.postgres)
    try:
        async with pool.acquire() as connection:
            await migrate(connection)
        store = PostgresSignalStore(pool)
        ids = []
        for municipality in municipalities:
            group_id = municipality_key(municipality).decode().replace(" ", "-")
            await store.upsert_steering_group(
                SteeringGroup(
                    steering_group_id=group_id,
                    name=f"Stuurgroep {municipality}",
                    network_id=None,
                    municipalities=(municipality,),
                    neighbourhoods=None,
                    domains_of_interest=None,
                    cadence="quarterly",
                    period_months=3,
                    min_group_size=settings.min_group_size,
                    active_from=date.today(),
                )
            )
            ids.append(group_id)
        return ids
    finally:
        await pool.close()


def run_demo(root: Path, *, port: int, wait_for_ctrl_c: bool) -> int:
    # The demo talks to a person: its own library logs stay quiet; the services log to files.
    configure_logging("demo", LoggingSettings(level="WARNING", format="console"))
    already_running = _stack(root, "status").returncode == 0
    _say(
        "starting the local stack (Kafka + PostgreSQL) ..." if not already_running else "stack runs"
    )
    started = _stack(root, "start")
    print(started.stdout, end="", flush=True)
    if started.returncode != 0:
        print(started.stderr, file=sys.stderr)
        return started.returncode
    stack_environment = _stack_environment(root)
    os.environ.update(stack_environment)  # this process compiles the bundle against the same stack
    env = dict(os.environ)
    # Probe ports chosen by the system unless set: a second demo or a running service must
    # not keep the consumers from starting. Each logs its port (probes.listening).
    env.setdefault("SEINPOST_CLASSIFIER_METRICS_PORT", "0")
    env.setdefault("SEINPOST_AGGREGATOR_METRICS_PORT", "0")
    log_dir = root / "out" / "demo" / "logs"
    processes = _start_services(root, env, port, log_dir)
    _say(f"services started; logs in {log_dir}")
    code = 1
    try:
        code = asyncio.run(_pipeline(root, port, processes))
        if code == 0 and wait_for_ctrl_c:
            _say(
                "everything runs. Press Ctrl-C to stop the services"
                + ("" if already_running else " and the stack")
                + "."
            )
            with contextlib.suppress(KeyboardInterrupt):
                while all(p.popen.poll() is None for p in processes):
                    time.sleep(0.5)
    except KeyboardInterrupt:
        _say("interrupted")
    finally:
        _say("stopping the services ...")
        _stop_services(processes)
        if not already_running:
            _say("stopping the stack ...")
            _stack(root, "stop")
    return code
