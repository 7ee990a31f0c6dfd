"""BEIR loading and the benchmark runner, on a tiny hand-made set; plain BM25 against the published reference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evaluation.baselines import Bm25PlainConfig
from evaluation.benchmarks import (
    BENCHMARK_DIR,
    SETS,
    load_beir,
    load_set,
    passage_chunks,
    passage_ranking,
    run_set,
    score_config,
)
from evaluation.errors import BenchmarkError
from evaluation.harness import CachedEmbedder
from evaluation.relevance import Passage
from indexer.catalog import Catalog
from indexer.pipeline import IndexOptions
from indexer.sparse import SparseEncoder
from tests.conftest import FakeEmbedder

PASSAGES = [
    ("p1", "Bygglov", "Du behöver bygglov för att bygga en ny carport eller ett garage på din tomt."),
    ("p2", "Parkering", "Parkeringstillstånd för rörelsehindrade söker du hos kommunens trafikenhet."),
    ("p3", "Skola", "Skolskjuts beviljas elever som har långt till skolan, minst fyra kilometer."),
    ("p4", "Avfall", "Grovavfall lämnar du på återvinningscentralen, som har öppet alla vardagar."),
    ("p5", "Vatten", "Kokningsrekommendationen för dricksvattnet gäller tills vidare i centrala staden."),
    ("p6", "Bibliotek", "Lånekort till biblioteket får du gratis när du visar legitimation i lånedisken."),
]
QUERIES = [
    ("q1", "Behöver jag bygglov för en carport?", "p1"),
    ("q2", "Hur får jag skolskjuts till skolan?", "p3"),
    ("q3", "Var lämnar jag grovavfall?", "p4"),
    ("q4", "Hur får jag ett lånekort på biblioteket?", "p6"),
]


def write_set(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "corpus.jsonl").write_text(
        "\n".join(json.dumps({"_id": i, "title": t, "text": x}, ensure_ascii=False) for i, t, x in PASSAGES),
        encoding="utf-8",
    )
    (root / "queries.jsonl").write_text(
        "\n".join(json.dumps({"_id": i, "text": q}, ensure_ascii=False) for i, q, _ in QUERIES), encoding="utf-8"
    )
    (root / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{i}\t{p}\t1\n" for i, _, p in QUERIES), encoding="utf-8"
    )
    return root


@pytest.fixture(scope="module")
def sparse() -> SparseEncoder:
    return SparseEncoder()


def test_load_beir_reads_corpus_queries_and_qrels(tmp_path: Path) -> None:
    bset = load_beir(write_set(tmp_path / "tiny"))
    assert bset.name == "tiny"
    assert [p.id for p in bset.passages] == [p[0] for p in PASSAGES]
    assert bset.qrels["q2"] == {"p3": 1.0}
    assert len(bset.judged_queries()) == 4


def test_malformed_sets_are_refused(tmp_path: Path) -> None:
    root = write_set(tmp_path / "bad")
    (root / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tp99\t1\n", encoding="utf-8")
    with pytest.raises(BenchmarkError, match="not in the corpus"):
        load_beir(root)
    (root / "corpus.jsonl").write_text("{not json", encoding="utf-8")
    with pytest.raises(BenchmarkError, match="not JSON"):
        load_beir(root)
    with pytest.raises(BenchmarkError, match="no such"):
        load_beir(tmp_path / "missing")


def test_shipped_sets_load_with_their_attribution() -> None:
    for name in SETS:
        bset = load_set(name)
        assert bset.judged_queries(), name
    readme = (BENCHMARK_DIR / "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in readme and "SuperLim" in readme and "Kalpakchi" in readme
    assert (BENCHMARK_DIR / "SWEQUAD_MC_DATA_LICENSE").exists()


def test_plain_bm25_on_whole_passages_reproduces_the_published_reference() -> None:
    # bm25_plain_baseline.txt in the shared benchmarks: R@10 0.7706, nDCG@10 0.5783, MRR 0.5182
    bset = load_set("swefaq_sl2_test_pooled")
    row = score_config(bset, Bm25PlainConfig(passage_chunks(bset), text=lambda c: c.text))
    assert (round(row.recall_at_10, 4), round(row.ndcg_at_10, 4), round(row.mrr_at_10, 4)) == (0.7706, 0.5783, 0.5182)


def test_passage_ranking_keeps_each_passage_at_its_best_chunk() -> None:
    found = [Passage(f"{d}:{n}", d, d, 1, 1, "") for d, n in (("a", 0), ("b", 0), ("a", 1), ("c", 0))]
    assert passage_ranking(found, k=10) == ["a", "b", "c"]
    assert passage_ranking(found, k=2) == ["a", "b"]


def test_every_configuration_runs_on_the_same_chunks(tmp_path: Path, sparse: SparseEncoder) -> None:
    from assistant.service import Assistant
    from assistant.settings import AssistantSettings

    bset = load_beir(write_set(tmp_path / "tiny"))
    settings = AssistantSettings(data_dir=tmp_path / "data")

    def arkiv(store: Any, emb: Any, sp: Any) -> Any:
        return Assistant(settings=settings, store=store, embedder=emb, sparse=sp, catalog=Catalog(tmp_path / "cat"))

    configs = ["bm25-passages", "bm25-plain", "dense", "sparse", "hybrid", "arkiv", "llamaindex"]
    embedder = CachedEmbedder(FakeEmbedder(), tmp_path / "cache")
    result = run_set(
        bset, configs, embedder=embedder, sparse=sparse, options=IndexOptions(), arkiv=arkiv, workdir=tmp_path
    )
    assert [r.config for r in result.rows] == configs
    assert result.queries == 4 and result.passages == 6 and result.chunks >= 6
    for row in result.rows:
        # each query shares rare words with its passage only: every lexical configuration finds it first
        if row.config != "dense" and row.config != "llamaindex":
            assert row.recall_at_1 == 1.0, row
        assert 0.0 <= row.ndcg_at_10 <= 1.0
    # the passage vectors were cached: a second embedder reads them instead of embedding again
    assert (tmp_path / "cache" / "eval-embeddings").is_dir()


def test_cached_embedder_returns_the_same_vectors(tmp_path: Path) -> None:
    class Counting(FakeEmbedder):
        calls = 0

        def embed_documents(self, texts: Any) -> list[list[float]]:
            Counting.calls += len(texts)
            return super().embed_documents(texts)

    first = CachedEmbedder(Counting(), tmp_path)
    vecs = first.embed_documents(["bygglov för carport", "grovavfall"])
    again = CachedEmbedder(Counting(), tmp_path).embed_documents(["grovavfall", "bygglov för carport", "nytt"])
    assert Counting.calls == 3
    assert again[0] == pytest.approx(vecs[1], abs=1e-6)
    assert again[1] == pytest.approx(vecs[0], abs=1e-6)
