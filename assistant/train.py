"""Training the answer selector (`arkiv train selector`): reproducible from the data and a seed.

1. Examples: SweQUAD-MC training questions over their own text (the unit holding the correct span is the
   positive) and the gold set's training split over what the assistant retrieves for them from the index
   (units holding an evidence quote are positive); see assistant/selector_data.py. Archive questions weigh
   as much in total as SweQUAD-MC's (`unit_weights`).
2. Two standardised logistic regressions, C chosen by cross-validation grouped by document: one with the
   question–unit cosines of the stored unit vectors (used whenever every candidate has one, as every unit of
   an index does), and a lexical one for text handed over without vectors. The first learns from the
   `dense_subset` of SweQUAD-MC (its units embedded once and cached) and the archive's questions.
3. Calibration (assistant/calibrate.py): Platt scaling of the best unit's cross-validated margin, against
   answerable questions and questions the passages do not answer (SweQUAD-MC questions over another text,
   the gold unanswerables, SweFAQ questions asked of the archive).
3b. The not-found gate (assistant/answerable.py, `fit_gate`): a logistic regression over question-level
   features of the out-of-fold rankings, C by grouped cross-validation, Platt-scaled on the archive's
   questions, answering at or above the archive's answerable share.
4. Composition parameters (how far below the best unit a second or third unit may score) chosen on the
   cross-validated scores under the length budget.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from assistant.answerable import GATE_FEATURES
from assistant.calibrate import choose_threshold, fit_platt
from assistant.compose import choose_compose_params
from assistant.select import (
    DENSE_FEATURES,
    FEATURES,
    Candidate,
    LinearModel,
    Question,
    Selector,
    featurize,
    question_gate_features,
)
from assistant.selector_data import EmbeddingCache, Example, load_swequad
from indexer.embed import Embedder

logger = logging.getLogger(__name__)

SEED = 13
FOLDS = 5
C_GRID = (0.03, 0.1, 0.3, 1.0)


@dataclass
class Prepared:
    """Examples turned into feature matrices, with their labels and groups."""

    examples: list[Example]
    x: list[np.ndarray]
    y: list[np.ndarray]
    cands: list[list[Candidate]]
    answerable: list[bool]
    passages: list[list[str]] = field(default_factory=list)
    """The text around each example's hits (for the gate's "is the question's name anywhere" features)."""


def _candidates(ex: Example, cache: EmbeddingCache | None) -> list[Candidate]:
    qv = cache.get("q", ex.question) if cache else None
    out = []
    for u in ex.units:
        dense = None
        if qv is not None and cache is not None and (uv := cache.get("p", u.text)) is not None:
            dense = float(np.dot(qv, uv))
        out.append(Candidate(u.text, 0, u.ordinal, len(ex.units), dense=dense, start=u.start, end=u.end))
    return out


def prepare(examples: Sequence[Example], cache: EmbeddingCache | None, answerable: bool = True) -> Prepared:
    p = Prepared([], [], [], [], [])
    for ex in examples:
        cands = _candidates(ex, cache)
        q = Question.of(ex.question)
        p.examples.append(ex)
        p.cands.append(cands)
        p.x.append(featurize(q, cands))
        p.y.append(np.array(ex.labels if answerable else [0] * len(cands)))
        p.answerable.append(answerable)
        p.passages.append([" ".join(u.text for u in ex.units)])
    return p


DENSE_TEXTS = 160
"""SweQUAD-MC training texts whose units are embedded for the dense model (embedding all 434 takes an hour
on two cores); chosen by hash, so the same every time."""


def dense_subset(examples: Sequence[Example], texts: int = DENSE_TEXTS) -> list[Example]:
    """The examples over the first `texts` texts in hash order."""
    groups = sorted({ex.group for ex in examples})[:texts]
    keep = set(groups)
    return [ex for ex in examples if ex.group in keep]


def mismatched(examples: Sequence[Example], seed: int = SEED) -> list[Example]:
    """Each question over another example's text: passages that do not answer it."""
    rng = random.Random(seed)
    out = []
    for ex in examples:
        other = rng.choice(examples)
        while other.group == ex.group:
            other = rng.choice(examples)
        out.append(Example(ex.qid + "-x", ex.group, ex.question, other.units, [0] * len(other.units)))
    return out


