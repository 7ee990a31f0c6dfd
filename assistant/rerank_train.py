"""Training the reranker (`arkiv train reranker`): from the gold set's training split and SweQUAD-MC.

1. Every training question goes through the same search as in service (`Retriever.candidates`) over an index
   of its documents; each candidate gets its feature row (assistant/rerank.py) and a label: whether it holds
   one of the question's evidence quotes (evaluation/relevance.py). SweQUAD-MC questions, over an index of
   their contexts, label the candidates that hold the correct answer's span.
2. Hyperparameters (the regularisation C) and the feature groups are chosen by cross-validation grouped by
   document on the gold training cases only (SweQUAD-MC rows join every training fold, never a scored one):
   the choice maximises mean recall@5 plus facts@5 of the held-out folds. Test-split cases are never read.
3. The final model is fitted on all training rows and written as JSON with the hash of those rows, so the
   file is reproducible bit for bit from the same rows and the seed, and the rows from the same index (the
   search fuses in a fixed order, indexer/store.py `_fuse`). An index built again from the same documents holds
   the same points, but its sparse scores can differ in the sixth digit (the engine sums in the order its build
   laid the index out), which moves near-ties, and with them the rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.rerank import FEATURE_GROUPS, FEATURES, RerankModel

logger = logging.getLogger(__name__)

C_GRID = (0.01, 0.1, 1.0, 10.0)


@dataclass(frozen=True)
class QueryRows:
    """One training question's candidates: feature rows, labels, and what the ranking measures need."""

    qid: str
    group: str
    rows: tuple[tuple[float, ...], ...]
    labels: tuple[frozenset[str], ...]
    """The evidence labels each candidate holds (empty: not relevant)."""
    qrels: dict[str, float]
    facts: tuple[frozenset[int], ...] = ()
    """The indices of the question's key facts each candidate states."""
    n_facts: int = 0
    scored: bool = True
    """Whether cross-validation scores this question (gold) or only learns from it (SweQUAD-MC)."""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


def data_hash(queries: Sequence[QueryRows]) -> str:
    h = hashlib.sha256()
    for q in queries:
        h.update(json.dumps([q.qid, q.group, q.scored], ensure_ascii=False).encode())
        for row, lab in zip(q.rows, q.labels, strict=True):
            h.update(json.dumps([[round(x, 9) for x in row], sorted(lab)]).encode())
    return h.hexdigest()


def _recall_at(order: Sequence[int], q: QueryRows, k: int) -> float:
    from evaluation.metrics import recall_at_k

    return float(recall_at_k([q.labels[i] for i in order], q.qrels, k))


def _facts_at(order: Sequence[int], q: QueryRows, k: int) -> float | None:
    if not q.n_facts:
        return None
    found: set[int] = set()
    for i in order[:k]:
        found |= q.facts[i]
    return float(len(found) == q.n_facts)


def evaluate(
    queries: Sequence[QueryRows], score: Callable[[QueryRows], Sequence[float]], k: int = 5
) -> dict[str, float]:
    """Mean recall@k and facts@k of the scored questions when ranked by `score` (ties: search order)."""
    recalls, facts = [], []
    for q in queries:
        if not q.scored:
            continue
        s = score(q)
        order = sorted(range(len(q.rows)), key=lambda i: (-s[i], i))
        recalls.append(_recall_at(order, q, k))
        f = _facts_at(order, q, k)
        if f is not None:
            facts.append(f)
    return {
        "recall_at_5": sum(recalls) / len(recalls) if recalls else 0.0,
        "facts_at_5": sum(facts) / len(facts) if facts else 0.0,
        "questions": float(len(recalls)),
    }


