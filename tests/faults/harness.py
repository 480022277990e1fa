"""What the fault tests are made of: their own Kafka + PostgreSQL (deploy/local/stack.sh with a
separate local dir and ports), the three services as real processes, a client that retries
like the phone form's outbox, and the ledger that checks what was acknowledged against what
was stored, classified and counted in a bundle.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import asyncpg
import httpx
from pydantic import SecretStr

from services.aggregator.bundling import compile_ad_hoc
from services.aggregator.settings import AggregatorSettings
from services.common.settings import KafkaSettings, PostgresSettings
from services.workflows import aggregator_session

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "deploy" / "local" / "stack.sh"

# Eight municipalities (keys): enough for per-key ordering to mean something on 3 partitions.
MUNICIPALITIES = (
    "Gent",
    "Antwerpen",
    "Leuven",
    "Mechelen",
    "Brugge",
    "Kortrijk",
    "Aalst",
    "Hasselt",
)
ORGANISATION = "faults-test-organisatie"
OBSERVED_ON = date(2026, 11, 18)
PERIOD = (date(2026, 11, 1), date(2026, 11, 30))

TEXTS = (
    "Drie ouders aan de schoolpoort kunnen de schooluitstap naar zee niet betalen.",
    "Wachtlijst kinderopvang is 9 maanden, mama kan daardoor niet gaan werken.",
    "Schimmel in de badkamer van de sociale woning, de kinderen zijn vaak ziek.",
    "Geen laptop thuis, de kinderen kunnen hun taken op Smartschool niet maken.",
    "De bus rijdt niet meer tot aan de school, ouders moeten een uur stappen.",
    "Jongeren vinden de weg naar het CAW niet, ze weten niet waar ze terechtkunnen.",
)


def signal_body(number: int, municipality: str | None = None) -> dict[str, Any]:
    return {
        "signal_id": str(uuid.uuid4()),
        "observed_on": OBSERVED_ON.isoformat(),
        "text": f"{TEXTS[number % len(TEXTS)]} (melding {number})",
        "municipality": municipality or MUNICIPALITIES[number % len(MUNICIPALITIES)],
        "vindplaats": "schoolpoort",
        "reporter_role": "brugfiguur",
        "knowledge_type": "professionele_kennis",
    }


def invalid_body(number: int) -> dict[str, Any]:
    """A signal intake must refuse (422): an unknown municipality or a text that is too short."""
    body = signal_body(number)
    if number % 2:
        body["municipality"] = "Atlantis"
    else:
        body["text"] = "kort"
    return body


def mixed_load(count: int, *, invalid_every: int = 50) -> list[dict[str, Any]]:
    """``count`` signals, one in ``invalid_every`` of them invalid."""
    return [
        invalid_body(n) if n % invalid_every == invalid_every - 1 else signal_body(n)
        for n in range(count)
    ]


# ---------------------------------------------------------------- the stack of the fault tests


@dataclass
class FaultStack:
    """A Kafka broker and a PostgreSQL server of the fault tests' own, which they may kill."""

    local_dir: Path
    kafka_port: int
    controller_port: int
    pg_port: int
    kafka_libs: Path | None = None

    @property
    def script_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SEINPOST_LOCAL_DIR=str(self.local_dir),
            SEINPOST_KAFKA_PORT=str(self.kafka_port),
            SEINPOST_KAFKA_CONTROLLER_PORT=str(self.controller_port),
            SEINPOST_PG_PORT=str(self.pg_port),
            SEINPOST_KAFKA_HEAP_OPTS="-Xms128m -Xmx512m",
        )
        if self.kafka_libs is not None:
            env["SEINPOST_KAFKA_LIBS_DIR"] = str(self.kafka_libs)
        else:
            env.pop("SEINPOST_KAFKA_LIBS_DIR", None)
        return env

    def run(self, command: str, component: str = "all") -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own script, fixed arguments
            ["bash", str(STACK), command, component],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env=self.script_env,
        )

    def must(self, command: str, component: str = "all") -> str:
        result = self.run(command, component)
        if result.returncode != 0:
            raise AssertionError(
                f"stack.sh {command} {component} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://seinpost:seinpost@127.0.0.1:{self.pg_port}/seinpost"


# ---------------------------------------------------------------- services as processes


@dataclass
class Service:
    """One ``seinpost <name> run`` process with its own log file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    _log: TextIO | None = None
    starts: int = 0

    def start(self) -> None:
        assert self.popen is None or self.popen.poll() is not None, f"{self.name} runs already"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("a", encoding="utf-8")
        self.starts += 1
        self._log.write(f"\n===== start {self.starts} =====\n")
        self._log.flush()
        self.popen = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "services.cli", self.name, "run", *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """kill -9: no shutdown hooks, no offsets committed on the way out."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=30)
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


# ---------------------------------------------------------------- one pipeline per test


@dataclass
class FaultPipeline:
    stack: FaultStack
    namespace: str
    dsn: str
    token: str
    port: int
    log_dir: Path
    pool: asyncpg.Pool[Any]
    services: dict[str, Service] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def kafka(self) -> KafkaSettings:
        return KafkaSettings(
            bootstrap_servers=self.stack.bootstrap, topic_namespace=self.namespace, partitions=3
        )

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def service_env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("SEINPOST_") or key == "SEINPOST_LOCAL_DIR"
        }
        suffix = self.namespace.strip(".")
        env.update(
            SEINPOST_KAFKA_BOOTSTRAP_SERVERS=self.stack.bootstrap,
            SEINPOST_KAFKA_TOPIC_NAMESPACE=self.namespace,
            SEINPOST_KAFKA_PARTITIONS="3",
            SEINPOST_POSTGRES_DSN=self.dsn,
            SEINPOST_LOG_LEVEL="WARNING",
            SEINPOST_INTAKE_RATE_LIMIT_PER_S="1000000",
            SEINPOST_INTAKE_RATE_LIMIT_BURST="1000000",
            # Clients wait Retry-After; a field value of 5 s would only make the test slower.
            SEINPOST_INTAKE_RETRY_AFTER_S="1",
            SEINPOST_INTAKE_PUBLISH_TIMEOUT_S="5",
            SEINPOST_CLASSIFIER_GROUP_ID=f"{suffix}-classifier",
            SEINPOST_CLASSIFIER_BATCH_TIMEOUT_MS="50",
            SEINPOST_CLASSIFIER_RETRY_BACKOFF_MAX_S="2",
            SEINPOST_CLASSIFIER_MODEL_DIR=str(self.log_dir / "models"),
            SEINPOST_AGGREGATOR_GROUP_ID=f"{suffix}-aggregator",
            SEINPOST_AGGREGATOR_BATCH_TIMEOUT_MS="50",
            SEINPOST_AGGREGATOR_RETRY_BACKOFF_MAX_S="2",
            SEINPOST_AGGREGATOR_SCHEDULER_ENABLED="false",
            SEINPOST_AGGREGATOR_BUNDLE_DIR=str(self.log_dir / "bundles"),
            # Probe ports chosen by the system: another checkout's services or fault tests on
            # the same machine hold 9101/9102, and a consumer that cannot bind its probe exits.
            SEINPOST_CLASSIFIER_METRICS_PORT="0",
            SEINPOST_AGGREGATOR_METRICS_PORT="0",
            PYTHONUNBUFFERED="1",
        )
        return env

    def build_services(self) -> None:
        env = self.service_env()
        for name, args in (
            ("intake", ["--port", str(self.port)]),
            ("classifier", []),
            ("aggregator", []),
        ):
            self.services[name] = Service(name, args, env, self.log_dir / f"{name}.log")

    def __getitem__(self, name: str) -> Service:
        return self.services[name]

    async def wait_intake_ready(self, timeout_s: float = 120) -> None:
        async with httpx.AsyncClient(timeout=2.0) as client:

            async def ready() -> bool:
                if not self["intake"].running:
                    raise AssertionError(f"intake exited:\n{self['intake'].tail()}")
                with contextlib.suppress(httpx.TransportError):
                    return (await client.get(f"{self.url}/readyz")).status_code == 200
                return False

            await wait_for(ready, timeout_s=timeout_s, what="intake /readyz")

    def logs(self) -> str:
        return "\n".join(f"--- {s.name} ---\n{s.tail()}" for s in self.services.values())


