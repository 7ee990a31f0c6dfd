"""The new measures as pure functions: facts@k, answer length, bootstrap intervals, grouped folds."""

from __future__ import annotations

import pytest

from evaluation.dataset import contains_fact
from evaluation.metrics import (
    Interval,
    answer_words,
    applicable_mean,
    bootstrap_intervals,
    facts_at_k,
    grouped_folds,
)

HITS = [
    "Nämnden beviljar 500 000 kronor till ShareMusic.",
    "Beslutet fattades den 10 februari 2022 (§ 29).",
    "Styrelsen sammanträdde fyra gånger.",
]


def test_facts_at_k_needs_every_fact_within_the_first_k_texts() -> None:
    assert facts_at_k(HITS, ("500 000", "§29"), 2, contains_fact)
    assert not facts_at_k(HITS, ("500 000", "§29"), 1, contains_fact)  # the § stands in the second hit
    assert not facts_at_k(HITS, ("500 000", "1600"), 3, contains_fact)
    assert facts_at_k(HITS, ("fyra",), 3, contains_fact) and not facts_at_k(HITS, ("fyra",), 2, contains_fact)
    assert facts_at_k([], (), 5, contains_fact)  # nothing to find
    assert not facts_at_k([], ("x",), 5, contains_fact)


def test_answer_length_counts_words_not_citation_markers() -> None:
    assert answer_words("Nämnden beviljade 500 000 kronor [1] [2].") == 4
    assert answer_words("Beslut § 29, t.ex. 1,5 mnkr.") == 5
    assert answer_words("") == 0


def test_applicable_mean_skips_what_does_not_apply() -> None:
    assert applicable_mean([1.0, None, 0.0]) == 0.5
    assert applicable_mean([None, None]) is None


def test_bootstrap_intervals_are_seeded_contain_the_mean_and_narrow_with_more_cases() -> None:
    small = {"acc": [1.0, 0.0] * 10}
    large = {"acc": [1.0, 0.0] * 200}
    a = bootstrap_intervals(small, seed=7)["acc"]
    assert a == bootstrap_intervals(small, seed=7)["acc"]  # same seed, same interval
    assert a is not None and a.low < 0.5 < a.high
    b = bootstrap_intervals(large, seed=7)["acc"]
    assert b is not None and (b.high - b.low) < (a.high - a.low) / 2
    # a constant measure has no spread
    assert bootstrap_intervals({"acc": [1.0] * 8})["acc"] == Interval(1.0, 1.0)


def test_bootstrap_columns_apply_to_their_own_cases() -> None:
    columns = {"recall": [1.0, 0.0, None, None], "abstention": [None, None, 1.0, 1.0], "none": [None] * 4}
    got = bootstrap_intervals(columns, reps=200)
    assert got["abstention"] == Interval(1.0, 1.0)
    assert got["recall"] is not None and got["recall"].low == 0.0 and got["recall"].high == 1.0
    assert got["none"] is None
    with pytest.raises(ValueError):
        bootstrap_intervals({"a": [1.0], "b": [1.0, 0.0]})


def test_grouped_bootstrap_is_wider_when_cases_stand_or_fall_with_their_document() -> None:
    # ten documents, each with five cases that all succeed or all fail
    values = [1.0 if doc % 2 else 0.0 for doc in range(10) for _ in range(5)]
    groups = [f"doc{doc}" for doc in range(10) for _ in range(5)]
    by_case = bootstrap_intervals({"v": values}, seed=1)["v"]
    by_doc = bootstrap_intervals({"v": values}, groups, seed=1)["v"]
    assert by_case is not None and by_doc is not None
    assert (by_doc.high - by_doc.low) > (by_case.high - by_case.low) * 1.5


def test_grouped_folds_keep_each_group_whole_and_cover_every_case_once() -> None:
    groups = ["a", "a", "b", "c", "c", "c", "d", "e", "e", "f", "g", "h"]
    folds = grouped_folds(groups, 3, seed=0)
    assert len(folds) == 3
    assert sorted(i for fold in folds for i in fold) == list(range(len(groups)))
    for fold in folds:
        others = {groups[i] for f in folds if f is not fold for i in f}
        assert not {groups[i] for i in fold} & others  # no group in two folds
    sizes = sorted(len(f) for f in folds)
    assert sizes[-1] - sizes[0] <= 1  # balanced
    assert grouped_folds(groups, 3, seed=0) == folds
    assert grouped_folds(groups, 3, seed=5) != folds  # the seed decides which groups go together


def test_grouped_folds_with_fewer_groups_than_folds() -> None:
    assert grouped_folds(["x", "x", "y"], 5) in ([[0, 1], [2]], [[2], [0, 1]])
    with pytest.raises(ValueError):
        grouped_folds(["x"], 1)
