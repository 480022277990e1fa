"""PostgreSQL plumbing shared by every service that keeps state: the pool and the migrations.

Each service owns its tables and ships them as numbered SQL files (``0001_name.sql``) in a Python
package of its own; they are tracked per *component* in one table, so the aggregator, the intake
and the access tables can live in the same database without sharing a version sequence.
"""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from services.common.settings import PostgresSettings, PostgresSslMode

log = structlog.get_logger(__name__)

if TYPE_CHECKING:  # asyncpg's classes are generic only in its stubs
    Connection = asyncpg.Connection[Any] | PoolConnectionProxy[Any]
    Pool = asyncpg.Pool[Any]

# Any constant works; it only has to be the same for every process that migrates this database.
_MIGRATION_LOCK_ID = 0x5E1_9057


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def load_migrations(package: str) -> list[Migration]:
    """The ``NNNN_name.sql`` files of ``package``, in order; numbering must be 1..n."""
    migrations = []
    for entry in resources.files(package).iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            migrations.append(
                Migration(int(number), rest.removesuffix(".sql"), entry.read_text("utf-8"))
            )
    migrations.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(
            f"{package}: migrations must be numbered 1..n without gaps, found {versions}"
        )
    return migrations


async def migrate(
    connection: Connection, component: str, package: str, *, legacy_table: str | None = None
) -> list[int]:
    """Apply ``component``'s migrations not applied yet, in one transaction; returns their versions.

    An advisory lock makes concurrent processes wait for each other instead of racing, and a
    checksum refuses to run against a database whose applied migration was edited afterwards.
    ``legacy_table`` names a per-service ``(version, name, checksum, applied_at)`` table of an
    older release whose rows are adopted once, so an existing database is upgraded in place.
    """
    applied_now: list[int] = []
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK_ID)
        await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS seinpost_schema_migrations (
                component   text        NOT NULL,
                version     integer     NOT NULL,
                name        text        NOT NULL,
                checksum    text        NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (component, version)
            )
            """
        )
        if legacy_table is not None:
            await _adopt_legacy(connection, component, legacy_table)
        applied = {
            row["version"]: row["checksum"]
            for row in await connection.fetch(
                "SELECT version, checksum FROM seinpost_schema_migrations WHERE component = $1",
                component,
            )
        }
        for migration in load_migrations(package):
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise RuntimeError(
                        f"{component} migration {migration.version} ({migration.name}) was "
                        "changed after it was applied; add a new migration instead"
                    )
                continue
            await connection.execute(migration.sql)
            await connection.execute(
                "INSERT INTO seinpost_schema_migrations (component, version, name, checksum) "
                "VALUES ($1, $2, $3, $4)",
                component,
                migration.version,
                migration.name,
                migration.checksum,
            )
            applied_now.append(migration.version)
    if applied_now:
        log.info("postgres.migrated", component=component, versions=applied_now)
    return applied_now


async def _adopt_legacy(connection: Connection, component: str, legacy_table: str) -> None:
    exists = await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", legacy_table)
    if exists:
        adopted = await connection.execute(
            f"""
            INSERT INTO seinpost_schema_migrations (component, version, name, checksum, applied_at)
            SELECT $1, version, name, checksum, applied_at FROM {legacy_table}
            ON CONFLICT DO NOTHING
            """,  # noqa: S608 - the table name is a constant of our own code, not input
            component,
        )
        if not adopted.endswith(" 0"):
            log.info("postgres.legacy_migrations_adopted", component=component, table=legacy_table)


def ssl_option(settings: PostgresSettings) -> ssl.SSLContext | PostgresSslMode | None:
    """asyncpg's ``ssl=``: ``None`` leaves it to the DSN; a bare sslmode is passed as is; with
    certificate files, a context that verifies as libpq's sslmode would."""
    mode = settings.sslmode
    if mode is None or mode in ("disable", "allow", "prefer"):
        return mode
    if settings.ssl_rootcert is None and settings.ssl_cert is None:
        return mode
    if mode == "require":
        # libpq: require verifies nothing, unless a root certificate is given (then like verify-ca)
        context = ssl.create_default_context(
            cafile=str(settings.ssl_rootcert) if settings.ssl_rootcert else None
        )
        context.check_hostname = False
        if settings.ssl_rootcert is None:
            context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cafile=str(settings.ssl_rootcert))
        context.check_hostname = mode == "verify-full"
    if settings.ssl_cert is not None:
        context.load_cert_chain(
            str(settings.ssl_cert),
            str(settings.ssl_key) if settings.ssl_key is not None else None,
            settings.ssl_key_password.get_secret_value() if settings.ssl_key_password else None,
        )
    return context


async def create_pool(settings: PostgresSettings, *, reset: Any = None) -> Pool:
    """``reset``: what asyncpg runs on a connection handed back to the pool (see
    ``reset_only_open_transactions``); None is asyncpg's full reset, a round trip each time."""
    pool = await asyncpg.create_pool(
        settings.dsn.get_secret_value(),
        ssl=ssl_option(settings),
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        command_timeout=settings.command_timeout_s,
        reset=reset,
    )
    assert pool is not None  # asyncpg types the pool as optional; create_pool never returns None
    return pool


async def reset_only_open_transactions(connection: Any) -> None:
    """A pool ``reset`` for code that keeps no session state (no LISTEN, SET, session advisory
    locks or cursors outside a transaction): only a transaction left open is undone. asyncpg's
    default reset is a round trip to the server on every release of a connection."""
    if connection.is_in_transaction():
        await connection.reset()
