"""Health, readiness, metrics and consumer lag for the consuming services (classifier,
aggregator), served on a small HTTP port of their own (``/healthz``, ``/readyz``,
``/metrics``).

- **Liveness** (``/healthz``): the event loop answers and every consumer loop still runs. A
  blocked loop does not answer at all, which a probe counts as a failure too.
- **Readiness** (``/readyz``): Kafka answers a metadata request, PostgreSQL answers
  ``SELECT 1`` (where the service uses it) and every subscriber has partitions assigned. A
  replica beyond the partition count gets none and stays unready: it would do nothing.
- **Lag**: every few seconds, per assigned partition, the high watermark minus the
  consumer's position, into ``seinpost_consumer_lag``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import structlog
import uvicorn
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.common.metrics import CONTENT_TYPE, ConsumerMetrics, ReadyMetric, exposition

log = structlog.get_logger(__name__)

Check = Callable[[], Awaitable[None]]
"""A readiness check: returns when the dependency answers, raises when it does not."""


@dataclass
class ConsumerProbes:
    """What the probe endpoints and the lag refresher look at, for one service process."""

    service: str
    registry: CollectorRegistry
    consumer_metrics: ConsumerMetrics
    subscribers: list[Any] = field(default_factory=list)
    checks: dict[str, Check] = field(default_factory=dict)
    check_timeout_s: float = 3.0
    lag_interval_s: float = 5.0
    stopping: bool = False
    _ready_metric: ReadyMetric | None = None
    _lag_task: asyncio.Task[None] | None = None
    _lag_labels: set[tuple[str, str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._ready_metric = ReadyMetric(self.registry)

    # -- liveness and readiness -------------------------------------------------------------

    def alive(self) -> tuple[bool, dict[str, Any]]:
        # FastStream keeps ``running`` true while a subscriber's consume loop should run and
        # restarts a crashed loop task itself; a subscriber that stopped on its own is dead.
        stopped = [_name(s) for s in self.subscribers if not getattr(s, "running", False)]
        return (not stopped or self.stopping), {"stopped_subscribers": stopped}

    async def ready(self) -> tuple[bool, dict[str, Any]]:
        detail: dict[str, Any] = {}
        ok = not self.stopping
        if self.stopping:
            detail["stopping"] = True
        for name, check in self.checks.items():
            try:
                await asyncio.wait_for(check(), timeout=self.check_timeout_s)
            except Exception as exc:  # noqa: BLE001 - any failure means: not ready
                detail[name] = type(exc).__name__
                ok = False
            else:
                detail[name] = "ok"
        unassigned = [_name(s) for s in self.subscribers if not _assignment(s)]
        if unassigned:
            detail["unassigned"] = unassigned
            ok = False
        assert self._ready_metric is not None
        self._ready_metric.ready.set(1 if ok else 0)
        return ok, detail

    # -- consumer lag -----------------------------------------------------------------------

    async def refresh_lag(self) -> None:
        current: set[tuple[str, str, str]] = set()
        for subscriber in self.subscribers:
            consumer = getattr(subscriber, "consumer", None)
            group = getattr(subscriber, "group_id", None) or ""
            if consumer is None:
                continue
            assignment = _assignment(subscriber)
            per_topic: dict[str, int] = {}
            for tp in assignment:
                per_topic[tp.topic] = per_topic.get(tp.topic, 0) + 1
                highwater = consumer.highwater(tp)
                if highwater is None:
                    continue  # nothing fetched from it yet
                try:
                    position = await consumer.position(tp)
                except Exception:  # noqa: BLE001, S112 - revoked meanwhile: next round
                    continue
                labels = (group, tp.topic, str(tp.partition))
                self.consumer_metrics.lag.labels(*labels).set(max(0, highwater - position))
                current.add(labels)
            for topic in _topics(subscriber):
                self.consumer_metrics.assigned.labels(group, topic).set(per_topic.get(topic, 0))
        # A partition handed to another replica in a rebalance is that replica's to report:
        # a frozen last value here would look like lag that never shrinks.
        for labels in self._lag_labels - current:
            self.consumer_metrics.lag.remove(*labels)
        self._lag_labels = current

    async def _lag_loop(self) -> None:
        while True:
            try:
                await self.refresh_lag()
            except Exception:
                log.exception("probes.lag_failed")
            await asyncio.sleep(self.lag_interval_s)

    def start(self) -> None:
        if self._lag_task is None:
            self._lag_task = asyncio.create_task(self._lag_loop(), name="consumer-lag")

    async def stop(self) -> None:
        self.stopping = True
        if self._lag_task is not None:
            self._lag_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lag_task
            self._lag_task = None

    # -- HTTP -------------------------------------------------------------------------------

    def asgi(self) -> Starlette:
        async def healthz(_: Request) -> Response:
            ok, detail = self.alive()
            return JSONResponse(
                {"status": "ok" if ok else "dead", **detail}, status_code=200 if ok else 503
            )

        async def readyz(_: Request) -> Response:
            ok, detail = await self.ready()
            return JSONResponse(
                {"status": "ready" if ok else "not_ready", **detail},
                status_code=200 if ok else 503,
            )

        async def metrics(_: Request) -> Response:
            return Response(exposition(self.registry), media_type=CONTENT_TYPE)

        return Starlette(
            routes=[
                Route("/healthz", healthz),
                Route("/readyz", readyz),
                Route("/metrics", metrics),
            ]
        )


def _name(subscriber: Any) -> str:
    return ",".join(_topics(subscriber)) + f"@{getattr(subscriber, 'group_id', '') or ''}"


def _topics(subscriber: Any) -> list[str]:
    topics = getattr(subscriber, "topic_names", None)
    return list(topics) if topics else []


def _assignment(subscriber: Any) -> set[Any]:
    consumer = getattr(subscriber, "consumer", None)
    if consumer is None:
        return set()
    try:
        return set(consumer.assignment())
    except Exception:  # noqa: BLE001 - not subscribed (yet)
        return set()


class _ProbeServer(uvicorn.Server):
    """uvicorn without its signal handlers: the service's own loop (FastStream) owns SIGTERM
    and SIGINT, and shuts this server down as part of its graceful stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def serving_probes(
    probes: ConsumerProbes, *, host: str, port: int
) -> AsyncIterator[_ProbeServer]:
    """Serve the probe app on ``host:port`` (0: any free port) while the block runs."""
    server = _ProbeServer(
        uvicorn.Config(
            probes.asgi(), host=host, port=port, log_config=None, access_log=False, lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve(), name="probe-server")
    while not server.started:
        if task.done():
            task.result()  # the port is taken: fail start-up loudly
        await asyncio.sleep(0.01)
    log.info("probes.listening", host=host, port=bound_port(server))
    try:
        yield server
    finally:
        server.should_exit = True
        await task


def bound_port(server: uvicorn.Server) -> int:
    for srv in getattr(server, "servers", []):
        for sock in srv.sockets:
            return int(sock.getsockname()[1])
    return 0


def postgres_check(pool_of: Callable[[], Any]) -> Check:
    async def check() -> None:
        pool = pool_of()
        if pool is None:
            raise ConnectionError("no pool yet")
        await pool.fetchval("SELECT 1")

    return check


def kafka_check(broker: Any, timeout_s: float = 2.0) -> Check:
    async def check() -> None:
        if not await broker.ping(timeout=timeout_s):
            raise ConnectionError("kafka did not answer")

    return check