def fit_linear(
    x: np.ndarray, y: np.ndarray, features: Sequence[str], c: float, weights: np.ndarray | None = None
) -> LinearModel:
    idx = [FEATURES.index(f) for f in features]
    xs = x[:, idx]
    mean = xs.mean(axis=0)
    scale = xs.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    model.fit((xs - mean) / scale, y, sample_weight=weights)
    return LinearModel(tuple(features), mean, scale, model.coef_[0].copy(), float(model.intercept_[0]))


def top_hits(prep: Prepared, margins: list[np.ndarray], k: int) -> float:
    """Share of answerable questions with a positive unit among the k best-scored units."""
    ok = [
        bool(y[np.argsort(-m, kind="stable")[:k]].any())
        for y, m, a in zip(prep.y, margins, prep.answerable, strict=True)
        if a
    ]
    return float(np.mean(ok)) if ok else 0.0


def cross_validated(prep: Prepared, features: Sequence[str], c: float, folds: int = FOLDS) -> list[np.ndarray]:
    """Out-of-fold margins per example, folds grouped by document."""
    groups = np.array([ex.group for ex in prep.examples])
    out: list[np.ndarray] = [np.zeros(0)] * len(prep.examples)
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(np.zeros(len(groups)), groups=groups):
        x = np.vstack([prep.x[i] for i in train_idx])
        y = np.concatenate([prep.y[i] for i in train_idx])
        model = fit_linear(x, y, features, c, unit_weights(prep, train_idx))
        for i in test_idx:
            out[i] = model.margin(prep.x[i])
    return out


def unit_weights(prep: Prepared, rows: Sequence[int]) -> np.ndarray:
    """Per unit: archive questions weigh as much in total as SweQUAD-MC's, which outnumber them ten to one but
    are another kind of text (one authority page handed over, not an archive's search results)."""
    archive = [_is_archive(prep.examples[i]) for i in rows]
    n_archive = sum(archive)
    share = (len(archive) - n_archive) / n_archive if n_archive else 1.0
    w = [max(1.0, share) if a else 1.0 for a in archive]
    return np.concatenate([np.full(len(prep.y[i]), wi) for i, wi in zip(rows, w, strict=True)])


def plain_features() -> tuple[str, ...]:
    return tuple(f for f in FEATURES if f not in DENSE_FEATURES)


def _has_dense(p: Prepared) -> Prepared:
    keep = [i for i, c in enumerate(p.cands) if c and all(u.dense is not None for u in c)]
    return _subset(p, keep)


def _subset(p: Prepared, keep: Sequence[int]) -> Prepared:
    return Prepared(
        [p.examples[i] for i in keep],
        [p.x[i] for i in keep],
        [p.y[i] for i in keep],
        [p.cands[i] for i in keep],
        [p.answerable[i] for i in keep],
        [p.passages[i] for i in keep] if p.passages else [],
    )