async def wait_for(
    probe: Callable[[], Awaitable[Any]],
    *,
    timeout_s: float = 60.0,
    what: str = "condition",
    every_s: float = 0.2,
) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(every_s)


@contextlib.asynccontextmanager
async def fresh_database(stack: FaultStack) -> AsyncIterator[str]:
    name = f"faults_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(stack.admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield stack.admin_dsn.rpartition("/")[0] + f"/{name}"
    finally:
        with contextlib.suppress(Exception):
            admin = await asyncpg.connect(stack.admin_dsn)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()


def postgres_settings(dsn: str) -> PostgresSettings:
    return PostgresSettings(dsn=SecretStr(dsn), pool_max_size=2)


# ---------------------------------------------------------------- the client


@dataclass
class Outcome:
    status: int = 0  # the final answer; 0 = none (gave up)
    attempts: int = 0
    unavailable: int = 0  # 503s seen on the way
    retry_after: set[str] = field(default_factory=set)


@dataclass
class SendReport:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    acked_order: list[str] = field(default_factory=list)  # signal ids in acknowledgement order

    @property
    def acked(self) -> list[str]:
        return [i for i, o in self.outcomes.items() if o.status in (200, 202)]

    @property
    def rejected(self) -> list[str]:
        return [i for i, o in self.outcomes.items() if 400 <= o.status < 500]

    @property
    def unresolved(self) -> list[str]:
        return [
            i for i, o in self.outcomes.items() if o.status not in (200, 202) and o.status < 400
        ]

    @property
    def unavailable(self) -> int:
        return sum(o.unavailable for o in self.outcomes.values())

    def merge(self, other: SendReport) -> None:
        self.outcomes.update(other.outcomes)
        self.acked_order.extend(other.acked_order)


