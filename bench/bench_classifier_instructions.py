"""Instructions per signal of the classifier's pure function, with and without a learned model:
a load-independent measure for a shared machine (wall-clock and even CPU-time rates swing
with what the other processes do to the caches).

    valgrind --tool=callgrind --collect-atstart=no --toggle-collect='functools_reduce' \\
        --callgrind-out-file=/tmp/cg.%p .venv/bin/python -m bench.bench_classifier_instructions \\
        --case realistic-model
    callgrind_annotate /tmp/cg.<pid> | head   # "PROGRAM TOTALS" / (texts x repeat)

Or let the script run valgrind itself for every case and print the table:

    .venv/bin/python -m bench.bench_classifier_instructions --all

Only the warm hot loop is counted: collection is toggled on a ``functools.reduce`` around it
(caches filled in a first pass, as in a running service). Texts and model are those of
``bench.bench_classifier``. ``--batch`` classifies with ``classify_many`` in batches of that
size instead of one ``classify`` per text; ``--tuned-gc`` collects garbage as the service
does (:func:`services.common.gc_tuning.tune_garbage_collector`). Prints numbers; asserts
nothing.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.bench_classifier import ROOT, _load, classify_all
from services.classifier.domain import (
    LearnedModel,
    TrainingExample,
    classify,
    classify_many,
    load_default_taxonomy,
    train,
)
from services.common.gc_tuning import tune_garbage_collector

CASES = ("realistic-lexicon", "realistic-model", "dev-lexicon", "dev-model")


def _texts(kind: str) -> list[str]:
    dev = [str(item["text"]) for item in _load(ROOT / "data" / "classifier" / "dev.jsonl")]
    if kind == "dev":
        return dev
    long = [
        str(item["signal"]["text"])  # type: ignore[index]
        for item in _load(ROOT / "data" / "samples" / "signals.jsonl")
    ]
    heldout = [str(i["text"]) for i in _load(ROOT / "data" / "classifier" / "heldout.jsonl")]
    return [text for text in dev + long + heldout if 130 <= len(text) <= 360]


def _model() -> LearnedModel:
    """The bench's model, trained on the dev set; kept in the temp folder per dev set and
    taxonomy (training under valgrind takes minutes)."""
    taxonomy = load_default_taxonomy()
    source = (ROOT / "data" / "classifier" / "dev.jsonl").read_bytes()
    digest = hashlib.sha256(source + taxonomy.fingerprint.encode()).hexdigest()[:16]
    cached = Path(tempfile.gettempdir()) / f"seinpost-bench-model-{digest}.json"
    if cached.exists():
        return LearnedModel.from_json(cached.read_text("utf-8"))
    dev = _load(ROOT / "data" / "classifier" / "dev.jsonl")
    model = train(
        [TrainingExample(str(i["text"]), tuple(i["domains"])) for i in dev],  # type: ignore[arg-type]
        domains=taxonomy.domain_ids,
        taxonomy_id=taxonomy.id,
        trained_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    cached.write_text(model.to_json(), "utf-8")
    return model


def run_case(case: str, repeat: int, batch: int, tuned_gc: bool = False) -> int:
    kind, which = case.split("-")
    texts = _texts(kind)
    taxonomy = load_default_taxonomy()
    model = _model() if which == "model" else None
    now = datetime.now(UTC)
    for text in texts:  # warm the per-word caches, as a running service has them
        classify(text, taxonomy, classified_at=now, model=model)
    classify_many(texts[:3], taxonomy, classified_at=now, model=model)
    if tuned_gc:
        tune_garbage_collector()

    def one_round(done: int, _: int) -> int:
        classify_all(texts, taxonomy, now, model, batch)
        return done + len(texts)

    return functools.reduce(one_round, range(repeat), 0)


def _measure(case: str, repeat: int, batch: int, tuned_gc: bool) -> float:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "cg.out"
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        # Fixed argument list: valgrind from PATH (see the docstring) running this very script.
        command = [
            "valgrind",
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=functools_reduce",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "bench.bench_classifier_instructions",
            "--case",
            case,
            "--repeat",
            str(repeat),
            "--batch",
            str(batch),
        ]
        done = subprocess.run(  # noqa: S603
            command,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        signals = int(done.stdout.strip().splitlines()[-1])
        totals = re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE)
        if totals is None:
            totals = re.search(r"^totals: (\d+)", out.read_text(), re.MULTILINE)
        assert totals is not None, "no totals in the callgrind output"
        return int(totals.group(1)) / signals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--case", choices=CASES, default="realistic-model")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--batch", type=int, default=0, help="classify_many batch size (0: off)")
    parser.add_argument(
        "--tuned-gc", action="store_true", help="collect garbage as the service does (gc.freeze)"
    )
    parser.add_argument("--all", action="store_true", help="run valgrind for every case")
    args = parser.parse_args()
    if not args.all:
        print(run_case(args.case, args.repeat, args.batch, args.tuned_gc))
        return
    report: dict[str, object] = {}
    for case in CASES:
        report[case] = round(_measure(case, args.repeat, args.batch, args.tuned_gc))
    for kind in ("realistic", "dev"):
        lexicon = report[f"{kind}-lexicon"]
        with_model = report[f"{kind}-model"]
        assert isinstance(lexicon, int)
        assert isinstance(with_model, int)
        report[f"{kind}-rate-ratio"] = round(lexicon / with_model, 3)
    print(
        json.dumps(
            {"instructions_per_signal": report, "batch": args.batch, "tuned_gc": args.tuned_gc},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
