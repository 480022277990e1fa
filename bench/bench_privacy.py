"""How well and how fast the personal-data scrubber works, measured on an annotated corpus.

    .venv/bin/python -m bench.bench_privacy [--repeat 30] [--show-misses] [--corpus FILE]

The corpus (``data/privacy/corpus.jsonl``) holds realistic field signals, each with the pieces
of personal data that must go (``personal``: kind + exact text), pieces that must stay
(``keep``), and clean signals with nothing personal at all. It prints, as JSON:

- recall per kind and overall: a piece counts as caught only when every character of it is
  redacted (a half-scrubbed phone number still identifies someone); ``typed`` also asks that
  the placeholder is of the right kind;
- false redactions: redactions that touch no annotated piece (spans, and characters as a share
  of all text that is not personal data), clean signals that changed, ``keep`` parts touched;
- throughput in texts per second on one core, for the corpus and for the sample signals.

``data/privacy/heldout.jsonl`` (``--corpus``) was written after the scrubber was tuned on the
main corpus and is kept apart from tuning: its numbers are the honest ones for unseen text.

Prints numbers; asserts nothing. With ``--show-misses`` it also lists what slipped through and
what was removed wrongly (the corpus is invented, so printing it leaks nothing).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from schemas.v1 import RedactionKind
from services.intake.domain.privacy import Redaction, scrub

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "privacy" / "corpus.jsonl"
SAMPLES = ROOT / "data" / "samples" / "signals.jsonl"
STRUCTURED = frozenset(RedactionKind) - {RedactionKind.NAME}


@dataclass(frozen=True)
class Piece:
    kind: RedactionKind
    start: int
    end: int


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    personal: tuple[Piece, ...]
    keep: tuple[tuple[int, int], ...]


def _occurrences(text: str, part: str) -> list[tuple[int, int]]:
    found, at = [], text.find(part)
    while at != -1:
        found.append((at, at + len(part)))
        at = text.find(part, at + 1)
    if not found:
        raise ValueError(f"annotated text {part!r} does not occur in {text!r}")
    return found


def load_corpus(path: Path = CORPUS) -> list[Item]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        text = raw["text"]
        personal = tuple(
            Piece(RedactionKind(p["kind"]), start, end)
            for p in raw["personal"]
            for start, end in _occurrences(text, p["text"])
        )
        keep = tuple(span for part in raw["keep"] for span in _occurrences(text, part))
        items.append(Item(raw["id"], text, personal, keep))
    return items


def _covered(piece: Piece, redactions: tuple[Redaction, ...], text: str) -> bool:
    """Every non-space character of the piece lies inside some redaction."""
    return all(
        text[i].isspace() or any(r.start <= i < r.end for r in redactions)
        for i in range(piece.start, piece.end)
    )


def _typed(piece: Piece, redactions: tuple[Redaction, ...]) -> bool:
    touching = [r for r in redactions if r.start < piece.end and piece.start < r.end]
    return bool(touching) and all(r.kind == piece.kind for r in touching)


def evaluate(items: list[Item], show: bool) -> dict[str, object]:
    caught: Counter[str] = Counter()
    typed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    spans = false_spans = false_chars = clean_chars = 0
    clean_changed = keep_touched = 0
    misses: list[str] = []
    wrong: list[str] = []
    for item in items:
        result = scrub(item.text)
        for piece in item.personal:
            kind = piece.kind.value
            total[kind] += 1
            if _covered(piece, result.redactions, item.text):
                caught[kind] += 1
                typed[kind] += _typed(piece, result.redactions)
            else:
                misses.append(f"{item.id} {kind}: {item.text[piece.start : piece.end]!r}")
        personal_chars = {i for p in item.personal for i in range(p.start, p.end)}
        clean_chars += len(item.text) - len(personal_chars)
        for r in result.redactions:
            spans += 1
            outside = [i for i in range(r.start, r.end) if i not in personal_chars]
            false_chars += sum(not item.text[i].isspace() for i in outside)
            if len(outside) == r.end - r.start:
                false_spans += 1
                wrong.append(f"{item.id} {r.kind.value}: {item.text[r.start : r.end]!r}")
        if not item.personal and result.changed:
            clean_changed += 1
        keep_touched += sum(
            any(r.start < end and start < r.end for r in result.redactions)
            for start, end in item.keep
        )

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    structured = [k.value for k in STRUCTURED]
    report: dict[str, object] = {
        "items": len(items),
        "clean_items": sum(not i.personal for i in items),
        "recall_per_kind": {
            kind: {
                "caught": caught[kind],
                "of": total[kind],
                "recall": ratio(caught[kind], n),
                "typed_recall": ratio(typed[kind], n),
            }
            for kind, n in sorted(total.items())
        },
        "recall_overall": ratio(sum(caught.values()), sum(total.values())),
        "recall_structured": ratio(
            sum(caught[k] for k in structured), sum(total[k] for k in structured)
        ),
        "recall_names": ratio(caught["naam"], total["naam"]),
        "redaction_spans": spans,
        "false_redaction_spans": false_spans,
        "false_redaction_span_rate": ratio(false_spans, spans),
        "false_redacted_char_rate": ratio(false_chars, clean_chars),
        "clean_items_changed": sum(1 for _ in range(clean_changed)),
        "keep_parts_touched": keep_touched,
    }
    if show:
        report["misses"] = misses
        report["false_redactions"] = wrong
    return report


def throughput(texts: list[str], repeat: int) -> dict[str, float]:
    for text in texts:  # warm the per-word caches, as a running service has them
        scrub(text)
    rounds = []
    for _ in range(repeat):
        started = time.perf_counter()
        for text in texts:
            scrub(text)
        rounds.append((time.perf_counter() - started) / len(texts))
    return {
        "texts": len(texts),
        "mean_chars": round(statistics.mean(len(t) for t in texts)),
        "texts_per_second_median": round(1 / statistics.median(rounds)),
        "texts_per_second_best": round(1 / min(rounds)),
        "microseconds_per_text_p50": round(statistics.median(rounds) * 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30, help="timed rounds over each text set")
    parser.add_argument("--show-misses", action="store_true", help="list misses and false hits")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="annotated JSON lines")
    args = parser.parse_args()
    items = load_corpus(args.corpus)
    samples = [
        json.loads(line)["signal"]["text"]
        for line in SAMPLES.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    report = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "quality": evaluate(items, args.show_misses),
        "throughput_corpus": throughput([i.text for i in items], args.repeat),
        "throughput_samples": throughput(samples, args.repeat),
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
