"""``seinpost organisation …`` and ``seinpost token …``: who may report, and with which key."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import orjson
import typer

from services.common.access import audit
from services.common.access.store import AccessStore, UnknownOrganisationError
from services.common.access.tokens import ALL_SCOPES, PrincipalKind
from services.common.postgres import create_pool
from services.common.settings import PostgresSettings

T = TypeVar("T")

organisation_app = typer.Typer(
    help="Reporting organisations and the municipalities they report for.", no_args_is_help=True
)
token_app = typer.Typer(
    help="API tokens of devices, systems, steering groups and coordinators.", no_args_is_help=True
)
audit_app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)


def _with_store(work: Callable[[AccessStore], Awaitable[T]]) -> T:
    async def run() -> T:
        pool = await create_pool(PostgresSettings())
        try:
            store = AccessStore(pool)
            await store.migrate()
            return await work(store)
        finally:
            await pool.close()

    return asyncio.run(run())


@organisation_app.command("add")
def organisation_add(
    organisation_id: Annotated[str, typer.Argument(help="Short id, e.g. `caw-oost-vlaanderen`.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    municipality: Annotated[
        list[str], typer.Option(help="Municipality it reports for (repeat the option).")
    ],
) -> None:
    """Create an organisation, or replace its name and area."""
    organisation = _with_store(lambda s: s.add_organisation(organisation_id, name, municipality))
    typer.echo(
        f"{organisation.organisation_id}: {organisation.name} "
        f"({', '.join(organisation.municipalities)})"
    )


@organisation_app.command("list")
def organisation_list() -> None:
    """List the organisations and their areas."""
    for organisation in _with_store(AccessStore.list_organisations):
        typer.echo(
            f"{organisation.organisation_id}\t{organisation.name}\t"
            f"{', '.join(organisation.municipalities)}"
        )


@token_app.command("create")
def token_create(
    label: Annotated[str, typer.Option(help="Whose device or which system, e.g. `gsm Sara`.")],
    organisation: Annotated[
        str | None, typer.Option(help="Organisation id: a token to submit signals.")
    ] = None,
    steering_group: Annotated[
        str | None, typer.Option(help="Steering-group id: a token to read bundles and decide.")
    ] = None,
    coordinator: Annotated[
        str | None,
        typer.Option(help="Network id: a coordinator's token (audit log, corrections)."),
    ] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(help=f"Override the default scopes ({', '.join(sorted(ALL_SCOPES))})."),
    ] = None,
) -> None:
    """Create a token; its secret is printed once and stored only as a hash."""
    chosen = [
        (kind, subject)
        for kind, subject in (
            (PrincipalKind.ORGANISATION, organisation),
            (PrincipalKind.STEERING_GROUP, steering_group),
            (PrincipalKind.COORDINATOR, coordinator),
        )
        if subject is not None
    ]
    if len(chosen) != 1:
        raise typer.BadParameter(
            "give exactly one of --organisation, --steering-group or --coordinator"
        )
    kind, subject = chosen[0]
    try:
        issued = _with_store(lambda s: s.create_token(kind, subject, label, scope))
    except UnknownOrganisationError:
        typer.echo(f"unknown organisation {subject!r}: add it first", err=True)
        raise typer.Exit(1) from None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(f"token_id: {issued.token_id}")
    typer.echo(f"secret:   {issued.secret}")
    typer.echo("Store the secret now: Seinpost keeps only its hash and cannot show it again.")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[uuid.UUID, typer.Argument()]) -> None:
    """Revoke a token (effective on every intake within its cache time, 30 s by default)."""
    if not _with_store(lambda s: s.revoke_token(token_id)):
        typer.echo(f"no active token {token_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {token_id}")


@token_app.command("list")
def token_list(
    subject: Annotated[str | None, typer.Option(help="Only this organisation or group.")] = None,
) -> None:
    """List tokens (never their secrets)."""
    for token in _with_store(lambda s: s.list_tokens(subject)):
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        typer.echo(
            f"{token.token_id}\t{token.kind.value}:{token.subject}\t{token.label}\t"
            f"{','.join(token.scopes)}\t{state}\tlast used {used}"
        )


@audit_app.command("list")
def audit_list(
    network: Annotated[
        str | None, typer.Option(help="Only what a network's coordinator sees.")
    ] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action, e.g. `token.created`.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 500,
) -> None:
    """List audit entries, newest first (tab-separated)."""
    entries = _with_store(
        lambda s: audit.list_entries(s.pool, network_id=network, action=action, limit=limit)
    )
    for e in entries:
        typer.echo(
            f"{e.entry_id}\t{e.occurred_at:%Y-%m-%d %H:%M:%S%z}\t{e.action}\t"
            f"{e.actor_role}:{e.actor_subject or '-'}\t{e.subject_kind}:{e.subject or '-'}\t"
            f"{e.target or '-'}\t{orjson.dumps(e.details).decode()}"
        )