class OutboxClient:
    """Sends like the phone form's outbox: every signal keeps its body and id until intake
    answers something other than "try later"; 503/429 wait Retry-After, a lost connection
    waits a growing back-off. ``give_up_s`` bounds the whole run."""

    def __init__(self, url: str, headers: dict[str, str], *, give_up_s: float = 240.0) -> None:
        self.url = url
        self.headers = headers
        self.give_up_s = give_up_s

    async def send_one(
        self, client: httpx.AsyncClient, body: dict[str, Any], report: SendReport, deadline: float
    ) -> None:
        outcome = report.outcomes.setdefault(body["signal_id"], Outcome())
        backoff = 0.2
        while time.monotonic() < deadline:
            outcome.attempts += 1
            try:
                response = await client.post("/v1/signals", json=body)
            except httpx.TransportError:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            if response.status_code in (429, 503):
                outcome.unavailable += response.status_code == 503
                header = response.headers.get("Retry-After")
                if header is not None:
                    outcome.retry_after.add(header)
                await asyncio.sleep(float(header) if header and header.isdigit() else backoff)
                continue
            outcome.status = response.status_code
            if response.status_code in (200, 202):
                report.acked_order.append(body["signal_id"])
            return

    async def send(
        self,
        bodies: Sequence[dict[str, Any]],
        *,
        concurrency: int = 16,
        rate_per_s: float | None = None,
        report: SendReport | None = None,
    ) -> SendReport:
        """Send concurrently (at most ``rate_per_s`` new signals a second when given)."""
        report = report or SendReport()
        gate = asyncio.Semaphore(concurrency)
        started = time.monotonic()
        deadline = started + self.give_up_s
        async with httpx.AsyncClient(base_url=self.url, headers=self.headers, timeout=30) as client:

            async def one(index: int, body: dict[str, Any]) -> None:
                if rate_per_s:
                    await asyncio.sleep(max(0.0, started + index / rate_per_s - time.monotonic()))
                async with gate:
                    await self.send_one(client, body, report, deadline)

            await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))
        return report

    async def send_serially(
        self, bodies: Sequence[dict[str, Any]], report: SendReport | None = None
    ) -> SendReport:
        """One after the other: the order of acknowledgement is the order sent."""
        report = report or SendReport()
        deadline = time.monotonic() + self.give_up_s
        async with httpx.AsyncClient(base_url=self.url, headers=self.headers, timeout=30) as client:
            for body in bodies:
                await self.send_one(client, body, report, deadline)
        return report


# ---------------------------------------------------------------- the ledger


@dataclass
class Figures:
    scenario: str
    sent: int = 0
    acknowledged: int = 0
    rejected: int = 0
    stored: int = 0
    classified: int = 0
    in_bundle: int = 0
    duplicates: int = 0
    lost: int = 0
    rejected_stored: int = 0
    strays: int = 0
    unavailable_answers: int = 0
    recovery_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "sent": self.sent,
            "acknowledged": self.acknowledged,
            "rejected": self.rejected,
            "stored": self.stored,
            "classified": self.classified,
            "in_bundle": self.in_bundle,
            "duplicates": self.duplicates,
            "lost": self.lost,
            "rejected_stored": self.rejected_stored,
            "strays": self.strays,
            "503_answers": self.unavailable_answers,
            "recovery_s": None if self.recovery_s is None else round(self.recovery_s, 1),
            **self.extra,
        }


