"""Classifier commands: `seinpost classify`, `seinpost classifier eval|train|run`.

Registered in ``services/cli.py``: :func:`register` adds the sub-commands to the classifier
group and the top-level ``classify`` command.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from services.classifier.domain import (
    LearnedModel,
    Taxonomy,
    classifier_version,
    classify,
    load_taxonomy,
)
from services.classifier.domain.evaluation import LabeledPrediction, evaluate, render_report
from services.classifier.settings import ClassifierSettings
from services.classifier.storage import ModelFiles

TaxonomyOption = Annotated[
    Path | None,
    typer.Option("--taxonomy", help="Taxonomy file (TOML); default: the packaged taxonomy."),
]
ModelOption = Annotated[
    bool,
    typer.Option(
        "--model/--no-model",
        help="Blend in the learned model of this taxonomy from the model folder, if present.",
    ),
]


def _read_lines(source: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise typer.BadParameter(f"line {number}: not JSON ({error.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise typer.BadParameter(f'line {number}: expected an object with a "text" string')
        yield number, item


def _setup(taxonomy_file: Path | None, use_model: bool) -> tuple[Taxonomy, LearnedModel | None]:
    try:
        taxonomy = load_taxonomy(taxonomy_file)
    except (OSError, ValueError) as error:
        raise typer.BadParameter(str(error), param_hint="--taxonomy") from None
    model = ModelFiles(ClassifierSettings().model_dir).load(taxonomy.id) if use_model else None
    return taxonomy, model


def classify_command(
    file: Annotated[
        Path | None, typer.Argument(help='JSON lines {"id": ..., "text": ...}; default: stdin.')
    ] = None,
    taxonomy_file: TaxonomyOption = None,
    use_model: ModelOption = True,
) -> None:
    """Tag texts with life domains: JSON lines in, JSON lines out (domains ranked, scores,
    evidence, primary domain, needs_review)."""
    taxonomy, model = _setup(taxonomy_file, use_model)
    now = datetime.now(UTC)
    with file.open(encoding="utf-8") if file else sys.stdin as source:
        for number, item in _read_lines(source):
            result = classify(item["text"], taxonomy, classified_at=now, model=model)
            out = {
                "id": item.get("id", number),
                "primary_domain": result.primary_domain,
                "needs_review": result.needs_review,
                "domains": [tag.model_dump(mode="json") for tag in result.domains],
                "scores": dict(sorted(result.scores.items(), key=lambda kv: -kv[1])),
                "classifier_version": result.classifier_version,
            }
            typer.echo(json.dumps(out, ensure_ascii=False))


def eval_command(
    labeled: Annotated[
        Path, typer.Argument(help='JSON lines {"id", "text", "domains": [primary, ...]}.')
    ],
    taxonomy_file: TaxonomyOption = None,
    use_model: ModelOption = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    errors: Annotated[
        bool, typer.Option("--errors", help="Also list the items whose primary is wrong.")
    ] = False,
) -> None:
    """Per-domain precision, recall and F1, micro and macro F1, top-1 accuracy, confusions."""
    taxonomy, model = _setup(taxonomy_file, use_model)
    now = datetime.now(UTC)
    predictions = []
    texts: dict[str, str] = {}
    with labeled.open(encoding="utf-8") as source:
        for number, item in _read_lines(source):
            gold = item.get("domains")
            if not isinstance(gold, list) or not gold or not all(isinstance(d, str) for d in gold):
                raise typer.BadParameter(f'line {number}: "domains" must be a non-empty list')
            item_id = str(item.get("id", number))
            result = classify(item["text"], taxonomy, classified_at=now, model=model)
            texts[item_id] = item["text"]
            predictions.append(
                LabeledPrediction(item_id, tuple(gold), tuple(tag.domain for tag in result.domains))
            )
    report = evaluate(predictions, taxonomy.domain_ids)
    if as_json:
        typer.echo(
            json.dumps(
                {"classifier_version": classifier_version(taxonomy, model), **report.as_dict()},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    typer.echo(f"classifier {classifier_version(taxonomy, model)}")
    typer.echo(render_report(report))
    if errors:
        typer.echo("\nitems whose primary domain is not gold:")
        for wrong in report.errors:
            typer.echo(f"  {wrong.item_id}: gold {list(wrong.gold)} got {list(wrong.predicted)}")
            typer.echo(f"      {texts[wrong.item_id][:160]}")


def train_command(
    taxonomy_file: TaxonomyOption = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file",
            help="Train on labeled JSON lines instead of the stored corrections (to try out).",
        ),
    ] = None,
) -> None:
    """Learn a model from the corrections stored for this taxonomy and write it to the model
    folder; a running classifier picks it up within SEINPOST_CLASSIFIER_MODEL_CHECK_S."""
    from services.classifier.domain import TrainingExample, train

    settings = ClassifierSettings()
    taxonomy, _ = _setup(taxonomy_file, use_model=False)
    if from_file is not None:
        with from_file.open(encoding="utf-8") as source:
            examples = [
                TrainingExample(item["text"], tuple(item["domains"]))
                for _, item in _read_lines(source)
            ]
    else:
        examples = asyncio.run(_stored_examples(settings, taxonomy.id))
    try:
        model = train(
            examples,
            domains=taxonomy.domain_ids,
            taxonomy_id=taxonomy.id,
            trained_at=datetime.now(UTC),
        )
    except ValueError as error:
        typer.echo(f"niet getraind: {error}", err=True)
        raise typer.Exit(1) from None
    path = ModelFiles(settings.model_dir).save(model)
    typer.echo(f"model {model.version}: {model.corrections} corrections, taxonomy {taxonomy.id}")
    typer.echo(f"  domains learned: {', '.join(sorted(model.intercepts)) or '-'}")
    typer.echo(f"  written to {path}")


async def _stored_examples(settings: ClassifierSettings, taxonomy_id: str) -> list[Any]:
    from services.classifier.storage import PostgresCorrectionStore
    from services.common.postgres import create_pool

    pool = await create_pool(settings.postgres)
    try:
        store = PostgresCorrectionStore(pool)
        await store.migrate()
        return list(await store.training_examples(taxonomy_id))
    finally:
        await pool.close()


def register(app: typer.Typer, classifier_app: typer.Typer) -> None:
    app.command("classify")(classify_command)
    classifier_app.command("eval")(eval_command)
    classifier_app.command("train")(train_command)
