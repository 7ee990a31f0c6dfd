"""Retrieval on the gold set, before and after: recall@5, facts@5, facts@10 and search latency, per split.

Runs over an existing index of corpus/ (ARKIV_DATA_DIR or --data). Systems:
- `boosts`: the retriever as it was before the learned reranker (git revision --before), hand-set boosts;
- `fused`: Qdrant's RRF of dense and sparse only, no reranker;
- `reranker`: the shipped model (assistant/models/reranker.json) or --model.

Usage: python scripts/retrieval_eval.py --data /tmp/arkiv-data [--before 69c066a] [--model path]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _say(*parts: object, file: object = None, flush: bool = True) -> None:
    stream = file if file is not None else sys.stdout
    stream.write(" ".join(str(p) for p in parts) + "\n")  # type: ignore[attr-defined]
    stream.flush()  # type: ignore[attr-defined]


sys.path.insert(0, str(ROOT))


def old_retriever_module(rev: str) -> types.ModuleType:
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:assistant/retrieve.py"], capture_output=True, text=True, check=True
    ).stdout
    mod = types.ModuleType("retrieve_before")
    sys.modules["retrieve_before"] = mod
    exec(compile(source, "retrieve_before.py", "exec"), mod.__dict__)
    return mod


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--before", default="69c066a")
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--systems", default="boosts,fused,reranker")
    ap.add_argument("--sets", default="corpus")
    args = ap.parse_args()

    from assistant.query import parse_question
    from assistant.rerank import RerankModel, load_model
    from assistant.retrieve import Retriever
    from assistant.types import Filters
    from evaluation.baselines import assistant_filters
    from evaluation.dataset import contains_fact, load_gold
    from evaluation.metrics import facts_at_k, recall_at_k
    from evaluation.relevance import case_qrels, passage_from_chunk, ranking
    from indexer.catalog import Catalog
    from indexer.embed import make_embedder
    from indexer.settings import IndexSettings
    from indexer.sparse import SparseEncoder
    from indexer.store import Manifest, make_store

    settings = IndexSettings(data_dir=args.data)
    embedder = make_embedder(settings)
    sparse = SparseEncoder(settings.cache_dir)
    store = make_store(settings)
    store.open(Manifest(embedder.model_id, embedder.dimension))
    catalog = Catalog(args.data / "catalog")
    bodies = sorted({e.meta.body for e in catalog.entries() if e.meta.body})
    held = {e.source for e in catalog.entries()}
    model = RerankModel.from_json(args.model.read_text(encoding="utf-8")) if args.model else load_model()

    systems = {}
    for name in args.systems.split(","):
        if name == "boosts":
            old = old_retriever_module(args.before)
            systems[name] = old.Retriever(store, embedder, sparse, prefetch=50)
        elif name == "fused":
            r = Retriever(store, embedder, sparse, use_model=False)
            systems[name] = r
        elif name == "reranker":
            if model is None:
                _say("no reranker model; skipping", file=sys.stderr)
                continue
            systems[name] = Retriever(store, embedder, sparse, model=model)

    cases = [
        c
        for s in args.sets.split(",")
        for c in load_gold(gold_set=s)
        if c.answerable and c.evidence and all(d in held for d in c.relevant_documents)
    ]
    _say(f"cases: {len(cases)} ({sum(c.is_test for c in cases)} test)")
    for name, retriever in systems.items():
        rows: dict[str, list[tuple[float, float | None, float | None]]] = {"train": [], "test": []}
        by_cat: dict[str, list[float]] = {}
        ms = []
        for case in cases:
            query = " ".join([t.question for t in case.history] + [case.question])
            parsed = parse_question(query, bodies)
            applied = parsed.filters.merged(assistant_filters(case.filters) or Filters())
            started = time.perf_counter()
            hits = retriever.retrieve(query, applied, 10, parsed)
            ms.append((time.perf_counter() - started) * 1000)
            passages = [passage_from_chunk(h.chunk) for h in hits]
            r5 = recall_at_k(ranking(passages, case), case_qrels(case), 5)
            texts = [p.full_text for p in passages]
            f5 = float(facts_at_k(texts, case.must_contain, 5, contains_fact)) if case.must_contain else None
            f10 = float(facts_at_k(texts, case.must_contain, 10, contains_fact)) if case.must_contain else None
            rows["test" if case.is_test else "train"].append((r5, f5, f10))
            if f10 is not None:
                by_cat.setdefault(case.category, []).append(f10)
        for split, vals in rows.items():
            if not vals:
                continue
            r5 = statistics.mean(v[0] for v in vals)
            f5s = [v[1] for v in vals if v[1] is not None]
            f10s = [v[2] for v in vals if v[2] is not None]
            _say(
                f"{name:9s} {split:5s} n={len(vals):3d} recall@5 {r5:.3f} facts@5 {statistics.mean(f5s):.3f} "
                f"facts@10 {statistics.mean(f10s):.3f}"
            )
        cats = " ".join(f"{k}:{statistics.mean(v):.2f}" for k, v in sorted(by_cat.items()))
        _say(f"{name:9s} facts@10 by category (all splits): {cats}")
        _say(f"{name:9s} search ms p50 {statistics.median(ms):.1f} p95 {sorted(ms)[int(0.95 * len(ms)) - 1]:.1f}")
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