def fit(queries: Sequence[QueryRows], features: Sequence[str], c: float, seed: int) -> RerankModel:
    """A logistic regression on the given features of all rows."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    idx = [FEATURES.index(f) for f in features]
    x = np.array([[row[i] for i in idx] for q in queries for row in q.rows], dtype=np.float64)
    y = np.array([1 if lab else 0 for q in queries for lab in q.labels], dtype=np.int64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    if len(set(y.tolist())) < 2:
        raise ValueError("the training rows need relevant and irrelevant candidates both")
    clf = LogisticRegression(C=c, max_iter=2000, random_state=seed)
    clf.fit((x - mean) / scale, y)
    return RerankModel(
        features=tuple(features),
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        coef=tuple(float(v) for v in clf.coef_[0]),
        intercept=float(clf.intercept_[0]),
    )


def cross_validate(
    queries: Sequence[QueryRows], features: Sequence[str], c: float, folds: int, seed: int
) -> dict[str, float]:
    """Held-out recall@5 and facts@5 over folds grouped by document (unscored rows train in every fold)."""
    from evaluation.metrics import grouped_folds

    scored = [q for q in queries if q.scored]
    learn_only = [q for q in queries if not q.scored]
    parts = grouped_folds([q.group for q in scored], folds, seed)
    held: list[QueryRows] = []
    preds: dict[str, list[float]] = {}
    for part in parts:
        test_ids = set(part)
        train = [q for i, q in enumerate(scored) if i not in test_ids] + learn_only
        test = [scored[i] for i in part]
        if not test:
            continue
        model = fit(train, features, c, seed)
        for q in test:
            preds[q.qid] = model.score_rows(q.rows)
            held.append(q)
    return evaluate(held, lambda q: preds[q.qid])


def select(
    queries: Sequence[QueryRows], folds: int = 5, seed: int = 13, log: Callable[[str], None] | None = None
) -> tuple[list[str], float, dict[str, float], list[dict[str, Any]]]:
    """Feature groups (backward elimination, one pass) and C, by grouped cross-validation."""

    def objective(m: dict[str, float]) -> float:
        return m["recall_at_5"] + m["facts_at_5"]

    def features_of(groups: Sequence[str]) -> list[str]:
        return [f for g in groups for f in FEATURE_GROUPS[g]]

    trail: list[dict[str, Any]] = []
    groups = list(FEATURE_GROUPS)
    best_c, best = C_GRID[0], {"recall_at_5": -1.0, "facts_at_5": -1.0}
    for c in C_GRID:
        m = cross_validate(queries, features_of(groups), c, folds, seed)
        trail.append({"step": "C", "C": c, "groups": list(groups), **m})
        if log:
            log(f"C={c}: recall@5 {m['recall_at_5']:.3f} facts@5 {m['facts_at_5']:.3f}")
        if objective(m) > objective(best) + 1e-9:
            best_c, best = c, m
    for g in list(FEATURE_GROUPS):
        trial = [x for x in groups if x != g]
        if not trial:
            continue
        m = cross_validate(queries, features_of(trial), best_c, folds, seed)
        trail.append({"step": "drop", "group": g, "C": best_c, **m})
        if log:
            log(f"without {g}: recall@5 {m['recall_at_5']:.3f} facts@5 {m['facts_at_5']:.3f}")
        if objective(m) > objective(best) + 1e-9:
            groups, best = trial, m
    return features_of(groups), best_c, best, trail


def train(
    queries: Sequence[QueryRows], *, folds: int = 5, seed: int = 13, log: Callable[[str], None] | None = None
) -> tuple[RerankModel, dict[str, Any]]:
    """Choose features and C by cross-validation, then fit on everything; the model records how it was made."""
    import sklearn

    features, c, cv, trail = select(queries, folds, seed, log)
    model = fit(queries, features, c, seed)
    baseline = evaluate(queries, lambda q: [-math.log1p(i) for i in range(len(q.rows))])
    info = {
        "C": c,
        "seed": seed,
        "folds": folds,
        "data_sha256": data_hash(queries),
        "questions_scored": sum(q.scored for q in queries),
        "questions_learn_only": sum(not q.scored for q in queries),
        "rows": sum(len(q.rows) for q in queries),
        "cv": {k: round(v, 4) for k, v in cv.items()},
        "fused_order_on_train": {k: round(v, 4) for k, v in baseline.items()},
        "selection": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in t.items()} for t in trail],
        "sklearn": sklearn.__version__,
    }
    return RerankModel(model.features, model.mean, model.scale, model.coef, model.intercept, info), info


# --- training questions from the gold set and SweQUAD-MC --------------------------------------------------------


def gold_queries(retriever: Any, cases: Sequence[Any], known_bodies: Sequence[str] = ()) -> list[QueryRows]:
    """The gold set's training cases (never `split: test`) through the search, labelled by their evidence."""
    from assistant.query import parse_question
    from assistant.rerank import candidate_features
    from assistant.types import Filters, search_filter
    from evaluation.baselines import assistant_filters
    from evaluation.dataset import contains_fact
    from evaluation.relevance import case_qrels, labels, passage_from_chunk

    out = []
    for case in cases:
        if case.is_test or not case.answerable or not case.evidence:
            continue
        query = " ".join([t.question for t in case.history] + [case.question])
        parsed = parse_question(query, known_bodies)
        applied = parsed.filters.merged(assistant_filters(case.filters) or Filters())
        facts, cands = retriever.candidates(query, search_filter(applied), parsed)
        if not cands:
            continue
        rows = candidate_features(facts, cands)
        passages = [passage_from_chunk(c.chunk) for c in cands]
        out.append(
            QueryRows(
                qid=case.id,
                group=case.group,
                rows=tuple(tuple(r) for r in rows),
                labels=tuple(labels(p, case) for p in passages),
                qrels=case_qrels(case),
                facts=tuple(
                    frozenset(i for i, f in enumerate(case.must_contain) if contains_fact(p.full_text, f))
                    for p in passages
                ),
                n_facts=len(case.must_contain),
            )
        )
    return out


