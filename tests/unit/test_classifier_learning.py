"""Negation, robustness, evaluation metrics, the learned model and the corrections handler."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from typer.testing import CliRunner

from schemas.v1 import (
    TEXT_MAX_LENGTH,
    ClassificationSource,
    CorrectionV1,
    DeadLetterEventV1,
    SignalClassifiedEventV1,
    correction_event,
)
from services.classifier.domain import (
    LearnedModel,
    TrainingExample,
    classifier_version,
    classify,
    load_default_taxonomy,
    train,
)
from services.classifier.domain.evaluation import LabeledPrediction, evaluate
from services.classifier.domain.learned import MIN_CORRECTIONS, model_share
from services.classifier.handlers import handle_corrections_batch, handle_submitted_batch
from services.classifier.storage import CurrentModel, ModelFiles
from services.cli import app as cli_app
from services.common.events import RecordRef, encode_event
from services.common.settings import KafkaSettings
from tests.factories import NOW, submitted_signal
from tests.fakes import FakePublisher

TAXONOMY = load_default_taxonomy()
KAFKA = KafkaSettings(topic_namespace="unit.")
DATA = Path(__file__).resolve().parents[2] / "data" / "classifier"


def tags(text: str, model: LearnedModel | None = None) -> list[str]:
    result = classify(text, TAXONOMY, classified_at=NOW, model=model)
    return [tag.domain for tag in result.domains]


# --- negation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("negated", "plain", "domain"),
    [
        ("Het gezin heeft geen schulden meer.", "Het gezin heeft schulden.", "inkomen"),
        ("De kinderen zijn niet meer ziek.", "De kinderen zijn ziek.", "gezondheid"),
        ("Op de muren zit geen schimmel meer.", "Op de muren zit schimmel.", "wonen"),
    ],
)
def test_negation_cancels_a_problem_word(negated: str, plain: str, domain: str) -> None:
    assert domain in tags(plain)
    assert domain not in tags(negated)


def test_negation_does_not_cancel_a_missing_resource() -> None:
    assert "digitaal" in tags("Het gezin heeft geen internet.")
    assert "wonen" in tags("Al weken geen verwarming in huis.")


def test_negation_stops_at_punctuation() -> None:
    assert "inkomen" in tags("Niet alleen dat. Schulden bij de energieleverancier.")


# --- robustness ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "😀😀🙏🏽👍",
        "<script>alert('x')</script>",
        "<p>ok</p><img src=x onerror=alert(1)>",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
        "Мы не можем оплатить счёт",
        "我们没有钱",
        "\u0000\u200b\ufeff",
    ],
)
def test_odd_input_goes_to_review_without_crashing(text: str) -> None:
    result = classify(text, TAXONOMY, classified_at=NOW)
    assert result.needs_review
    assert result.primary_domain is None
    assert all(0.0 <= score <= 1.0 for score in result.scores.values())


def test_html_around_real_words_still_classifies_the_words() -> None:
    text = "<b>Schimmel</b> in de <i>sociale woning</i><script>x()</script>"
    result = classify(text, TAXONOMY, classified_at=NOW)
    assert result.primary_domain == "wonen"
    for tag in result.domains:
        for evidence in tag.evidence:
            assert text[evidence.start : evidence.end] == evidence.matched


def test_schema_maximum_text_is_classified() -> None:
    sentence = "De huisbaas doet niets aan de schimmel en het gezin heeft schulden. "
    text = (sentence * (TEXT_MAX_LENGTH // len(sentence) + 1))[:TEXT_MAX_LENGTH]
    result = classify(text, TAXONOMY, classified_at=NOW)
    assert {"wonen", "inkomen"} <= {tag.domain for tag in result.domains}
    assert all(0.0 <= score <= 1.0 for score in result.scores.values())


def test_french_and_english_words_count() -> None:
    assert "inkomen" in tags("La famille a des dettes et ne peut pas payer.")
    assert "gezondheid" in tags("Mama cannot find a dentist for the kids")


# --- evaluation ------------------------------------------------------------------------------


def test_evaluation_counts_multi_label_hits_and_confusions() -> None:
    report = evaluate(
        [
            LabeledPrediction("1", ("inkomen", "onderwijs"), ("inkomen",)),
            LabeledPrediction("2", ("wonen",), ("gezondheid", "wonen")),
            LabeledPrediction("3", ("digitaal",), ()),
        ],
        ["inkomen", "onderwijs", "wonen", "gezondheid", "digitaal"],
    )
    # tp: inkomen, wonen = 2; fp: gezondheid = 1; fn: onderwijs, digitaal = 2
    assert report.micro_precision == pytest.approx(2 / 3)
    assert report.micro_recall == pytest.approx(2 / 4)
    assert report.micro_f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert report.top1 == pytest.approx(1 / 3)
    assert report.primary_exact == pytest.approx(1 / 3)
    assert report.needs_review == 1
    assert ("wonen", "gezondheid", 1) in report.confusions
    assert ("digitaal", "needs_review", 1) in report.confusions
    per = {s.domain: s for s in report.per_domain}
    assert (per["inkomen"].precision, per["inkomen"].recall) == (1.0, 1.0)
    assert per["onderwijs"].recall == 0.0
    # macro over the five domains present: inkomen and wonen 1, the other three 0
    assert report.macro_f1 == pytest.approx(2 / 5)


def test_dev_set_is_large_varied_and_multi_label() -> None:
    items = [json.loads(line) for line in (DATA / "dev.jsonl").read_text("utf-8").splitlines()]
    assert len(items) >= 200
    assert {d for item in items for d in item["domains"]} == set(TAXONOMY.domain_ids)
    assert sum(len(item["domains"]) > 1 for item in items) >= len(items) // 3
    assert len({item["voice"] for item in items}) >= 5
    held = (DATA / "heldout.jsonl").read_text("utf-8").splitlines()
    assert not {json.loads(h)["text"] for h in held} & {item["text"] for item in items}


# --- the learned model -----------------------------------------------------------------------

# A network's own word the vocabulary does not know: "Tienerkot" is their youth house.
LEARNING = [
    TrainingExample(f"In de tienerkot {what}.", ("vrije_tijd",))
    for what in ("zijn er te weinig begeleiders", "is het te vol", "sluit te vroeg", "is dicht")
] * 8 + [
    TrainingExample("Het gezin heeft schulden bij de energieleverancier.", ("inkomen", "wonen")),
    TrainingExample("De huisbaas doet niets aan de schimmel.", ("wonen",)),
    TrainingExample("De kinderen missen vaak school.", ("onderwijs",)),
    TrainingExample("Geen geld voor de tandarts.", ("gezondheid", "inkomen")),
]


@pytest.fixture(scope="module")
def model() -> LearnedModel:
    return train(LEARNING, domains=TAXONOMY.domain_ids, taxonomy_id=TAXONOMY.id, trained_at=NOW)


def test_a_model_needs_enough_corrections() -> None:
    with pytest.raises(ValueError, match="at least"):
        train(
            LEARNING[: MIN_CORRECTIONS - 1],
            domains=TAXONOMY.domain_ids,
            taxonomy_id=TAXONOMY.id,
            trained_at=NOW,
        )


def test_the_model_share_grows_with_corrections() -> None:
    assert model_share(0) == 0.0
    assert model_share(10) < model_share(100) <= model_share(10_000)


def test_the_model_learns_a_word_the_vocabulary_lacks(model: LearnedModel) -> None:
    text = "De tienerkot is al weken dicht"
    without = classify(text, TAXONOMY, classified_at=NOW)
    with_model = classify(text, TAXONOMY, classified_at=NOW, model=model)
    assert without.needs_review
    assert with_model.primary_domain == "vrije_tijd"
    assert model.version in with_model.classifier_version
    assert classifier_version(TAXONOMY) in with_model.classifier_version
    learned = [
        e
        for tag in with_model.domains
        for e in tag.evidence
        if e.term == f"geleerd uit {len(LEARNING)} correcties"
    ]
    assert learned, "the learned part must be visible in the evidence"
    assert all(text[e.start : e.end] == e.matched for e in learned)


def test_the_model_survives_its_file_and_ignores_other_taxonomies(
    model: LearnedModel, tmp_path: Path
) -> None:
    files = ModelFiles(tmp_path)
    files.save(model)
    loaded = files.load(TAXONOMY.id)
    assert loaded == model
    assert files.load("other_network") is None
    current = CurrentModel(files, TAXONOMY.id, check_s=0)
    assert current.get() == model
    foreign = LearnedModel(
        "x", "other_network", NOW, 20, dict(model.intercepts), dict(model.weights)
    )
    text = "De tienerkot is dicht"
    assert classify(text, TAXONOMY, classified_at=NOW, model=foreign) == classify(
        text, TAXONOMY, classified_at=NOW
    ), "a model of another taxonomy must not change anything"


async def test_the_service_handler_uses_the_current_model(model: LearnedModel) -> None:
    publisher = FakePublisher()
    signal = submitted_signal(text="De tienerkot is dicht")
    from schemas.v1 import signal_submitted_event

    await handle_submitted_batch(
        [RecordRef("t", 0, 0, b"gent", encode_event(signal_submitted_event(signal)))],
        taxonomy=TAXONOMY,
        publisher=publisher,
        kafka=KAFKA,
        consumer_group="g",
        max_record_bytes=65536,
        model=lambda: model,
    )
    [out] = publisher.published
    event = SignalClassifiedEventV1.model_validate_json(encode_event(out.event))
    assert model.version in event.data.classification.classifier_version


# --- corrections -----------------------------------------------------------------------------


class FakeCorrectionStore:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, CorrectionV1] = {}

    async def save(self, corrections: Sequence[CorrectionV1]) -> int:
        new = [c for c in corrections if c.correction_id not in self.rows]
        self.rows.update((c.correction_id, c) for c in corrections)
        return len(new)

    async def training_examples(self, taxonomy_id: str) -> list[TrainingExample]:
        return [
            TrainingExample(c.signal.text, tuple(c.domains))
            for c in self.rows.values()
            if c.taxonomy_id == taxonomy_id
        ]


def correction(domains: list[str], taxonomy_id: str = TAXONOMY.id) -> CorrectionV1:
    return CorrectionV1(
        correction_id=uuid.uuid4(),
        signal=submitted_signal(text="Mama vindt geen opvang voor de baby."),
        domains=domains,
        corrected_by_role="coordinator",
        corrected_at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
        reason="opvang is gezin",
        taxonomy_id=taxonomy_id,
    )


def correction_record(offset: int, value: bytes) -> RecordRef:
    return RecordRef(KAFKA.corrections_topic, 0, offset, b"gent", value)


handle_corrections = partial(
    handle_corrections_batch,
    taxonomy=TAXONOMY,
    kafka=KAFKA,
    consumer_group="g",
    max_record_bytes=65536,
)


async def test_a_correction_is_stored_and_re_emitted_with_the_human_tags() -> None:
    store, publisher = FakeCorrectionStore(), FakePublisher()
    fix = correction(["gezin", "dienstverlening"])
    records = [correction_record(0, encode_event(correction_event(fix)))]
    outcome = await handle_corrections(records, store=store, publisher=publisher)
    assert (outcome.stored, outcome.re_emitted, outcome.dead_lettered) == (1, 1, 0)
    assert fix.correction_id in store.rows
    [out] = publisher.published
    assert out.topic == KAFKA.classified_topic
    classification = SignalClassifiedEventV1.model_validate_json(
        encode_event(out.event)
    ).data.classification
    assert classification.source is ClassificationSource.CORRECTION
    assert classification.primary_domain == "gezin"
    assert [t.domain for t in classification.domains] == ["gezin", "dienstverlening"]
    assert classification.correction is not None
    assert classification.correction.correction_id == fix.correction_id

    again = await handle_corrections(records, store=store, publisher=publisher)
    assert again.stored == 0, "a redelivered correction is not stored twice"
    second = SignalClassifiedEventV1.model_validate_json(encode_event(publisher.published[1].event))
    assert second.id == out.event.id, "the re-emitted event has a deterministic id"


async def test_corrections_of_another_taxonomy_are_kept_apart_and_not_re_emitted() -> None:
    store, publisher = FakeCorrectionStore(), FakePublisher()
    foreign = correction(["gezin"], taxonomy_id="andere_stad_v3")
    outcome = await handle_corrections(
        [correction_record(0, encode_event(correction_event(foreign)))],
        store=store,
        publisher=publisher,
    )
    assert (outcome.foreign, outcome.re_emitted) == (1, 0)
    assert publisher.published == []
    assert await store.training_examples(TAXONOMY.id) == []
    assert len(await store.training_examples("andere_stad_v3")) == 1


async def test_unknown_domains_and_garbage_go_to_the_dead_letter_topic() -> None:
    store, publisher = FakeCorrectionStore(), FakePublisher()
    bad = correction(["klimaat"])
    outcome = await handle_corrections(
        [
            correction_record(0, encode_event(correction_event(bad))),
            correction_record(1, b"not json"),
        ],
        store=store,
        publisher=publisher,
    )
    assert (outcome.stored, outcome.dead_lettered) == (0, 2)
    letters = [
        DeadLetterEventV1.model_validate_json(encode_event(o.event)).data
        for o in publisher.published
    ]
    assert {letter.error_code for letter in letters} == {"unknown_domain", "invalid_json"}
    assert all(o.topic == KAFKA.dead_letter_topic for o in publisher.published)


async def test_nothing_is_published_when_storing_fails() -> None:
    class BrokenStore(FakeCorrectionStore):
        async def save(self, corrections: Sequence[CorrectionV1]) -> int:
            raise ConnectionError("postgres down")

    publisher = FakePublisher()
    with pytest.raises(ConnectionError):
        await handle_corrections(
            [correction_record(0, encode_event(correction_event(correction(["gezin"]))))],
            store=BrokenStore(),
            publisher=publisher,
        )
    assert publisher.published == [], "no re-emit before the correction is durable"


# --- CLI -------------------------------------------------------------------------------------


def test_classify_command_reads_json_lines(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"id": "a", "text": "Geen geld voor de tandarts"})
        + "\n\n"
        + json.dumps({"id": "b", "text": "😀"})
        + "\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli_app, ["classify", str(source), "--no-model"])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["id"] == "a"
    assert first["primary_domain"] in {"gezondheid", "inkomen"}
    assert {d["domain"] for d in first["domains"]} >= {"gezondheid", "inkomen"}
    assert first["domains"][0]["evidence"][0]["matched"]
    assert second["needs_review"] is True


def test_classify_command_reads_stdin() -> None:
    result = CliRunner().invoke(
        cli_app, ["classify", "--no-model"], input='{"id": 1, "text": "schimmel in huis"}\n'
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["primary_domain"] == "wonen"


def test_classify_command_names_a_bad_line() -> None:
    result = CliRunner().invoke(cli_app, ["classify", "--no-model"], input="{oops\n")
    assert result.exit_code != 0
    assert "line 1" in result.output


def test_eval_command_prints_metrics(tmp_path: Path) -> None:
    labeled = tmp_path / "labeled.jsonl"
    labeled.write_text(
        "\n".join(
            json.dumps(item)
            for item in [
                {"id": "1", "text": "Schimmel in de woning", "domains": ["wonen"]},
                {"id": "2", "text": "Geen laptop voor Smartschool", "domains": ["digitaal"]},
                {"id": "3", "text": "Geen bus naar school", "domains": ["inkomen"]},
            ]
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli_app, ["classifier", "eval", str(labeled), "--no-model", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["items"] == 3
    assert report["top1"] == pytest.approx(2 / 3, abs=1e-3)
    assert report["per_domain"]["wonen"]["recall"] == 1.0
    assert any(c["gold"] == "inkomen" for c in report["confusions"])
    text = CliRunner().invoke(cli_app, ["classifier", "eval", str(labeled), "--no-model"])
    assert "micro P/R/F1" in text.output
    assert "most common confusions" in text.output


def test_train_command_from_file_writes_a_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEINPOST_CLASSIFIER_MODEL_DIR", str(tmp_path / "models"))
    result = CliRunner().invoke(
        cli_app, ["classifier", "train", "--from-file", str(DATA / "dev.jsonl")]
    )
    assert result.exit_code == 0, result.output
    model = ModelFiles(tmp_path / "models").load(TAXONOMY.id)
    assert model is not None
    assert model.corrections == len((DATA / "dev.jsonl").read_text("utf-8").splitlines())
    out = CliRunner().invoke(
        cli_app, ["classify", "--model"], input='{"id": 1, "text": "schimmel in huis"}\n'
    )
    assert model.version in json.loads(out.output)["classifier_version"]


@pytest.mark.parametrize("domains", [("werk",), ("werk", "wonen", "gezin")])
def test_prediction_equals_the_plain_sum_of_the_feature_weights(domains: tuple[str, ...]) -> None:
    # The probabilities feed rounded scores: the fast path must add the weights exactly as
    # Python would (intercept, unigrams in text order, then bigrams in text order), also for
    # a model that learned a single domain.
    from services.classifier.domain.text import tokenize

    words = [f"woord{i}" for i in range(40)]
    weights = {
        f"w:{word}": {d: (-1) ** (i + j) * (0.1 + i / 7 + j / 13) for j, d in enumerate(domains)}
        for i, word in enumerate(words)
    }
    weights["b:woord0_woord1"] = {d: 0.3 + j for j, d in enumerate(domains)}
    model = LearnedModel(
        "v", TAXONOMY.id, NOW, 40, {d: -0.25 * (j + 1) for j, d in enumerate(domains)}, weights
    )
    text = " ".join(words)
    tokens = tokenize(text)
    predicted = model.predict(tokens)
    order = [*(f"w:{word}" for word in words), "b:woord0_woord1"]
    for domain in domains:
        logit = sum([model.intercepts[domain], *(weights[name][domain] for name in order)])
        expected = 1.0 / (1.0 + pow(2.718281828459045, -logit))
        assert predicted[domain].probability == pytest.approx(expected, rel=1e-12)
        assert model.evaluate(tokens)._logits[sorted(domains).index(domain)] == logit
        # Evidence words only where the model is for the domain (probability 0.5 or more).
        assert bool(predicted[domain].words) == (logit >= 0)


# --- fast scorer == slow reference -----------------------------------------------------------


def _labeled(name: str) -> list[dict[str, object]]:
    lines = (DATA / name).read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _reference_features(text: str) -> list[tuple[str, int]]:
    # Training's own feature extraction: lemma unigrams and joined bigrams with the token each
    # is shown on, in text order.
    from services.classifier.domain.learned import _features
    from services.classifier.domain.text import tokenize

    return _features(tokenize(text))


def _reference_words(model: LearnedModel, text: str, domain: str) -> tuple[tuple[int, int], ...]:
    from services.classifier.domain.text import tokenize

    tokens = tokenize(text)
    first: dict[str, int] = {}
    for name, index in _reference_features(text):
        if name in model.weights and domain in model.weights[name]:
            first.setdefault(name, index)
    ranked = sorted((-model.weights[name][domain], index) for name, index in first.items())
    return tuple(sorted({(tokens[i].start, tokens[i].end) for push, i in ranked[:3] if push < 0.0}))


@pytest.fixture(scope="module")
def dev_model() -> LearnedModel:
    examples = [
        TrainingExample(str(item["text"]), tuple(item["domains"]))  # type: ignore[arg-type]
        for item in _labeled("dev.jsonl")
    ]
    return train(examples, domains=TAXONOMY.domain_ids, taxonomy_id=TAXONOMY.id, trained_at=NOW)


UNSEEN = [
    str(item["text"])
    for name in ("heldout.jsonl", "heldout_voices.jsonl", "heldout_2.jsonl")
    for item in _labeled(name)
] + [
    "",
    "school school school",
    "Geen geld voor de schooluitstap - de huur, en de factuur",
    "Kinderen kinderen KINDEREN: schoolreis, schoolreis",
    "😀😀",
]


def test_sparse_scorer_equals_the_sum_over_training_features(dev_model: LearnedModel) -> None:
    from services.classifier.domain.text import tokenize

    domains = sorted(dev_model.intercepts)
    for text in UNSEEN:
        names = dict.fromkeys(name for name, _ in _reference_features(text))
        tokens = tokenize(text)
        prediction = dev_model.evaluate(tokens)
        # The lemmas the vocabulary match looked up are the model's own.
        reused = dev_model.evaluate(
            tokens, [analysis.lemma for analysis in TAXONOMY.index.analyses(tokens)]
        )
        assert reused._logits == prediction._logits
        for column, domain in enumerate(domains):
            expected = dev_model.intercepts[domain] + sum(
                dev_model.weights[name].get(domain, 0.0)
                for name in names
                if name in dev_model.weights
            )
            assert prediction._logits[column] == pytest.approx(expected, abs=1e-9), text
            assert prediction.words(column) == (
                _reference_words(dev_model, text, domain) if expected >= 0.0 else ()
            ), (text, domain)


def test_sparse_scorer_equals_scikit_learns_decision_function(dev_model: LearnedModel) -> None:
    # The stored model keeps only rounded arithmetic (no pickle): its logits must be those of
    # the fitted scikit-learn estimator, up to the rounding of the stored weights.
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    from services.classifier.domain.learned import feature_names
    from services.classifier.domain.text import tokenize

    items = _labeled("dev.jsonl")
    vectoriser = DictVectorizer()
    matrix = vectoriser.fit_transform(
        [dict.fromkeys(feature_names(str(item["text"])), 1) for item in items]
    )
    unseen = vectoriser.transform([dict.fromkeys(feature_names(text), 1) for text in UNSEEN])
    domains = sorted(dev_model.intercepts)
    for column, domain in enumerate(domains):
        labels = [int(domain in item["domains"]) for item in items]  # type: ignore[operator]
        fitted = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(
            matrix, labels
        )
        expected = fitted.decision_function(unseen)
        for text, logit in zip(UNSEEN, expected, strict=True):
            got = dev_model.evaluate(tokenize(text))._logits[column]
            assert got == pytest.approx(float(logit), abs=2e-3), (domain, text)


def test_classified_event_equals_a_fully_validated_one() -> None:
    # The handler assembles the classified signal without re-validating its parts: the
    # result must be the very event a validating construction gives, byte for byte.
    from schemas.v1 import SignalClassifiedV1, signal_classified_event, signal_submitted_event
    from services.classifier.handlers import classify_submitted

    event = signal_submitted_event(submitted_signal())
    fast = classify_submitted(event, TAXONOMY)
    slow = signal_classified_event(
        SignalClassifiedV1.model_validate(
            {"signal": event.data.model_dump(), "classification": fast.data.classification}
        )
    )
    assert encode_event(fast) == encode_event(slow)


# --- the batch path == one text at a time ----------------------------------------------------


@pytest.mark.parametrize("with_model", [False, True])
def test_classify_many_equals_classify_per_text(dev_model: LearnedModel, with_model: bool) -> None:
    # The service classifies whole batches; every result must be exactly what classify()
    # gives for that text alone: scores, tags, evidence (learned words too), primary, review.
    from services.classifier.domain import classify_many

    model = dev_model if with_model else None
    texts = [str(item["text"]) for item in _labeled("dev.jsonl")] + UNSEEN
    one_by_one = [classify(text, TAXONOMY, classified_at=NOW, model=model) for text in texts]
    for size in (1, 7, 64, len(texts)):
        batched = [
            result
            for start in range(0, len(texts), size)
            for result in classify_many(
                texts[start : start + size], TAXONOMY, classified_at=NOW, model=model
            )
        ]
        assert [r.model_dump() for r in batched] == [r.model_dump() for r in one_by_one], size
    learned_words = sum(
        evidence.term == dev_model.evidence_label
        for result in one_by_one
        for tag in result.domains
        for evidence in tag.evidence
    )
    assert (learned_words > 0) == with_model
    assert classify_many([], TAXONOMY, classified_at=NOW, model=model) == []


def test_batch_blend_equals_the_per_text_arithmetic() -> None:
    # numpy's exp may differ from math.exp in the last bit and np.rint from round() near a
    # half: the batch blend must still give round()'s numbers, also right at the boundaries.
    import math

    import numpy as np

    from services.classifier.domain.learned import BatchPrediction, _sigmoid

    model = LearnedModel(
        "v", TAXONOMY.id, NOW, 45, {"werk": 0.1, "wonen": -0.2}, {"w:huur": {"wonen": 1.0}}
    )
    share = model.share
    rng = np.random.default_rng(4)
    count = 20_000
    lexicon = np.round(rng.uniform(0.0, 1.0, (count, 2)), 4)
    lexicon[::5] = 0.0
    logits = rng.uniform(-35.0, 35.0, (count, 2))
    logits[:40] = [[0.0, -0.0], [30.0, -30.0], [30.000001, -30.000001], [1e-300, -1e-300]] * 10
    # Blends that land on a half of the fourth decimal (lexicon 0: the blend is share * p).
    for k in range(100, 2_000):
        p = (k + 0.5) / 1e4 / share
        logits[k, 0] = math.log(p / (1.0 - p))
        lexicon[k, 0] = 0.0
    pairs = ((0, 1), (1, 0))  # (domain index, model column), crossed on purpose
    batch = BatchPrediction(model, logits, [], [], [])
    scores = lexicon.tolist()
    blended, learned = model.blend_many(batch, scores, pairs, 4)
    for text in range(count):
        for index, column in pairs:
            lex = scores[text][index]
            p = _sigmoid(logits[text, column])
            expected = round(lex + (share if p > lex else share / 2) * (p - lex), 4)
            assert blended[text][index] == expected, (text, index, lex, logits[text, column])
        assert learned[text] == [pair for pair in pairs if logits[text, pair[1]] >= 0.0]
