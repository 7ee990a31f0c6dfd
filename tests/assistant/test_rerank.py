"""The learned reranker: features that mean what they say, training reproducible bit for bit, the shipped model."""

from __future__ import annotations

import json
import random

import pytest

from assistant.rerank import FEATURES, MODEL_PATH, CandidateScores, QuestionFacts, RerankModel, candidate_features
from assistant.rerank_train import QueryRows, cross_validate, data_hash, train
from indexer.schema import Chunk, DocumentMeta


def synthetic(n_questions: int, seed: int) -> list[QueryRows]:
    """Questions whose relevant candidate has a higher unit_dense than the rest, plus noise elsewhere."""
    rng = random.Random(seed)
    out = []
    for q in range(n_questions):
        rows, labels = [], []
        good = rng.randrange(10)
        for i in range(10):
            row = [rng.gauss(0, 1) for _ in FEATURES]
            row[FEATURES.index("unit_dense")] = rng.gauss(1.5 if i == good else 0.0, 0.5)
            rows.append(tuple(row))
            labels.append(frozenset({"e0"}) if i == good else frozenset())
        out.append(
            QueryRows(
                qid=f"q{q}",
                group=f"doc{q % 4}",
                rows=tuple(rows),
                labels=tuple(labels),
                qrels={"e0": 1.0},
                facts=tuple(frozenset({0}) if lab else frozenset() for lab in labels),
                n_facts=1,
            )
        )
    return out


def test_training_is_reproducible_bit_for_bit() -> None:
    data = synthetic(24, seed=1)
    a, _ = train(data, folds=4, seed=7)
    b, _ = train(synthetic(24, seed=1), folds=4, seed=7)
    assert a.to_json() == b.to_json()
    assert json.loads(a.to_json())["info"]["data_sha256"] == data_hash(data)


def test_training_learns_the_feature_that_separates_relevant_from_not() -> None:
    data = synthetic(40, seed=2)
    model, info = train(data, folds=4, seed=7)
    assert "unit_dense" in model.features
    assert model.coef[model.features.index("unit_dense")] > 0
    assert info["cv"]["recall_at_5"] > info["fused_order_on_train"]["recall_at_5"]
    cv = cross_validate(data, list(model.features), info["C"], 4, 7)
    assert cv["recall_at_5"] >= 0.8


def test_a_model_round_trips_through_json() -> None:
    model, _ = train(synthetic(16, seed=3), folds=4, seed=7)
    again = RerankModel.from_json(model.to_json())
    rows = [r for q in synthetic(2, seed=9) for r in q.rows]
    assert again.score_rows(rows) == model.score_rows(rows)
    assert all(0.0 < s < 1.0 for s in again.score_rows(rows))


def test_a_model_with_an_unknown_feature_is_refused() -> None:
    text = RerankModel(("nonsense",), (0.0,), (1.0,), (1.0,), 0.0).to_json()
    with pytest.raises(ValueError, match="nonsense"):
        RerankModel.from_json(text)


def _cand(text: str, rank: int, **kw: object) -> CandidateScores:
    meta = DocumentMeta(title="Årsredovisning 2012", doc_type="arsredovisning", year=2012)
    chunk = Chunk(doc_id="ars", ordinal=rank, text=text, page_start=1, page_end=1, meta=meta, source="ars.txt")
    return CandidateScores(chunk=chunk, rank=rank, dense=0.8, sparse=2.0, **kw)  # type: ignore[arg-type]


def test_answer_type_and_agreement_features() -> None:
    q = QuestionFacts.of("Hur mycket var överskottet 2012?", [1, 2, 3])
    assert q.wants_amount and not q.wants_date and q.years == {2012}
    rows = candidate_features(q, [_cand("Överskottet blev 1 934 tkr.", 0), _cand("Navet hade besökare.", 1)])
    f = {name: (rows[0][i], rows[1][i]) for i, name in enumerate(FEATURES)}
    assert f["amount_fit"] == (1.0, 0.0)
    assert f["year_match"] == (1.0, 1.0)  # both chunks are of a 2012 document
    assert f["type_arsredovisning"] == (1.0, 1.0)
    w = QuestionFacts.of("När fattades beslutet om RJL 2022/258?", [1])
    assert w.wants_date and w.case_numbers == {"RJL 2022/258"}


def test_the_shipped_model_loads_and_records_its_data() -> None:
    if not MODEL_PATH.exists():
        pytest.skip("no reranker model shipped yet")
    model = RerankModel.from_json(MODEL_PATH.read_text(encoding="utf-8"))
    assert set(model.features) <= set(FEATURES)
    assert len(model.info["data_sha256"]) == 64
    assert model.info["questions_scored"] > 0


def test_gold_questions_become_labelled_candidate_rows(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The training rows come from the same search as in service, labelled by the gold evidence."""
    from assistant.rerank_train import gold_queries
    from assistant.retrieve import Retriever
    from evaluation.dataset import EvalCase, Evidence
    from indexer.sparse import SparseEncoder
    from tests.assistant.test_retrieve import EMB
    from tests.assistant.test_retrieve import store as store_fixture

    sparse = SparseEncoder()
    gen = store_fixture.__wrapped__(tmp_path_factory, sparse)  # type: ignore[attr-defined]
    store = next(gen)
    quote = "Beslutet skickas till regionstyrelsen och till Destination Småland för kännedom."
    case = EvalCase(
        id="c1",
        question="Till vilka skickas beslutet för kännedom?",
        language="sv",
        category="fact",
        user_group="public",
        answerable=True,
        evidence=(Evidence("protokoll.txt", 1, quote),),
        must_contain=("regionstyrelsen",),
        reference_answer="",
    )
    test_case = EvalCase(**{**case.__dict__, "id": "c2", "split": "test"})
    rows = gold_queries(Retriever(store, EMB, sparse, use_model=False), [case, test_case])
    assert [q.qid for q in rows] == ["c1"], "test-split cases are never used to train"
    q = rows[0]
    assert len(q.rows) == len(q.labels) == len(q.facts) and all(len(r) == len(FEATURES) for r in q.rows)
    assert any(q.labels) and not all(q.labels)
    assert any(lab and 0 in f for f, lab in zip(q.facts, q.labels, strict=True)), "the evidence chunk states the fact"
    next(gen, None)
