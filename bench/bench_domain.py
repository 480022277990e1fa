"""Throughput of the pure domain functions on this machine: scrubbing and classifying.

    .venv/bin/python -m bench.bench_domain [--repeat 100]

Prints numbers; asserts nothing. End-to-end numbers (Kafka, PostgreSQL) belong to the pipeline
benchmark, not here.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from services.classifier.domain import classify, load_default_taxonomy
from services.intake.domain.privacy import scrub

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples" / "signals.jsonl"


def _texts() -> list[str]:
    lines = SAMPLES.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["signal"]["text"] for line in lines if line.strip()]


def _rate(work: Callable[[str], object], texts: list[str], repeat: int) -> dict[str, float]:
    rounds = []
    for _ in range(repeat):
        started = time.perf_counter()
        for text in texts:
            work(text)
        rounds.append(time.perf_counter() - started)
    per_item = [elapsed / len(texts) for elapsed in rounds]
    return {
        "per_second_median": round(1 / statistics.median(per_item)),
        "microseconds_p50": round(statistics.median(per_item) * 1e6, 1),
        "microseconds_worst_round": round(max(per_item) * 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50, help="rounds over the sample set")
    args = parser.parse_args()
    texts = _texts()
    taxonomy = load_default_taxonomy()
    now = datetime.now(UTC)
    classify(texts[0], taxonomy, classified_at=now)  # warm caches once, as a running service has
    report = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "texts": len(texts),
        "mean_text_chars": round(statistics.mean(len(t) for t in texts)),
        "scrub": _rate(scrub, texts, args.repeat),
        "classify": _rate(lambda t: classify(t, taxonomy, classified_at=now), texts, args.repeat),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
