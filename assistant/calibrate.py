"""Calibrating "not found": a probability that the best unit answers, and one threshold, both learned.

`fit_platt` fits Platt scaling (a one-feature logistic regression) on cross-validated margins of the best
unit against whether it answers. `choose_threshold` picks the probability below which Arkiv says the archive
does not answer: the value that best balances answering answerable questions and declining the others
(balanced accuracy), chosen on training folds and measured on the held-out fold, grouped by document.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

__all__ = ["balanced_accuracy", "choose_threshold", "fit_platt"]


def fit_platt(margins: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(a, b) with P(label) = 1 / (1 + exp(-(a * margin + b)))."""
    if len(set(labels.tolist())) < 2:
        return 1.0, 0.0
    model = LogisticRegression(C=1e4, max_iter=1000)
    model.fit(margins.reshape(-1, 1), labels)
    return float(model.coef_[0][0]), float(model.intercept_[0])


def balanced_accuracy(probs: np.ndarray, answerable: np.ndarray, threshold: float) -> float:
    answered = probs >= threshold
    pos = answerable.astype(bool)
    tpr = float(answered[pos].mean()) if pos.any() else 1.0
    tnr = float((~answered[~pos]).mean()) if (~pos).any() else 1.0
    return (tpr + tnr) / 2


def _best_threshold(probs: np.ndarray, answerable: np.ndarray) -> float:
    grid = np.unique(np.round(probs, 4))
    best_t, best_s = 0.5, -1.0
    for t in grid:
        s = balanced_accuracy(probs, answerable, float(t))
        if s > best_s:
            best_t, best_s = float(t), s
    return best_t


def choose_threshold(
    probs: np.ndarray, answerable: np.ndarray, groups: np.ndarray, folds: int = 5
) -> tuple[float, dict[str, float]]:
    """The threshold on all the data, and its cross-validated answer rate, decline rate and balanced accuracy."""
    answered_pos: list[bool] = []
    declined_neg: list[bool] = []
    n_folds = min(folds, len(set(groups.tolist())))
    if n_folds >= 2:
        for train_idx, test_idx in GroupKFold(n_splits=n_folds).split(probs, groups=groups):
            t = _best_threshold(probs[train_idx], answerable[train_idx])
            for i in test_idx:
                if answerable[i]:
                    answered_pos.append(bool(probs[i] >= t))
                else:
                    declined_neg.append(bool(probs[i] < t))
    threshold = _best_threshold(probs, answerable)
    report = {
        "threshold": threshold,
        "cv_answered_answerable": float(np.mean(answered_pos)) if answered_pos else float("nan"),
        "cv_declined_unanswerable": float(np.mean(declined_neg)) if declined_neg else float("nan"),
    }
    return threshold, report
