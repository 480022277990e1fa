"""The ``seinpost`` command: run each service, the local stack, bundles and the demo."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from services.aggregator.cli import (
    bundle_command,
    network_app,
    retention_app,
    steering_group_app,
)
from services.classifier.cli import register as register_classifier_commands
from services.common.access.cli import audit_app, organisation_app, token_app
from services.importer import import_command

app = typer.Typer(
    name="seinpost",
    help="Seinpost: signalen van het terrein tot bij het beleid.",
    no_args_is_help=True,
    add_completion=False,
)
intake_app = typer.Typer(help="The HTTP intake service.", no_args_is_help=True)
classifier_app = typer.Typer(help="The life-domain classifier service.", no_args_is_help=True)
aggregator_app = typer.Typer(help="The aggregator service (PostgreSQL).", no_args_is_help=True)
stack_app = typer.Typer(
    help="The local Kafka + PostgreSQL stack (deploy/local).", no_args_is_help=True
)
schemas_app = typer.Typer(help="The event contract (JSON Schema files).", no_args_is_help=True)
app.add_typer(intake_app, name="intake")
app.add_typer(classifier_app, name="classifier")
app.add_typer(aggregator_app, name="aggregator")
app.add_typer(schemas_app, name="schemas")
register_classifier_commands(app, classifier_app)
app.add_typer(organisation_app, name="organisation")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(steering_group_app, name="steering-group")
app.add_typer(network_app, name="network")
app.add_typer(retention_app, name="retention")
app.command("bundle")(bundle_command)
app.command("import")(import_command)  # services/importer.py: seinpost import FILE

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STACK_SCRIPT = PROJECT_ROOT / "deploy" / "local" / "stack.sh"


@intake_app.command("run")
def intake_run(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port.")] = None,
) -> None:
    """Serve POST /v1/signals."""
    from services.intake.app import run
    from services.intake.settings import IntakeSettings

    settings = IntakeSettings()
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    run(settings.model_copy(update=overrides))


@intake_app.command("openapi")
def intake_openapi(
    check: Annotated[bool, typer.Option(help="Only check docs/openapi/intake.json.")] = False,
) -> None:
    """Write (or check) the committed OpenAPI document of intake."""
    from services.intake.openapi import main as openapi_main

    raise typer.Exit(openapi_main(["--check"] if check else []))


@classifier_app.command("run")
def classifier_run() -> None:
    """Consume submitted signals and publish them classified."""
    from services.classifier.app import run

    asyncio.run(run())


@aggregator_app.command("run")
def aggregator_run() -> None:
    """Consume classified signals and store them in PostgreSQL."""
    from services.aggregator.app import run

    asyncio.run(run())


@aggregator_app.command("migrate")
def aggregator_migrate() -> None:
    """Apply the database migrations (the aggregator also does this at start)."""
    from services.aggregator.settings import AggregatorSettings
    from services.aggregator.storage import migrate
    from services.common.postgres import create_pool

    async def _migrate() -> list[int]:
        pool = await create_pool(AggregatorSettings().postgres)
        try:
            async with pool.acquire() as connection:
                return await migrate(connection)
        finally:
            await pool.close()

    applied = asyncio.run(_migrate())
    typer.echo(f"applied migrations: {applied}" if applied else "database is up to date")


@aggregator_app.command("api")
def aggregator_api(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port (default 8081).")] = None,
) -> None:
    """Serve the aggregator API: bundles, themes, decisions, feedback, corrections."""
    from services.aggregator.api import serve
    from services.aggregator.settings import AggregatorSettings
    from services.asyncapi import specification
    from services.intake.domain.privacy import scrub

    settings = AggregatorSettings()
    overrides = {k: v for k, v in {"api_host": host, "api_port": port}.items() if v is not None}
    # Composed here because the aggregator may not import intake: free text from steering
    # groups goes through the same scrubber as signals before it reaches a topic. The event
    # contract spans every service, so its document is composed here too (once, on demand).
    document = functools.cache(lambda: specification(settings.kafka))
    asyncio.run(
        serve(
            settings.model_copy(update=overrides),
            scrub=lambda t: scrub(t).text,
            asyncapi=document,
        )
    )


@app.command("asyncapi")
def asyncapi_document(
    check: Annotated[bool, typer.Option(help="Only check docs/asyncapi/seinpost.json.")] = False,
) -> None:
    """Write (or check) the committed AsyncAPI document of every topic."""
    from services.asyncapi import main as asyncapi_main

    raise typer.Exit(asyncapi_main(["--check"] if check else []))


@app.command("topics")
def topics_ensure() -> None:
    """Create the Kafka topics that do not exist yet."""
    from services.common.kafka import ensure_topics
    from services.common.settings import KafkaSettings

    created = asyncio.run(ensure_topics(KafkaSettings()))
    typer.echo(f"created: {', '.join(created)}" if created else "all topics exist")


@app.command("submit")
def submit(
    file: Annotated[Path, typer.Argument(help="JSON lines: signal bodies or {'signal': body}.")],
    url: Annotated[str, typer.Option(help="Intake base URL.")] = "http://127.0.0.1:8080",
    token: Annotated[
        str | None, typer.Option(envvar="SEINPOST_TOKEN", help="API token (spt_…).")
    ] = None,
) -> None:
    """Send signals from a file to intake over HTTP (retries 503 with the same signal_id)."""
    from services.workflows import load_signal_bodies, submit_all

    bodies = load_signal_bodies(file)
    report = asyncio.run(submit_all(url, bodies, token=token))
    typer.echo(f"accepted {report.accepted}, rejected {len(report.rejected)}")
    for signal_id, status, body in report.rejected:
        typer.echo(f"  {signal_id}: HTTP {status} {body}")
    if report.rejected:
        raise typer.Exit(1)


@app.command("demo")
def demo(
    exit_when_done: Annotated[
        bool, typer.Option("--exit", help="Stop everything after the bundle instead of waiting.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port for intake.")] = 8080,
) -> None:
    """Start the stack and the three services, send the sample set, compile a bundle."""
    from services.demo import run_demo

    raise typer.Exit(run_demo(PROJECT_ROOT, port=port, wait_for_ctrl_c=not exit_when_done))


class StackAction(StrEnum):
    START = "start"
    STOP = "stop"
    STATUS = "status"
    ENV = "env"
    LOGS = "logs"


class StackComponent(StrEnum):
    ALL = "all"
    KAFKA = "kafka"
    POSTGRES = "postgres"


@app.command("stack")
def stack(
    action: Annotated[StackAction, typer.Argument(help="What to do.")],
    component: Annotated[StackComponent, typer.Argument(help="Which server.")] = StackComponent.ALL,
) -> None:
    """The local Kafka + PostgreSQL stack (deploy/local/stack.sh); start is idempotent."""
    if not STACK_SCRIPT.exists():
        typer.echo("deploy/local/stack.sh not found: run this from a source checkout", err=True)
        raise typer.Exit(2)
    command = ["bash", str(STACK_SCRIPT), action.value, component.value]
    raise typer.Exit(subprocess.call(command, env=os.environ.copy()))  # noqa: S603


@schemas_app.command("export")
def schemas_export(
    check: Annotated[
        bool, typer.Option(help="Only check that the files match the models.")
    ] = False,
) -> None:
    """Write the JSON Schema files under schemas/jsonschema from the models."""
    from schemas.export import main as export_main

    raise typer.Exit(export_main(["--check"] if check else []))


def main() -> None:
    from services.common.logging import configure_logging

    # JSON lines on stderr like every service (the `run` commands reconfigure with their own
    # name); stdout stays for what a command prints, such as a new token's secret.
    configure_logging("cli")
    app()


if __name__ == "__main__":
    main()
