"""Training the answer selector (`arkiv train selector`): reproducible from the data and a seed.

1. Examples: SweQUAD-MC training questions over their own text (the unit holding the correct span is the
   positive) and the gold set's training split over what retrieval returns for them (units holding an
   evidence quote are positive); see assistant/selector_data.py.
2. Two standardised logistic regressions (with the dense features, and lexical only for an index without
   unit vectors), C chosen by cross-validation grouped by document.
3. Calibration (assistant/calibrate.py): Platt scaling of the best unit's cross-validated margin, against
   answerable questions and questions the passages do not answer (SweQUAD-MC questions over another text,
   the gold unanswerables, SweFAQ questions asked of the archive); the not-found threshold that
   balances answering and declining best on the cross-validated probabilities.
4. Composition parameters (how far below the best unit a second or third unit may score) chosen on the
   cross-validated scores under the length budget.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from assistant.calibrate import choose_threshold, fit_platt
from assistant.compose import choose_compose_params
from assistant.select import DENSE_FEATURES, FEATURES, Candidate, LinearModel, Question, Selector, featurize
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


def fit_linear(x: np.ndarray, y: np.ndarray, features: Sequence[str], c: float) -> LinearModel:
    idx = [FEATURES.index(f) for f in features]
    xs = x[:, idx]
    mean = xs.mean(axis=0)
    scale = xs.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    model.fit((xs - mean) / scale, y)
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
        model = fit_linear(x, y, features, c)
        for i in test_idx:
            out[i] = model.margin(prep.x[i])
    return out


def plain_features() -> tuple[str, ...]:
    return tuple(f for f in FEATURES if f not in DENSE_FEATURES)


def _has_dense(p: Prepared) -> Prepared:
    out = Prepared([], [], [], [], [])
    for ex, x, y, c, a in zip(p.examples, p.x, p.y, p.cands, p.answerable, strict=True):
        if c and all(u.dense is not None for u in c):
            out.examples.append(ex)
            out.x.append(x)
            out.y.append(y)
            out.cands.append(c)
            out.answerable.append(a)
    return out


def fit_variant(
    name: str, features: Sequence[str], answerable: Prepared, unanswerable: Prepared, report: dict[str, float]
) -> tuple[LinearModel, list[np.ndarray]]:
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
    model = fit_linear(np.vstack(answerable.x), np.concatenate(answerable.y), features, c)
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
    return replace(model, platt=platt, threshold=threshold), oof


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
    plain_model, plain_oof = fit_variant("plain", plain_features(), pos, neg, report)
    dense_pos, dense_neg = _has_dense(pos), _has_dense(neg)
    if len(dense_pos.examples) >= 50:
        dense_model, _ = fit_variant("dense", FEATURES, dense_pos, dense_neg, report)
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
    return Selector(dense_model, plain_model, compose, meta), report


def _concat(parts: Sequence[Prepared]) -> Prepared:
    out = Prepared([], [], [], [], [])
    for p in parts:
        out.examples += p.examples
        out.x += p.x
        out.y += p.y
        out.cands += p.cands
        out.answerable += p.answerable
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
        cands = [replace(c, dense=None) for c in cands]
        q = Question.of(ax.question, english=detect_language(ax.question) == "en")  # type: ignore[attr-defined]
        x = featurize(q, cands, [passage_context(h) for h in hits])
        labels = [int(any(quote_overlaps(c.text, quote) for quote in ax.quotes)) for c in cands]  # type: ignore[attr-defined]
        ex = Example(ax.qid, ax.group, ax.question, [], labels)  # type: ignore[attr-defined]
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
    return pos, neg