def fit_variant(
    name: str, features: Sequence[str], answerable: Prepared, unanswerable: Prepared, report: dict[str, float]
) -> tuple[LinearModel, list[np.ndarray], Prepared, list[np.ndarray]]:
    """C by grouped cross-validation; then Platt scaling and the threshold on out-of-fold margins."""
    best = None
    for c in C_GRID:
        oof = cross_validated(answerable, features, c)
        score = top_hits(answerable, oof, 1) + top_hits(answerable, oof, 2)
        if best is None or score > best[0]:
            best = (score, c, oof)
    assert best is not None
    _, c, oof = best
    for k in (1, 2, 3):
        report[f"{name}_cv_top{k}"] = top_hits(answerable, oof, k)
    gold = [i for i, ex in enumerate(answerable.examples) if ex.group.startswith("gold:")]
    if gold:
        sub = Prepared(
            [answerable.examples[i] for i in gold], [], [answerable.y[i] for i in gold], [], [True] * len(gold)
        )
        for k in (1, 2, 3):
            report[f"{name}_cv_gold_top{k}"] = top_hits(sub, [oof[i] for i in gold], k)
    report[f"{name}_C"] = c
    everything = list(range(len(answerable.examples)))
    model = fit_linear(
        np.vstack(answerable.x), np.concatenate(answerable.y), features, c, unit_weights(answerable, everything)
    )
    cal = _concat([answerable, unanswerable])
    cal_oof = cross_validated(cal, features, c)
    best_margin = np.array([float(m.max()) if len(m) else -10.0 for m in cal_oof])
    best_right = np.array([int(y[int(np.argmax(m))]) if len(m) else 0 for y, m in zip(cal.y, cal_oof, strict=True)])
    platt = fit_platt(best_margin, best_right)
    probs = 1.0 / (1.0 + np.exp(-(platt[0] * best_margin + platt[1])))
    threshold, th_report = choose_threshold(
        probs, np.array(cal.answerable), np.array([ex.group for ex in cal.examples])
    )
    report.update({f"{name}_{k}": v for k, v in th_report.items()})
    # the archive's share of it (out-of-fold probabilities against the threshold chosen on all the data)
    for tag, want in (("gold_answered", True), ("archive_declined", False)):
        idx = [
            i
            for i, ex in enumerate(cal.examples)
            if ex.group.startswith(("gold:", "swefaq:")) and cal.answerable[i] == want
        ]
        if idx:
            answered = probs[idx] >= threshold
            report[f"{name}_oof_{tag}"] = float(answered.mean() if want else (~answered).mean())
    return replace(model, platt=platt, threshold=threshold), oof, cal, cal_oof


def train(
    cache: EmbeddingCache | None = None,
    seed: int = SEED,
    extra: Sequence[Prepared] = (),
    negatives: Sequence[Prepared] = (),
    embed: Embedder | None = None,
    archive: Sequence[object] = (),
) -> tuple[Selector, dict[str, float]]:
    """Train the selector from SweQUAD-MC training (+ `extra` answerable and `negatives` examples).

    With a cache (and an embedder to fill it), the dense model learns from the `dense_subset` texts.
    """
    sq = load_swequad("training")
    if cache is not None and embed is not None:
        subset = dense_subset(sq)
        cache.fill("q", [e.question for e in subset], lambda ts: [embed.embed_query(t) for t in ts])
        cache.fill("p", [u.text for e in subset for u in e.units], embed.embed_documents)
    archive_pos, archive_neg = prepare_archive(archive)
    pos = _concat([prepare(sq, cache), archive_pos, *extra])
    neg = _concat([prepare(mismatched(sq, seed), cache, answerable=False), archive_neg, *negatives])
    report: dict[str, float] = {}
    plain_model, plain_oof, cal, cal_oof = fit_variant("plain", plain_features(), pos, neg, report)
    gate = fit_gate(cal, cal_oof, report)
    dense_pos, dense_neg = _has_dense(pos), _has_dense(neg)
    if len(dense_pos.examples) >= 50:
        dense_model, *_ = fit_variant("dense", FEATURES, dense_pos, dense_neg, report)
    else:
        dense_model = plain_model
    compose, c_report = choose_compose_params(pos.examples, pos.cands, plain_oof)
    report.update(c_report)
    meta = {
        "seed": seed,
        "trained_on": {
            "swequad_mc_training": len(sq),
            "with_dense": len(dense_pos.examples),
            "gold_train_answerable": len(archive_pos.examples),
            "extra": sum(len(p.examples) for p in extra),
            "negatives": len(neg.examples),
        },
        "cv": {k: round(v, 4) for k, v in report.items()},
    }
    return Selector(dense_model, plain_model, compose, meta, gate), report


GATE_C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
GATE_CV_REPEATS = 5
"""How many assignments of documents to folds the gate's C is chosen over (the first as GroupKFold makes it,
the rest shuffled with seeds 1..)."""
GATE_USED = tuple(f for f in GATE_FEATURES if f not in ("best_margin", "margin_gap"))
"""The gate's features. The selector's margin is left out: over many candidates its maximum grows with their
number alone, which says nothing about whether any of them answers (it learned a negative weight)."""
ARCHIVE_WEIGHT = 4.0
"""How much more an archive question (gold training split, SweFAQ) counts than a SweQUAD-MC one in the gate:
the archive's tempting unanswerables are what the gate is for, and there are few of them."""