async def complete_count(pool: asyncpg.Pool[Any], acked: Sequence[str]) -> int:
    """Acknowledged signals that are stored and classified."""
    value = await pool.fetchval(
        """
        SELECT count(*) FROM signals s
        WHERE s.signal_id = ANY($1::uuid[])
          AND EXISTS (SELECT 1 FROM signal_classifications c WHERE c.signal_id = s.signal_id)
        """,
        list(acked),
    )
    return int(value)


async def wait_complete(
    pool: asyncpg.Pool[Any], acked: Sequence[str], *, since: float, timeout_s: float = 180
) -> float:
    """Seconds from ``since`` (a time.monotonic()) until every acknowledged signal is stored
    and classified."""

    async def complete() -> bool:
        return await complete_count(pool, acked) == len(acked)

    await wait_for(complete, timeout_s=timeout_s, what="the ledger to be complete", every_s=0.25)
    return time.monotonic() - since


async def bundle_counts(dsn: str, kafka: KafkaSettings) -> dict[str, int | None]:
    """Compile an ad-hoc bundle per municipality through the aggregator's bundle path and
    return each bundle's signal count."""
    settings = AggregatorSettings(kafka=kafka, postgres=postgres_settings(dsn))
    counts: dict[str, int | None] = {}
    async with aggregator_session(settings, publish=False) as (store, _):
        for municipality in MUNICIPALITIES:
            compiled = await compile_ad_hoc(
                store,
                municipality=municipality,
                period_start=PERIOD[0],
                period_end=PERIOD[1],
                min_group_size=settings.min_group_size,
            )
            counts[municipality] = compiled.bundle.signal_count.count
    return counts


async def check_ledger(
    pipeline: FaultPipeline,
    report: SendReport,
    figures: Figures,
    bodies: Sequence[dict[str, Any]],
) -> Figures:
    """Fill ``figures`` from the database and a fresh bundle; the caller asserts on them."""
    acked = report.acked
    rejected = report.rejected
    pool = pipeline.pool
    figures.sent = len(report.outcomes)
    figures.acknowledged = len(acked)
    figures.rejected = len(rejected)
    figures.unavailable_answers = report.unavailable
    rows = await pool.fetchrow(
        """
        SELECT count(*) AS n, count(DISTINCT signal_id) AS distinct_n
        FROM signals WHERE signal_id = ANY($1::uuid[])
        """,
        acked,
    )
    assert rows is not None
    figures.stored = int(rows["distinct_n"])
    classified = await pool.fetchrow(
        """
        SELECT count(*) AS n, count(DISTINCT signal_id) AS distinct_n
        FROM signal_classifications WHERE signal_id = ANY($1::uuid[])
        """,
        acked,
    )
    assert classified is not None
    figures.classified = int(classified["distinct_n"])
    figures.rejected_stored = int(
        await pool.fetchval(
            "SELECT count(*) FROM signals WHERE signal_id = ANY($1::uuid[])", rejected
        )
    )
    figures.strays = int(
        await pool.fetchval(
            "SELECT count(*) FROM signals WHERE NOT (signal_id = ANY($1::uuid[]))", acked
        )
    )
    counts = await bundle_counts(pipeline.dsn, pipeline.kafka)
    figures.in_bundle = sum(c or 0 for c in counts.values())
    by_id = {body["signal_id"]: body for body in bodies}
    expected: dict[str, int] = {}
    for signal_id in acked:
        municipality = by_id[signal_id]["municipality"]
        expected[municipality] = expected.get(municipality, 0) + 1
    figures.extra["bundle_matches_per_municipality"] = all(
        counts.get(m) == expected.get(m, 0) or (counts.get(m) is None and expected.get(m, 0) < 5)
        for m in MUNICIPALITIES
    )
    figures.duplicates = (
        (int(rows["n"]) - int(rows["distinct_n"]))
        + (int(classified["n"]) - int(classified["distinct_n"]))
        + max(0, figures.in_bundle - figures.stored)
    )
    figures.lost = len(acked) - min(figures.stored, figures.classified)
    return figures


def assert_ledger(figures: Figures, report: SendReport) -> None:
    assert not report.unresolved, f"{len(report.unresolved)} signals never got a final answer"
    assert figures.acknowledged > 0
    assert figures.lost == 0, figures.as_dict()
    assert figures.duplicates == 0, figures.as_dict()
    assert figures.stored == figures.acknowledged == figures.classified, figures.as_dict()
    assert figures.in_bundle == figures.acknowledged, figures.as_dict()
    assert figures.extra["bundle_matches_per_municipality"], figures.as_dict()
    assert figures.rejected_stored == 0, figures.as_dict()
    assert figures.strays == 0, figures.as_dict()
