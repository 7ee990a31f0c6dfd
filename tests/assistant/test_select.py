"""The answer selector: features that mean something, a packaged model that picks the answering unit,
calibration that is learned, and training that is reproducible from the data and a seed."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from assistant.calibrate import balanced_accuracy, choose_threshold, fit_platt
from assistant.compose import Composer
from assistant.select import FEATURES, Candidate, Question, featurize, load_selector, model_path
from assistant.selector_data import SWEQUAD_QA, load_swequad, text_units

PASSAGE = (
    "Ärendet gäller stöd till besöksnäringen inför sommaren. "
    "Presidiet föreslår att nämnden beviljar Smålands Turism AB 2 000 000 kr för en nationell kampanj. "
    "Beslutet fattades den 10 februari 2022. "
    "Kontaktperson för ärendet är utvecklingsstrateg Anna Berg. "
    "Kampanjen ska följas upp vid nämndens sammanträde i oktober."
)


def _col(name: str) -> int:
    return FEATURES.index(name)


def _cands(text: str) -> list[Candidate]:
    units = text_units(text)
    return [Candidate(u.text, 0, u.ordinal, len(units)) for u in units]


def test_features_see_overlap_numbers_and_answer_type() -> None:
    cands = _cands(PASSAGE)
    x = featurize(Question.of("Hur mycket fick Smålands Turism i stöd?"), cands)
    assert x.shape == (5, len(FEATURES))
    assert int(np.argmax(x[:, _col("lemma_weighted")])) == 1
    assert x[1, _col("fit_amount")] == 1.0 and x[3, _col("fit_amount")] == 0.0
    y = featurize(Question.of("När fattades beslutet om stödet?"), cands)
    assert y[2, _col("fit_date")] == 1.0 and y[0, _col("fit_date")] == 0.0
    z = featurize(Question.of("Vad hände med de 2 000 000 kr?"), cands)
    assert z[1, _col("shared_numbers")] == 1.0 and z[0, _col("missing_numbers")] == 1.0


def test_a_sentence_that_points_back_carries_the_overlap_of_the_one_before() -> None:
    text = (
        "Många lackeringsprocesser är idag automatiserade och arbetet drivs mer mot processövervakning. "
        "Det innebär bland annat att robotar utför en stor del av lackeringsarbetet. "
        "Robotarna ses över och underhålls regelbundet av särskilda tekniker på fabriken."
    )
    x = featurize(Question.of("Vad innebär det att arbetet drivs mer mot processövervakning?"), _cands(text))
    echo = x[0, _col("lemma_weighted")]
    assert echo > 0.5
    # the second sentence opens with "Det" and follows the sentence that restates the question
    assert x[1, _col("continues_prev")] == pytest.approx(echo)
    assert x[0, _col("continues_prev")] == 0.0 and x[2, _col("continues_prev")] == 0.0
    assert x[0, _col("leads_next")] == pytest.approx(x[1, _col("lemma_weighted")])
    # "Robotarna ses över …" does not point back, so the first sentence leads nothing
    assert x[1, _col("leads_next")] == 0.0


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Hur mycket föreslogs Smålands Turism få?", "2 000 000 kr"),
        ("När fattades beslutet?", "10 februari 2022"),
        ("Vem är kontaktperson för ärendet?", "Anna Berg"),
        ("When will the campaign be followed up?", "oktober"),
    ],
)
def test_packaged_selector_puts_the_answering_unit_first(question: str, expected: str) -> None:
    selector = load_selector()
    scored = selector.score(Question.of(question, english=question.startswith("When")), _cands(PASSAGE))
    assert expected in scored[0].candidate.text


def test_packaged_model_is_small_plain_data_with_learned_calibration() -> None:
    path = model_path()
    assert path.stat().st_size < 50_000
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["features"] == list(FEATURES)
    for variant in ("dense_model", "plain_model"):
        model = data[variant]
        assert 0.0 < model["threshold"] < 1.0 and model["platt"][0] > 0  # higher margin, higher probability
    assert data["meta"]["trained_on"]["swequad_mc_training"] > 900
    # the model an index's passages get reads the stored unit vectors: it was trained with them
    assert data["meta"]["trained_on"]["with_dense"] > 300 and "dense" in data["dense_model"]["features"]


def test_platt_scaling_is_monotone_and_the_threshold_separates() -> None:
    rng = np.random.default_rng(0)
    margins = np.concatenate([rng.normal(2, 1, 200), rng.normal(-2, 1, 200)])
    labels = np.array([1] * 200 + [0] * 200)
    a, b = fit_platt(margins, labels)
    assert a > 0
    probs = 1 / (1 + np.exp(-(a * margins + b)))
    groups = np.arange(400) % 40
    threshold, report = choose_threshold(probs, labels.astype(bool), groups)
    assert 0.05 < threshold < 0.95
    assert balanced_accuracy(probs, labels.astype(bool), threshold) > 0.9
    assert report["cv_answered_answerable"] > 0.85 and report["cv_declined_unanswerable"] > 0.85


def test_composed_answer_from_a_handed_over_text_is_short_and_cited() -> None:
    comp = Composer(load_selector()).compose_text("Hur mycket föreslogs Smålands Turism få?", PASSAGE)
    assert "2 000 000 kr" in comp.text and "[1]" in comp.text
    assert len(comp.text) <= 320 and comp.answers


needs_swequad = pytest.mark.skipif(not (SWEQUAD_QA / "dev.json").exists(), reason="SweQUAD-MC not checked out beside")


@needs_swequad
def test_training_is_reproducible_from_data_and_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.train as train_mod

    full = train_mod.load_swequad
    monkeypatch.setattr(train_mod, "load_swequad", lambda split: [e for e in full(split) if e.group < "2"])
    monkeypatch.setattr(train_mod, "C_GRID", (0.3,))
    first, _ = train_mod.train(None, seed=5)
    second, _ = train_mod.train(None, seed=5)
    assert first.to_json() == second.to_json()


@needs_swequad
@pytest.mark.slow
def test_swequad_mc_dev_answers_hold_the_span_at_a_short_length() -> None:
    """Pinned floor (issue 12 target: >= 0.85 at a median <= 250 characters), the texts handed over, no vectors."""
    from assistant.train import swequad_scores

    scores = swequad_scores(load_selector(), "dev")
    assert scores.questions == len(load_swequad("dev")) == 126
    assert scores.held >= 0.85
    assert scores.median_chars <= 250


def test_the_real_pdf_gold_training_split_is_training_data_and_its_test_split_is_not() -> None:
    import yaml

    from assistant.selector_data import PDF_GOLD_FILE, load_archive_examples

    asked: list[str] = []

    def search(question: str) -> list[Any]:
        asked.append(question)
        return []

    examples = load_archive_examples(search, "train", PDF_GOLD_FILE, negatives=False)
    cases = yaml.safe_load(PDF_GOLD_FILE.read_text(encoding="utf-8"))["cases"]
    train = {c["id"] for c in cases if c["split"] == "train" and not c.get("follow_up_of")}
    assert {ex.qid for ex in examples} == train and len(train) >= 40
    assert not {c["question"] for c in cases if c["split"] == "test"} & set(asked)
    assert all(ex.group.startswith("gold:") and ex.group.endswith(".pdf") for ex in examples)
    assert sum(not ex.answerable for ex in examples) >= 5 and all(ex.quotes for ex in examples if ex.answerable)
