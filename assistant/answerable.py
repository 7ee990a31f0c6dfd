"""Whether the archive answers a question at all: a learned, question-level "not found" gate.

The selector (assistant/select.py) ranks units *against each other*: its features are mostly relative (the best
unit's lemma share, its gap to the rest), so even passages about something else have a best unit that looks
good. The gate asks the other question, "does what retrieval found hold the answer?", from absolute features
of the whole result: how much of the question the best unit and its passage cover, whether the question's
names, numbers and case numbers occur in any passage at all (a tempting unanswerable names a year, body or
person the archive does not hold), whether the best unit speaks of another year than the one asked ("inför
sommaren 2022" for a question about 2019), how near in meaning the question is to the best and the nearest
unit (from the stored unit vectors, where the units have them), and the selector's margin. A standardised
logistic regression over `GATE_FEATURES`, trained by `arkiv train selector` on the gold set's training split
and SweFAQ questions the archive declines (assistant/train.py), threshold chosen by cross-validation grouped by
document.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from assistant.glossary import swedish_equivalents
from indexer.swedish.dates import years_in

__all__ = ["GATE_FEATURES", "gate_features", "specific_terms"]

GATE_FEATURES: tuple[str, ...] = (
    "best_margin",
    "margin_gap",
    "best_lemma_plain",
    "best_prefix_share",
    "best_passage_coverage",
    "best_passage_prefixes",
    "max_passage_coverage",
    "name_coverage",
    "has_names",
    "number_coverage",
    "has_numbers",
    "best_unit_specific",
    "best_passage_specific",
    "top3_passage_specific",
    "best_missing_numbers",
    "best_fit",
    "best_other_year",
    "best_year_unsaid",
    "best_dense",
    "max_dense",
    "has_dense",
    "question_lemmas",
    "english",
)

_TOKEN = re.compile(r"[^\W_]+(?:[/:-]\d+)?", re.UNICODE)
_CAPITALISED = re.compile(r"^[A-ZÅÄÖ][a-zåäöéü]{2,}$|^[A-ZÅÄÖ]{2,6}$")
_NUMBER = re.compile(r"^\d[\d/:-]*$")
_FIT = ("fit_amount", "fit_date", "fit_who", "fit_case", "fit_decision", "fit_list", "fit_frequency")


def specific_terms(question: str) -> tuple[list[str], list[str]]:
    """(names, numbers) the question names: capitalised words after its first word (not English words the
    glossary knows, which are question words in title case), and numbers such as years and case numbers."""
    tokens = _TOKEN.findall(question)
    names: list[str] = []
    numbers: list[str] = []
    for i, tok in enumerate(tokens):
        if _NUMBER.match(tok):
            numbers.append(tok)
        elif i > 0 and _CAPITALISED.match(tok) and not swedish_equivalents(tok):
            names.append(tok.lower())
    return list(dict.fromkeys(names)), list(dict.fromkeys(numbers))


def _share_found(terms: Sequence[str], haystack: str) -> float:
    if not terms:
        return 1.0
    # a name's stem (first five letters) finds its genitive and compounds: "Qvarnströms", "Jönköpingsregionen"
    return sum(1 for t in terms if (t[:5] if len(t) > 5 else t) in haystack) / len(terms)


def gate_features(
    question: str,
    english: bool,
    n_lemmas: int,
    prefixes: Sequence[str],
    x: np.ndarray,
    margins: np.ndarray,
    feature_names: Sequence[str],
    passages: Sequence[str],
    units: Sequence[tuple[str, int, str]],
) -> np.ndarray:
    """One row of `GATE_FEATURES` for a question (`prefixes`: the first five letters of its longer content
    lemmas) whose candidates have selector features `x` (columns named by
    `feature_names`) and margins `margins`, found in `passages` (the text around each hit); `units[i]` is
    candidate i's (text, index of its passage, what dates its passage: title, dates, year)."""
    out = np.zeros(len(GATE_FEATURES))
    col = {name: i for i, name in enumerate(GATE_FEATURES)}
    fcol = {name: i for i, name in enumerate(feature_names)}
    names, nums = specific_terms(question)
    haystack = " ".join(passages).lower()
    out[col["name_coverage"]] = _share_found(names, haystack)
    out[col["has_names"]] = float(bool(names))
    out[col["number_coverage"]] = _share_found(nums, haystack.replace("\u00a0", " "))
    out[col["has_numbers"]] = float(bool(nums))
    out[col["question_lemmas"]] = math.log1p(n_lemmas)
    out[col["english"]] = float(english)
    if len(margins) == 0:
        out[col["best_margin"]] = -10.0
        out[col["margin_gap"]] = 0.0
        return out
    order = np.argsort(-margins, kind="stable")
    best = int(order[0])
    out[col["best_margin"]] = float(margins[best])
    out[col["margin_gap"]] = float(margins[best] - margins[order[1]]) if len(order) > 1 else 5.0
    out[col["best_lemma_plain"]] = x[best, fcol["lemma_plain"]]
    out[col["best_prefix_share"]] = x[best, fcol["prefix_share"]]
    out[col["best_passage_coverage"]] = x[best, fcol["passage_coverage"]]
    out[col["max_passage_coverage"]] = float(x[:, fcol["passage_coverage"]].max())
    out[col["best_missing_numbers"]] = x[best, fcol["missing_numbers"]]
    out[col["best_fit"]] = max(x[best, fcol[f]] for f in _FIT)
    asked, spoken = years_in(question), years_in(units[best][0])
    out[col["best_other_year"]] = float(bool(asked) and bool(spoken) and not asked & spoken)
    # a year asked that neither the best unit nor its document and § dates say: "omsättning 2022" answered from
    # the 2023 report by a sentence with no year
    out[col["best_year_unsaid"]] = float(bool(asked) and not asked & (spoken | years_in(units[best][2])))
    # how near in meaning the question and the nearest unit are, where the units carry their vectors (a question
    # about another authority's matters is far from every unit, however many of its words a unit shares)
    dense = x[:, fcol["dense"]]
    if dense.any():
        out[col["has_dense"]] = 1.0
        out[col["best_dense"]] = float(dense[best])
        out[col["max_dense"]] = float(dense.max())
    specific = names + nums
    lowered = [p.lower() for p in passages]

    def around(i: int) -> str:
        hit = units[i][1]
        return lowered[hit] if 0 <= hit < len(lowered) else ""

    # the question's words in the best unit's passage by their first five letters, which an inflection or a
    # compound keeps where the lemma differs ("återkoppla" / "återkopplingen", "dataskyddsombuden")
    if prefixes:
        out[col["best_passage_prefixes"]] = sum(1 for p in prefixes if p in around(best)) / len(prefixes)
    out[col["best_unit_specific"]] = _share_found(specific, units[best][0].lower())
    out[col["best_passage_specific"]] = _share_found(specific, around(best))
    out[col["top3_passage_specific"]] = max(_share_found(specific, around(int(i))) for i in order[:3])
    return out
