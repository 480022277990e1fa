"""Measuring the classifier against labeled signals: per-domain P/R/F1, micro and macro F1,
top-1 accuracy and the most common confusions. Pure: items in, numbers out.

Multi-label: a signal counts as a true positive for every gold domain that was tagged, a
false positive for every tagged domain that is not gold, a false negative for every gold
domain that was missed. Two top-1 figures, because both questions get asked:

- ``top1`` — is the classifier's primary domain one of the gold domains? (Is the first thing
  a reader sees right?)
- ``primary_exact`` — is it the *same* primary the labeller chose?
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class LabeledPrediction:
    item_id: str
    gold: tuple[str, ...]
    """Gold domains, primary first."""
    predicted: tuple[str, ...]
    """Tagged domains, ranked by score (primary first); empty when sent to review."""


@dataclass(frozen=True, slots=True)
class DomainScore:
    domain: str
    support: int
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_negatives)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    items: int
    per_domain: tuple[DomainScore, ...]
    micro_precision: float
    micro_recall: float
    micro_f1: float
    macro_f1: float
    top1: float
    primary_exact: float
    needs_review: int
    confusions: tuple[tuple[str, str, int], ...]
    """(gold primary, predicted primary, count) where the predicted primary is not gold."""
    missed: tuple[tuple[str, int], ...]
    """Gold domains most often not tagged."""
    spurious: tuple[tuple[str, int], ...]
    """Domains most often tagged without being gold."""
    errors: tuple[LabeledPrediction, ...] = field(default=())
    """Items whose primary domain is not gold (for reading, not for tuning)."""

    def as_dict(self) -> dict[str, object]:
        return {
            "items": self.items,
            "top1": round(self.top1, 4),
            "primary_exact": round(self.primary_exact, 4),
            "micro": {
                "precision": round(self.micro_precision, 4),
                "recall": round(self.micro_recall, 4),
                "f1": round(self.micro_f1, 4),
            },
            "macro_f1": round(self.macro_f1, 4),
            "needs_review": self.needs_review,
            "per_domain": {
                s.domain: {
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "support": s.support,
                }
                for s in self.per_domain
            },
            "confusions": [
                {"gold": gold, "predicted": predicted, "count": count}
                for gold, predicted, count in self.confusions
            ],
            "missed": dict(self.missed),
            "spurious": dict(self.spurious),
        }


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def evaluate(
    predictions: Iterable[LabeledPrediction], domains: Sequence[str], *, top: int = 10
) -> EvaluationReport:
    """Score ``predictions`` over ``domains`` (every domain of the taxonomy, so a domain that
    is never gold nor tagged still shows up, with zeros)."""
    items = list(predictions)
    known = list(dict.fromkeys([*domains, *(d for p in items for d in (*p.gold, *p.predicted))]))
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    top1 = primary_exact = review = 0
    errors: list[LabeledPrediction] = []
    for item in items:
        gold, predicted = set(item.gold), set(item.predicted)
        for domain in gold & predicted:
            tp[domain] += 1
        for domain in predicted - gold:
            fp[domain] += 1
        for domain in gold - predicted:
            fn[domain] += 1
        if not item.predicted:
            review += 1
            confusions[(item.gold[0], "needs_review")] += 1
            errors.append(item)
            continue
        if item.predicted[0] in gold:
            top1 += 1
        else:
            confusions[(item.gold[0], item.predicted[0])] += 1
            errors.append(item)
        if item.predicted[0] == item.gold[0]:
            primary_exact += 1
    per_domain = tuple(DomainScore(d, tp[d] + fn[d], tp[d], fp[d], fn[d]) for d in known)
    total_tp, total_fp, total_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    micro_p = _ratio(total_tp, total_tp + total_fp)
    micro_r = _ratio(total_tp, total_tp + total_fn)
    # Macro over the domains that occur (gold or tagged): a domain absent from the set says
    # nothing about the classifier and would drag the mean to zero.
    present = [s for s in per_domain if s.support or s.false_positives]
    return EvaluationReport(
        items=len(items),
        per_domain=per_domain,
        micro_precision=micro_p,
        micro_recall=micro_r,
        micro_f1=_f1(micro_p, micro_r),
        macro_f1=sum(s.f1 for s in present) / len(present) if present else 0.0,
        top1=_ratio(top1, len(items)),
        primary_exact=_ratio(primary_exact, len(items)),
        needs_review=review,
        confusions=tuple(
            (gold, predicted, count) for (gold, predicted), count in confusions.most_common(top)
        ),
        missed=tuple(fn.most_common(top)),
        spurious=tuple(fp.most_common(top)),
        errors=tuple(errors),
    )


def render_report(report: EvaluationReport) -> str:
    """Plain-text table for a terminal."""
    lines = [
        f"items {report.items}   top-1 {report.top1:.3f}   primary exact "
        f"{report.primary_exact:.3f}   micro P/R/F1 {report.micro_precision:.3f}/"
        f"{report.micro_recall:.3f}/{report.micro_f1:.3f}   macro F1 {report.macro_f1:.3f}   "
        f"needs review {report.needs_review}",
        "",
        f"{'domain':<16} {'P':>6} {'R':>6} {'F1':>6} {'support':>8}",
    ]
    lines.extend(
        f"{s.domain:<16} {s.precision:>6.3f} {s.recall:>6.3f} {s.f1:>6.3f} {s.support:>8}"
        for s in report.per_domain
    )
    if report.confusions:
        lines += ["", "most common confusions (gold primary -> predicted primary):"]
        lines.extend(f"  {g} -> {p}: {c}" for g, p, c in report.confusions)
    if report.missed:
        lines += ["", "most often missed: " + ", ".join(f"{d} {c}" for d, c in report.missed)]
    if report.spurious:
        lines += ["most often spurious: " + ", ".join(f"{d} {c}" for d, c in report.spurious)]
    return "\n".join(lines)
