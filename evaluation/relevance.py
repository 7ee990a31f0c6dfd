"""When a retrieved passage counts as relevant to a gold case.

The rule: a passage *holds* an evidence quote when it comes from the quote's document, its page range
covers the quote's page, and its text, headed by its § and section as a citation shows them
("§ 29 Stöttning besöksnäring ..."), holds at least `MIN_SHARE` of the quote's words in the quote's order,
with at most `MAX_GAP` other words between two of them and at most `MAX_SKIP` quote words missed in a row.
Both sides are folded with `normalise_fact` (case, whitespace, thousands separators, dashes) and split
into words. So:

- an exact copy holds it (all of it);
- a quote cut in two by a chunk boundary counts for a chunk holding at least half of it;
- a table row that the chunker rewrote as "Kolumn: värde; ..." still holds the row's cells;
- common words scattered over the page do not, nor does the same sentence on another page: protocols
  repeat formulas ("Finansiering sker ur det statliga anslaget 1:1") under many §§.

A passage is relevant to a case when it holds any of the case's evidence quotes. Ranking measures count
each quote once, at the first passage that holds it (evaluation/metrics.py), so a retriever is not
rewarded for returning two overlapping chunks of one passage.

The document matches when the passage's corpus-relative source path is the evidence's document, or when
its doc id is the one the indexer derives from that path (`indexer.schema.doc_id_for`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from evaluation.dataset import EvalCase, Evidence, normalise_fact
from indexer.schema import Chunk, doc_id_for

MIN_SHARE = 0.5
"""Share of a quote's words a passage on the quote's page must hold, in order."""
MAX_GAP = 4
"""Other words allowed between two matched quote words (a table's column label, "Resultat av granskning")."""
MAX_SKIP = 1
"""Quote words that may be missing between two matched ones (a dropped row number, a split word)."""

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Passage:
    """What any retriever returns, reduced to what relevance needs: where it is from and what it says."""

    key: str
    """Unique within one ranking (a chunk id, a node id, a passage id)."""
    doc_id: str
    source: str
    page_start: int
    page_end: int
    text: str
    heading: str = ""
    """The § and section the passage stands under, when the chunker moved them out of its text."""

    @property
    def full_text(self) -> str:
        return f"{self.heading}\n{self.text}" if self.heading else self.text


def heading_of(paragraph: str | None, section: str | None) -> str:
    """ "§ 29 Stöttning besöksnäring 2022": the § number and the innermost section heading."""
    last = section.split(" > ")[-1].strip() if section else ""
    return " ".join(x for x in (f"§ {paragraph}" if paragraph else "", last) if x)


def passage_from_chunk(chunk: Chunk) -> Passage:
    return Passage(
        chunk.chunk_id,
        chunk.doc_id,
        chunk.source,
        chunk.page_start,
        chunk.page_end,
        chunk.text,
        heading_of(chunk.paragraph, chunk.section),
    )


@lru_cache(maxsize=4096)
def _folded(text: str) -> str:
    return normalise_fact(text)


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(_folded(text)))


def same_document(passage: Passage, document: str) -> bool:
    """Whether the passage comes from the corpus file `document`."""
    document = document.replace("\\", "/")
    return passage.source == document or passage.doc_id == doc_id_for(document)


def ordered_share(passage_text: str, quote: str) -> float:
    """Share of the quote's words the passage holds in order, within the gaps the rule allows."""
    q = _tokens(quote)
    p = _tokens(passage_text)
    if not q or not p:
        return 0.0
    positions: dict[str, list[int]] = {}
    for j, token in enumerate(p):
        positions.setdefault(token, []).append(j)
    # chain[(i, j)]: the longest in-order match of quote words ending with q[i] at p[j]
    chain: dict[tuple[int, int], int] = {}
    best = 0
    for i, token in enumerate(q):
        for j in positions.get(token, ()):
            length = 1
            for di in range(1, MAX_SKIP + 2):
                for dj in range(1, MAX_GAP + 2):
                    prior = chain.get((i - di, j - dj))
                    if prior is not None and prior + 1 > length:
                        length = prior + 1
            chain[(i, j)] = length
            best = max(best, length)
    return best / len(q)


def holds(passage: Passage, evidence: Evidence) -> bool:
    """Whether the passage holds the evidence quote (the rule in the module docstring)."""
    if not same_document(passage, evidence.document):
        return False
    if not passage.page_start <= evidence.page <= passage.page_end:
        return False
    if _folded(evidence.quote) in _folded(passage.full_text):
        return True
    return ordered_share(passage.full_text, evidence.quote) >= MIN_SHARE


def evidence_label(index: int) -> str:
    """The label of a case's evidence quote number `index` (0-based) in rankings and qrels."""
    return f"evidence:{index}"


def case_qrels(case: EvalCase) -> dict[str, float]:
    """Each evidence quote of the case, graded 1."""
    return {evidence_label(i): 1.0 for i in range(len(case.evidence))}


def labels(passage: Passage, case: EvalCase) -> frozenset[str]:
    """The evidence quotes of the case that the passage holds."""
    return frozenset(evidence_label(i) for i, ev in enumerate(case.evidence) if holds(passage, ev))


def is_relevant(passage: Passage, case: EvalCase) -> bool:
    return any(holds(passage, ev) for ev in case.evidence)


def ranking(passages: Sequence[Passage], case: EvalCase) -> list[frozenset[str]]:
    """A ranking of passages as label sets, for evaluation/metrics.py."""
    return [labels(p, case) for p in passages]


def dedupe(passages: Iterable[Passage]) -> list[Passage]:
    """The passages in order, each key once."""
    seen: set[str] = set()
    out: list[Passage] = []
    for p in passages:
        if p.key not in seen:
            seen.add(p.key)
            out.append(p)
    return out