def swequad_items(path: str, limit: int, seed: int) -> list[dict[str, Any]]:
    """A seeded sample of SweQUAD-MC training questions, whole contexts at a time (so no context is half used)."""
    import random

    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)["data"]
    contexts = sorted({d["context"] for d in data})
    random.Random(seed).shuffle(contexts)
    chosen: set[str] = set()
    items: list[dict[str, Any]] = []
    for ctx in contexts:
        if len(items) >= limit:
            break
        chosen.add(ctx)
        items.extend(d for d in data if d["context"] == ctx)
    return items


def context_id(context: str) -> str:
    return "sq-" + hashlib.sha256(context.encode("utf-8")).hexdigest()[:12]


def write_swequad_corpus(items: Sequence[dict[str, Any]], folder: Any) -> None:
    """The sampled contexts as a folder of text files, one per context, for the indexer."""
    from pathlib import Path

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    for ctx in sorted({d["context"] for d in items}):
        (root / f"{context_id(ctx)}.txt").write_text(ctx.replace("\r\n", "\n"), encoding="utf-8")


def swequad_queries(retriever: Any, items: Sequence[dict[str, Any]]) -> list[QueryRows]:
    """SweQUAD-MC questions over their contexts' index: a candidate is relevant when it holds the answer span."""
    from assistant.rerank import candidate_features
    from indexer.store import SearchFilter

    out = []
    for n, item in enumerate(items):
        answer = next((c["text"] for c in item["choices"] if c["type"] == "Correct answer"), None)
        if not answer:
            continue
        facts, cands = retriever.candidates(item["question"], SearchFilter(), None)
        if not cands:
            continue
        want = " ".join(answer.split()).lower()
        doc = context_id(item["context"])
        lab = tuple(
            frozenset({"answer"})
            if c.chunk.doc_id == doc and want in " ".join(c.chunk.text.split()).lower()
            else frozenset()
            for c in cands
        )
        out.append(
            QueryRows(
                qid=f"swequad-{n}",
                group=doc,
                rows=tuple(tuple(r) for r in candidate_features(facts, cands)),
                labels=lab,
                qrels={"answer": 1.0},
                scored=False,
            )
        )
    return out


# --- the command ---------------------------------------------------------------------------------------------

import click  # noqa: E402

SWEQUAD_TRAINING = "swequad_mc_qa/training.json"


def shared_benchmarks() -> Any:
    """The shared benchmark folder: ARKIV_SHARED_BENCHMARKS, else ../shared/benchmarks beside the checkout."""
    import os
    from pathlib import Path

    given = os.environ.get("ARKIV_SHARED_BENCHMARKS")
    return Path(given) if given else Path(__file__).resolve().parents[2] / "shared" / "benchmarks"


