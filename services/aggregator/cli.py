"""``seinpost steering-group …``, ``seinpost network …``, ``seinpost bundle`` and
``seinpost aggregator api``: the aggregator's commands, registered in ``services/cli.py``."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from schemas.vocabulary import LIFE_DOMAIN_LABELS
from services.aggregator.periods import CADENCE_MONTHS, Period, parse_period
from services.aggregator.settings import AggregatorSettings
from services.aggregator.storage import Network, PostgresSignalStore, SteeringGroup, migrate
from services.common.places import UnknownPlaceError, load_places, resolve_area
from services.common.postgres import create_pool

T = TypeVar("T")

steering_group_app = typer.Typer(
    help="Steering groups (stuurgroepen): area, life domains, cadence, minimum group size.",
    no_args_is_help=True,
)
network_app = typer.Typer(help="Local networks a steering group belongs to.", no_args_is_help=True)
retention_app = typer.Typer(
    help="Retention: remove free text older than the retention period.", no_args_is_help=True
)


def _with_store(work: Callable[[PostgresSignalStore], Awaitable[T]]) -> T:
    async def run() -> T:
        pool = await create_pool(AggregatorSettings().postgres)
        try:
            async with pool.acquire() as connection:
                await migrate(connection)
            return await work(PostgresSignalStore(pool))
        finally:
            await pool.close()

    return asyncio.run(run())


_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _slug_ok(value: str) -> bool:
    return _ID.match(value) is not None


@network_app.command("add")
def network_add(
    network_id: Annotated[str, typer.Argument(help="Id, e.g. `gent`.")],
    name: Annotated[str, typer.Option(help="Name of the network.")],
) -> None:
    """Add a network (or rename it)."""
    if not _slug_ok(network_id):
        raise typer.BadParameter("id: kleine letters, cijfers, - en _")
    _with_store(lambda store: store.upsert_network(Network(network_id, name.strip())))
    typer.echo(f"network {network_id}: {name}")


@network_app.command("list")
def network_list() -> None:
    """List the networks."""
    for network in _with_store(lambda store: store.networks()):
        typer.echo(f"{network.network_id}\t{network.name}")


def _describe(group: SteeringGroup) -> str:
    lines = [
        f"{group.steering_group_id}: {group.name}",
        f"  network:         {group.network_id or '-'}",
        f"  municipalities:  {', '.join(group.municipalities)}",
        f"  neighbourhoods:  {', '.join(group.neighbourhoods) if group.neighbourhoods else 'all'}",
        "  domains:         "
        + (", ".join(group.domains_of_interest) if group.domains_of_interest else "all"),
        f"  cadence:         {group.cadence} ({group.period_months} months)",
        f"  min group size:  {group.min_group_size}",
        f"  scheduled from:  {group.active_from.isoformat()}",
    ]
    return "\n".join(lines)


@steering_group_app.command("add")
def steering_group_add(
    steering_group_id: Annotated[str, typer.Argument(help="Id, e.g. `gent-noord`.")],
    name: Annotated[str, typer.Option(help="Name, e.g. 'Stuurgroep Gent Noord'.")],
    municipality: Annotated[
        list[str], typer.Option("--municipality", "-m", help="Gemeente (repeat for several).")
    ],
    neighbourhood: Annotated[
        list[str] | None, typer.Option("--neighbourhood", help="Wijk (default: all).")
    ] = None,
    domain: Annotated[
        list[str] | None, typer.Option("--domain", help="Life domain of interest (default: all).")
    ] = None,
    cadence: Annotated[str, typer.Option(help="monthly, quarterly or custom.")] = "quarterly",
    period_months: Annotated[
        int | None, typer.Option(help="Length of a custom period in months (e.g. 6, 24).")
    ] = None,
    min_group_size: Annotated[int, typer.Option(help="Smallest group a bundle shows.")] = 5,
    network: Annotated[str | None, typer.Option(help="Network id.")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Compile periods that end on or after this day (default: today)."),
    ] = None,
) -> None:
    """Add a steering group, or update it (same id)."""
    if not _slug_ok(steering_group_id):
        raise typer.BadParameter("id: kleine letters, cijfers, - en _ (max. 64)")
    places = [m.strip() for m in municipality if m.strip()]
    if not places or any(len(m) > 80 for m in places):
        raise typer.BadParameter("--municipality: minstens één gemeente, elk max. 80 tekens")
    # The same list intake checks signals against: a group for a misspelt municipality would
    # never get a signal. Aliases (pre-2025 names, French names) become the official name.
    try:
        area = resolve_area(
            load_places(), places, [n.strip() for n in neighbourhood] if neighbourhood else None
        )
    except UnknownPlaceError as error:
        raise typer.BadParameter(str(error)) from None
    unknown = [d for d in domain or [] if d not in LIFE_DOMAIN_LABELS]
    if unknown:
        raise typer.BadParameter(
            f"--domain: onbekend levensdomein {', '.join(unknown)}; "
            f"kies uit {', '.join(LIFE_DOMAIN_LABELS)}"
        )
    if cadence == "custom":
        if period_months is None:
            raise typer.BadParameter("--cadence custom vraagt --period-months")
        months = period_months
    elif cadence in CADENCE_MONTHS:
        months = CADENCE_MONTHS[cadence]
    else:
        raise typer.BadParameter("--cadence: monthly, quarterly of custom")
    if not 1 <= months <= 36:
        raise typer.BadParameter("--period-months: 1 tot 36")
    if min_group_size < 2:
        raise typer.BadParameter("--min-group-size: minstens 2")
    group = SteeringGroup(
        steering_group_id=steering_group_id,
        name=name.strip(),
        network_id=network,
        municipalities=area.municipalities,
        neighbourhoods=area.neighbourhoods,
        domains_of_interest=tuple(domain) if domain else None,
        cadence=cadence,
        period_months=months,
        min_group_size=min_group_size,
        active_from=date.fromisoformat(since) if since else date.today(),
    )
    _with_store(lambda store: store.upsert_steering_group(group))
    typer.echo(_describe(group))


@steering_group_app.command("list")
def steering_group_list() -> None:
    """List the steering groups."""
    for group in _with_store(lambda store: store.steering_groups()):
        typer.echo(
            f"{group.steering_group_id}\t{group.name}\t{', '.join(group.municipalities)}\t"
            f"{group.cadence}"
        )


@steering_group_app.command("show")
def steering_group_show(
    steering_group_id: Annotated[str, typer.Argument(help="Steering group id.")],
) -> None:
    """Show a steering group and its bundles."""

    async def load(
        store: PostgresSignalStore,
    ) -> tuple[SteeringGroup | None, list[str]]:
        group = await store.steering_group(steering_group_id)
        bundles = [
            f"  {b.period_start}..{b.period_end} v{b.version} {b.bundle_id} "
            f"({b.trigger}, {'published' if b.published_at else 'NOT published'})"
            for b in await store.bundles_of(steering_group_id)
        ]
        return group, bundles

    group, bundles = _with_store(load)
    if group is None:
        typer.echo(f"no steering group '{steering_group_id}'", err=True)
        raise typer.Exit(1)
    typer.echo(_describe(group))
    typer.echo("bundles:" if bundles else "bundles: none yet")
    for line in bundles:
        typer.echo(line)


def _period(period: str | None, start: str | None, end: str | None) -> Period | None:
    if period and (start or end):
        raise typer.BadParameter("use --period or --from/--to, not both")
    if period:
        try:
            return parse_period(period)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    if start or end:
        if not (start and end):
            raise typer.BadParameter("--from and --to go together")
        try:
            chosen = Period(date.fromisoformat(start), date.fromisoformat(end))
        except ValueError as exc:
            raise typer.BadParameter(f"dates are YYYY-MM-DD: {exc}") from None
        if chosen.end < chosen.start:
            raise typer.BadParameter("--to lies before --from")
        return chosen
    return None


def bundle_command(
    steering_group: Annotated[
        list[str] | None,
        typer.Option("--steering-group", "-s", help="Steering group id (repeat for several)."),
    ] = None,
    period: Annotated[str | None, typer.Option(help="2026-Q3, 2026-H1, 2026-07 or 2026.")] = None,
    period_start: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD), inclusive.")
    ] = None,
    period_end: Annotated[
        str | None, typer.Option("--to", help="Last day (YYYY-MM-DD), inclusive.")
    ] = None,
    municipality: Annotated[
        str | None,
        typer.Option("--municipality", "-m", help="Ad-hoc bundle for one gemeente, no group."),
    ] = None,
    due: Annotated[
        bool,
        typer.Option(
            "--due",
            help="What the scheduler does: compile every group's last closed period that has "
            "no bundle yet, republish unpublished bundles (for cron).",
        ),
    ] = False,
    min_group_size: Annotated[
        int | None, typer.Option(help="Ad-hoc only: suppress groups smaller than this.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the bundle files.")] = None,
    publish: Annotated[bool, typer.Option(help="Publish on the bundles topic.")] = True,
) -> None:
    """Compile a policy bundle (beleidsbundel): per steering group and period, or ad hoc."""
    from services.workflows import (
        BundleResult,
        UnknownSteeringGroupError,
        compile_bundle_files,
        compile_group_bundle_files,
        run_due_bundles,
    )

    settings = AggregatorSettings()
    folder = out or settings.bundle_dir
    chosen = _period(period, period_start, period_end)
    if sum(bool(x) for x in (steering_group, municipality, due)) != 1:
        raise typer.BadParameter("choose one of --steering-group, --municipality or --due")
    results: list[BundleResult]
    if due:
        report = asyncio.run(run_due_bundles(settings, out=folder))
        typer.echo(
            f"compiled {len(report.compiled)}, republished {len(report.republished)}, "
            f"failed {len(report.failed)}"
        )
        for item in report.compiled:
            typer.echo(f"  {item.steering_group_id} v{item.version} {item.bundle.bundle_id}")
        raise typer.Exit(1 if report.failed else 0)
    if municipality:
        if chosen is None:
            raise typer.BadParameter("--municipality needs --period or --from/--to")
        results = asyncio.run(
            compile_bundle_files(
                settings,
                municipalities=[municipality],
                period_start=chosen.start,
                period_end=chosen.end,
                min_group_size=min_group_size or settings.min_group_size,
                out=folder,
                publish=publish,
            )
        )
    else:
        try:
            results = asyncio.run(
                compile_group_bundle_files(
                    settings,
                    steering_group_ids=steering_group or [],
                    period=chosen,
                    out=folder,
                    publish=publish,
                )
            )
        except UnknownSteeringGroupError as exc:
            typer.echo(f"no steering group '{exc.args[0]}'", err=True)
            raise typer.Exit(1) from None
    for result in results:
        label = (
            f" ({result.steering_group_id} v{result.version})" if result.steering_group_id else ""
        )
        typer.echo(f"bundle {result.bundle.bundle_id}{label}")
        typer.echo(f"  json:     {result.files.json}")
        typer.echo(f"  html:     {result.files.html}")
        typer.echo(f"  pdf:      {result.files.pdf}")


@retention_app.command("purge")
def retention_purge(
    dry_run: Annotated[bool, typer.Option(help="Only count what would be removed.")] = False,
    before: Annotated[
        str | None,
        typer.Option(
            help="Remove free text about days before this date (YYYY-MM-DD); default: "
            "today minus SEINPOST_AGGREGATOR_RETENTION_MONTHS (24)."
        ),
    ] = None,
) -> None:
    """Remove signal texts, correction reasons, decision notes and bundle examples; keep counts."""
    from services.aggregator import retention
    from services.common.access import AccessStore

    settings = AggregatorSettings()
    try:
        cutoff = (
            date.fromisoformat(before)
            if before
            else retention.default_cutoff(settings.retention_months)
        )
    except ValueError:
        raise typer.BadParameter(f"not a date: {before!r}") from None

    async def work(store: PostgresSignalStore) -> retention.PurgeReport:
        await AccessStore(store.pool).migrate()
        return await retention.purge(store.pool, before=cutoff, dry_run=dry_run)

    report = _with_store(work)
    verb = "would remove" if dry_run else "removed"
    typer.echo(f"{verb} free text about days before {report.before.isoformat()}:")
    typer.echo(f"  signal texts:          {report.signals}")
    typer.echo(f"  correction reasons:    {report.correction_reasons}")
    typer.echo(f"  classifier examples:   {report.classifier_examples}")
    typer.echo(f"  decision notes:        {report.decision_notes}")
    typer.echo(f"  bundles (examples):    {report.bundles}")