def _is_archive(ex: Example) -> bool:
    return ex.group.startswith(("gold:", "swefaq:"))


def gate_matrix(cal: Prepared, margins: Sequence[np.ndarray]) -> np.ndarray:
    """One row of GATE_FEATURES per example, from its candidates' features and (out-of-fold) margins."""
    from assistant.qtype import detect_language

    rows = []
    for ex, cands, x, m, passages in zip(cal.examples, cal.cands, cal.x, margins, cal.passages, strict=True):
        q = Question.of(ex.question, english=detect_language(ex.question) == "en")
        rows.append(question_gate_features(q, cands, x, m, passages))
    return np.vstack(rows) if rows else np.zeros((0, len(GATE_FEATURES)))


def fit_gate(cal: Prepared, cal_oof: Sequence[np.ndarray], report: dict[str, float]) -> LinearModel:
    """The not-found gate (assistant/answerable.py): C by grouped cross-validation (AUC over the archive's
    questions), then Platt scaling on its out-of-fold margins and the threshold at the answerable share."""
    x = gate_matrix(cal, cal_oof)
    y = np.array(cal.answerable, dtype=int)
    groups = np.array([ex.group for ex in cal.examples])
    weights = np.array([ARCHIVE_WEIGHT if _is_archive(ex) else 1.0 for ex in cal.examples])
    archive = np.array([_is_archive(ex) for ex in cal.examples])
    if not archive.any():  # trained without the archive: calibrate on what there is
        archive = np.ones(len(y), dtype=bool)
    features = GATE_USED
    best: tuple[float, float, np.ndarray] | None = None
    for c in GATE_C_GRID:
        # the AUC over GATE_CV_REPEATS assignments of documents to folds: one assignment's AUC moves more between
        # neighbouring Cs than the Cs differ; the first (unshuffled) one's margins are what Platt scales
        runs = []
        for rep in range(GATE_CV_REPEATS):
            folds = GroupKFold(n_splits=FOLDS, shuffle=rep > 0, random_state=rep if rep > 0 else None)
            oof_rep = np.zeros(len(y))
            for train_idx, test_idx in folds.split(x, groups=groups):
                model = _fit_weighted(x[train_idx], y[train_idx], weights[train_idx], features, c)
                oof_rep[test_idx] = model.margin(x[test_idx])
            runs.append(oof_rep)
        score = float(np.mean([_auc(r[archive], y[archive]) for r in runs]))
        report[f"gate_cv_archive_auc_at_C_{c:g}"] = score
        if best is None or score > best[0]:
            best = (score, c, runs[0])
    assert best is not None
    auc, c, oof = best
    # Platt scaling on the archive's out-of-fold margins; for calibrated probabilities the threshold that best
    # balances answering and declining is the share of answerable questions (no search over noisy cut-offs)
    platt = fit_platt(oof[archive], y[archive])
    threshold = float(y[archive].mean())
    report["gate_C"] = c
    report["gate_cv_archive_auc"] = auc
    report["gate_threshold"] = threshold
    answered: list[bool] = []
    declined: list[bool] = []
    declined_gold: list[bool] = []
    a_idx = np.flatnonzero(archive)
    for train_idx, test_idx in GroupKFold(n_splits=FOLDS).split(a_idx, groups=groups[a_idx]):
        tr, te = a_idx[train_idx], a_idx[test_idx]
        pa, pb = fit_platt(oof[tr], y[tr])
        probs = 1.0 / (1.0 + np.exp(-(pa * oof[te] + pb)))
        for i, p, label in zip(te, probs, y[te], strict=True):
            right = bool(p >= y[tr].mean()) == bool(label)
            (answered if label else declined).append(right)
            if not label and cal.examples[i].group.startswith("gold:"):
                declined_gold.append(right)
    report["gate_cv_answered_answerable"] = float(np.mean(answered))
    report["gate_cv_declined_unanswerable"] = float(np.mean(declined))
    report["gate_cv_declined_gold_unanswerable"] = float(np.mean(declined_gold)) if declined_gold else float("nan")
    model = _fit_weighted(x, y, weights, features, c)
    return replace(model, platt=platt, threshold=threshold)


