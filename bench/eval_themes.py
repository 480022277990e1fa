"""How well theme grouping matches a hand-labelled set: pairwise precision and recall.

    .venv/bin/python -m bench.eval_themes [--file data/themes/dev.jsonl]

Signals are grouped within their labelled domain (as the bundle does); a pair counts as
"together" when both land in the same group. Prints a threshold sweep; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from services.aggregator.domain.text import theme_terms
from services.aggregator.domain.themes import (
    DEFAULT_THRESHOLD,
    TermSpace,
    group_block,
    pair_scores,
)

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "data" / "themes" / "dev.jsonl"
# The other signals of a quarter: IDF is fitted on everything compiled together, so the
# 59 sample signals stand in for the rest of the period.
BACKGROUND = ROOT / "data" / "samples" / "signals.jsonl"


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def evaluate(
    path: Path, threshold: float, *, background: bool = True
) -> tuple[float, float, float, int]:
    rows = _lines(path)
    extra = [str(row["signal"]["text"]) for row in _lines(BACKGROUND)] if background else []  # type: ignore[index]
    space = TermSpace.fit(
        [theme_terms(str(row["text"])) for row in rows] + [theme_terms(t) for t in extra]
    )
    by_domain: dict[str, list[int]] = defaultdict(list)
    for position, row in enumerate(rows):
        by_domain[str(row["domain"])].append(position)
    predicted: list[str] = []
    gold: list[str] = []
    groups = 0
    for domain, positions in sorted(by_domain.items()):
        found = group_block(space, positions, threshold=threshold)
        groups += len(found)
        label = {}
        for number, group in enumerate(found):
            for member in group.members:
                label[member] = f"{domain}:{number}"
        predicted.extend(label[i] for i in positions)
        gold.extend(f"{domain}:{rows[i]['theme']}" for i in positions)
    scores = pair_scores(predicted, gold)
    return scores.precision, scores.recall, scores.f1, groups


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", type=Path, default=DEV)
    args = parser.parse_args()
    rows = sum(1 for line in args.file.read_text(encoding="utf-8").splitlines() if line)
    themes = len({json.loads(line)["theme"] for line in args.file.read_text().splitlines() if line})
    print(f"{args.file.name}: {rows} signals, {themes} labelled themes")
    for background in (True, False):
        print(f"IDF fitted on {'dev + 59 sample signals' if background else 'dev set only'}")
        print("threshold  precision  recall    F1   groups")
        for step in range(4, 31, 2):
            threshold = step / 100
            precision, recall, f1, groups = evaluate(args.file, threshold, background=background)
            mark = "  <- default" if abs(threshold - DEFAULT_THRESHOLD) < 1e-9 else ""
            print(
                f"  {threshold:5.2f}     {precision:5.3f}   {recall:5.3f}  {f1:5.3f}  "
                f"{groups:5d}{mark}"
            )


if __name__ == "__main__":
    main()