@click.command("reranker")
@click.option("--seed", default=13, show_default=True, type=int, help="Seed of the folds and the SweQUAD-MC sample.")
@click.option("--folds", default=5, show_default=True, type=int, help="Cross-validation folds, grouped by document.")
@click.option(
    "--swequad",
    "swequad_n",
    default=60,
    show_default=True,
    type=int,
    help="SweQUAD-MC training questions to learn from (their contexts are indexed once, cached); 0: none.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False), default=None, help="Where to write the model (default: the package's)."
)
@click.option(
    "--vector-cache",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of the evaluation's passage-vector cache (ARKIV_EVAL_CACHE), to embed nothing twice.",
)
def reranker_command(seed: int, folds: int, swequad_n: int, out: str | None, vector_cache: str | None) -> None:
    """Train the reranker from the gold set's training split (over the index of corpus/) and SweQUAD-MC.

    The index under ARKIV_DATA_DIR must hold corpus/ (`arkiv index corpus/`). Prints the cross-validated
    recall@5 and facts@5 of each choice and writes assistant/models/reranker.json.

    Example: arkiv train reranker --seed 13
    """
    from pathlib import Path

    from assistant.rerank import MODEL_PATH
    from assistant.retrieve import Retriever
    from assistant.settings import AssistantSettings
    from evaluation.dataset import load_gold
    from indexer.catalog import Catalog
    from indexer.cli import build_indexer
    from indexer.embed import make_embedder
    from indexer.sparse import SparseEncoder
    from indexer.store import Manifest, make_store

    settings = AssistantSettings()
    embedder = make_embedder(settings)
    if vector_cache:
        from evaluation.harness import CachedEmbedder

        embedder = CachedEmbedder(embedder, Path(vector_cache))
    sparse = SparseEncoder(settings.cache_dir)
    store = make_store(settings)
    store.open(Manifest(embedder.model_id, embedder.dimension))
    try:
        retriever = Retriever(store, embedder, sparse, prefetch=settings.prefetch_k, use_model=False)
        catalog = Catalog(settings.data_dir / "catalog")
        bodies = sorted({e.meta.body for e in catalog.entries() if e.meta.body})
        held = {e.source for e in catalog.entries()}
        cases = [c for c in load_gold(gold_set="all") if all(d in held for d in c.relevant_documents)]
        queries = gold_queries(retriever, cases, bodies)
        click.echo(f"gold training questions: {len(queries)} (test split left out)")
    finally:
        store.close()
    if swequad_n > 0:
        source = shared_benchmarks() / SWEQUAD_TRAINING
        if not source.exists():
            click.echo("SweQUAD-MC training data not found; training on the gold set only")
        else:
            items = swequad_items(str(source), swequad_n, seed)
            sq_dir = settings.data_dir / "cache" / f"rerank-swequad-{seed}-{swequad_n}"
            write_swequad_corpus(items, sq_dir / "corpus")
            sq_settings = settings.model_copy(update={"data_dir": sq_dir, "qdrant_url": None})
            indexer = build_indexer(sq_settings)
            indexer.embedder = embedder
            try:
                indexer.run([sq_dir / "corpus"])
                sq_retriever = Retriever(indexer.store, embedder, sparse, prefetch=settings.prefetch_k, use_model=False)
                sq = swequad_queries(sq_retriever, items)
            finally:
                indexer.store.close()
            click.echo(f"SweQUAD-MC training questions: {len(sq)}")
            queries = queries + sq
    model, info = train(queries, folds=folds, seed=seed, log=click.echo)
    path = Path(out) if out else MODEL_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(model.to_json(), encoding="utf-8")
    click.echo(f"features: {', '.join(model.features)}")
    click.echo(f"C: {info['C']}; cross-validated: {info['cv']}; fused order: {info['fused_order_on_train']}")
    click.echo(f"data sha256: {info['data_sha256']}")
    click.echo(f"wrote {path}")