def _fit_weighted(x: np.ndarray, y: np.ndarray, w: np.ndarray, features: Sequence[str], c: float) -> LinearModel:
    x = x[:, [GATE_FEATURES.index(f) for f in features]]
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    model.fit((x - mean) / scale, y, sample_weight=w)
    return LinearModel(
        tuple(features), mean, scale, model.coef_[0].copy(), float(model.intercept_[0]), space=GATE_FEATURES
    )


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores)) if len(set(labels.tolist())) == 2 else 0.5


def _concat(parts: Sequence[Prepared]) -> Prepared:
    out = Prepared([], [], [], [], [])
    for p in parts:
        out.examples += p.examples
        out.x += p.x
        out.y += p.y
        out.cands += p.cands
        out.answerable += p.answerable
        out.passages += p.passages
    return out


@dataclass(frozen=True)
class SpanScores:
    """Composed answers over SweQUAD-MC texts handed over: how often they hold the answer span, and how long."""

    questions: int
    held: float
    median_chars: float
    p90_chars: float
    declined: float
    top1: float
    top2: float
    top3: float


def swequad_scores(selector: Selector, split: str = "dev", cache: EmbeddingCache | None = None) -> SpanScores:
    """Compose an answer for every question of `split` from its own text and check it holds the correct span."""
    from assistant.compose import Composer

    composer = Composer(selector)
    held, lengths, declined = [], [], []
    tops: dict[int, list[bool]] = {1: [], 2: [], 3: []}
    for ex in load_swequad(split):
        cands = _candidates(ex, cache)
        dense = [c.dense for c in cands] if cands and all(c.dense is not None for c in cands) else None
        text = ex.context
        comp = composer.compose_text(ex.question, text, dense)  # type: ignore[arg-type]
        answer = _strip_markers(comp.text)
        held.append(" ".join(ex.answer.split()).lower() in " ".join(answer.split()).lower())
        lengths.append(len(answer))
        declined.append(not comp.answers)
        labels = np.array(ex.labels)
        scored = selector.score(Question.of(ex.question), cands)
        for k in tops:
            tops[k].append(bool(any(labels[s.candidate.ordinal] for s in scored[:k])))
    return SpanScores(
        len(held),
        float(np.mean(held)),
        float(np.median(lengths)),
        float(np.percentile(lengths, 90)),
        float(np.mean(declined)),
        *(float(np.mean(tops[k])) for k in (1, 2, 3)),
    )


def _strip_markers(text: str) -> str:
    import re

    return re.sub(r"\s*\[\d+\]", "", text).strip()


def prepare_archive(examples: Sequence[object]) -> tuple[Prepared, Prepared]:
    """Archive examples as (answerable with an answering unit among their hits, unanswerable)."""
    from assistant.qtype import detect_language
    from assistant.select import candidates_from_hits, passage_context
    from assistant.selector_data import quote_overlaps

    pos, neg = Prepared([], [], [], [], []), Prepared([], [], [], [], [])
    for ax in examples:
        hits = ax.hits  # type: ignore[attr-defined]
        cands = candidates_from_hits(hits)
        if not cands:
            continue
        q = Question.of(ax.question, english=detect_language(ax.question) == "en")  # type: ignore[attr-defined]
        x = featurize(q, cands, [passage_context(h) for h in hits])
        labels = [int(any(quote_overlaps(c.text, quote) for quote in ax.quotes)) for c in cands]  # type: ignore[attr-defined]
        ex = Example(ax.qid, ax.group, ax.question, [], labels, facts=ax.facts)  # type: ignore[attr-defined]
        if ax.answerable:  # type: ignore[attr-defined]
            if not any(labels):
                continue  # the lexical search missed the evidence: nothing to learn which unit answers
            target = pos
        else:
            target = neg
            labels = [0] * len(cands)
        target.examples.append(ex)
        target.x.append(x)
        target.y.append(np.array(labels))
        target.cands.append(cands)
        target.answerable.append(bool(ax.answerable))  # type: ignore[attr-defined]
        target.passages.append([passage_context(h) for h in hits])
    return pos, neg
