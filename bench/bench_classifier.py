"""Throughput of the classifier's pure function on one core, with and without a learned model.

    .venv/bin/python -m bench.bench_classifier [--repeat 30]

Texts: the dev set (short field signals) and the demo samples (longer), classified as a
running service does (caches warm after the first pass). The model is trained on the dev set
itself: its size, not its quality, is what matters for speed. The ``*_batch`` rows classify
with ``classify_many`` as the service does. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from services.classifier.domain import (
    LearnedModel,
    Taxonomy,
    TrainingExample,
    classify,
    classify_many,
    load_default_taxonomy,
    train,
)

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path, key: str | None = None) -> list[dict[str, object]]:
    items = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [item[key] if key else item for item in items]


def classify_all(
    texts: Sequence[str],
    taxonomy: Taxonomy,
    now: datetime,
    model: LearnedModel | None,
    batch: int,
) -> None:
    """One pass: `classify` per text, or `classify_many` in batches of `batch` (a service's)."""
    if batch:
        for start in range(0, len(texts), batch):
            classify_many(texts[start : start + batch], taxonomy, classified_at=now, model=model)
    else:
        for text in texts:
            classify(text, taxonomy, classified_at=now, model=model)


def _rate(
    texts: Sequence[str], repeat: int, model: LearnedModel | None, batch: int = 0
) -> dict[str, float]:
    taxonomy = load_default_taxonomy()
    now = datetime.now(UTC)
    for text in texts:  # warm the per-word caches once, as a running service has them
        classify(text, taxonomy, classified_at=now, model=model)
    rounds = []
    cpu_rounds = []
    for _ in range(repeat):
        started = time.perf_counter()
        cpu_started = time.thread_time()
        classify_all(texts, taxonomy, now, model, batch)
        cpu_rounds.append((time.thread_time() - cpu_started) / len(texts))
        rounds.append((time.perf_counter() - started) / len(texts))
    return {
        "per_second_median": round(1 / statistics.median(rounds)),
        "per_second_best": round(1 / min(rounds)),
        "microseconds_p50": round(statistics.median(rounds) * 1e6, 1),
        # CPU time of this thread only: what one core does, even when others share it.
        "per_cpu_second_median": round(1 / statistics.median(cpu_rounds)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    dev = _load(ROOT / "data" / "classifier" / "dev.jsonl")
    short = [str(item["text"]) for item in dev]
    long = [
        str(item["signal"]["text"])  # type: ignore[index]
        for item in _load(ROOT / "data" / "samples" / "signals.jsonl")
    ]
    # The lengths field signals have (130-360 characters), from every text we have.
    pool = (
        short
        + long
        + [str(i["text"]) for i in _load(ROOT / "data" / "classifier" / "heldout.jsonl")]
    )
    realistic = [text for text in pool if 130 <= len(text) <= 360]
    taxonomy = load_default_taxonomy()
    model = train(
        [TrainingExample(str(i["text"]), tuple(i["domains"])) for i in dev],  # type: ignore[arg-type]
        domains=taxonomy.domain_ids,
        taxonomy_id=taxonomy.id,
        trained_at=datetime.now(UTC),
    )
    report = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "short_texts": {"count": len(short), "mean_chars": round(statistics.mean(map(len, short)))},
        "long_texts": {"count": len(long), "mean_chars": round(statistics.mean(map(len, long)))},
        "realistic_texts": {
            "count": len(realistic),
            "mean_chars": round(statistics.mean(map(len, realistic))),
        },
        "model": {"version": model.version, "features": len(model.weights)},
        "lexicon_short": _rate(short, args.repeat, None),
        "lexicon_long": _rate(long, args.repeat, None),
        "lexicon_realistic": _rate(realistic, args.repeat, None),
        "with_model_short": _rate(short, args.repeat, model),
        "with_model_realistic": _rate(realistic, args.repeat, model),
        "with_model_long": _rate(long, args.repeat, model),
        # As the service classifies: whole batches (classify_many, identical results).
        "lexicon_realistic_batch": _rate(realistic, args.repeat, None, batch=500),
        "with_model_realistic_batch": _rate(realistic, args.repeat, model, batch=500),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
