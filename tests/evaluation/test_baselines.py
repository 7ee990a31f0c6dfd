"""The baseline configurations: filters as the store applies them, stable rankings, plain BM25."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from evaluation.baselines import Bm25PlainConfig, StoreConfig, assistant_filters, search_filter_for, years_named
from evaluation.dataset import EvalFilters
from indexer.errors import ConfigurationError
from indexer.schema import Chunk, DocumentMeta
from indexer.sparse import SparseVector
from indexer.store import ScoredChunk, SearchFilter
from tests.conftest import FakeEmbedder


def chunk(doc: str, ordinal: int, text: str, *, year: int = 2022, doc_type: str = "protokoll") -> Chunk:
    return Chunk(
        doc_id=doc,
        ordinal=ordinal,
        text=text,
        page_start=1,
        page_end=1,
        meta=DocumentMeta(title=f"Dokument {doc}", doc_type=doc_type, body="ANA", year=year),
        source=f"{doc}.txt",
        date=f"{year}-02-10",
    )


CHUNKS = [
    chunk("rjl", 0, "Nämnden beviljar 500 000 kronor till projektet ShareMusic."),
    chunk("rjl", 1, "Presidiet föreslår att nämnden fastställer dagordningen."),
    chunk("ars", 0, "Årsredovisningen visar ett överskott på 1 934 tkr.", year=2012, doc_type="arsredovisning"),
    chunk("ars", 1, "Navet science center hade många besökare.", year=2012, doc_type="arsredovisning"),
]


def test_gold_filters_map_to_store_and_assistant_filters() -> None:
    f = EvalFilters(doc_type="protokoll", year=2022, body="ANA", source="sub/rjl.txt")
    assert search_filter_for(f) == SearchFilter(
        doc_ids=("sub-rjl",), doc_types=("protokoll",), bodies=("ANA",), year_from=2022, year_to=2022
    )
    a = assistant_filters(f)
    assert a is not None and (a.document, a.doc_type, a.year_from, a.year_to, a.body) == (
        "sub-rjl",
        "protokoll",
        2022,
        2022,
        "ANA",
    )
    assert search_filter_for(None) is None and assistant_filters(None) is None


def test_years_named_skips_case_numbers_and_amounts() -> None:
    assert years_named("Budget 2023 och 2024, dnr RJL 2022/258, 2 021,5 kr") == {2023, 2024}
    assert years_named("sammanträde 2021-02-10") == {2021}


def test_plain_bm25_ranks_by_shared_words_and_honours_the_stores_filters() -> None:
    asked: list[EvalFilters] = []

    def allowed(filters: EvalFilters) -> list[str]:
        asked.append(filters)
        return ["ars:0", "ars:1"] if filters.year == 2012 else ["rjl:0"]

    bm25 = Bm25PlainConfig(CHUNKS, text=lambda c: c.text, allowed=allowed)
    assert bm25.search("överskott tkr", 3)[0].key == "ars:0"
    assert [p.key for p in bm25.search("nämnden", 5)] == ["rjl:1", "rjl:0"]  # the shorter passage first
    assert bm25.search("nämnden", 5, EvalFilters(year=2012)) == []
    assert [p.key for p in bm25.search("nämnden", 5, EvalFilters(year=2022))] == ["rjl:0"]
    bm25.search("nämnden", 5, EvalFilters(year=2022))
    assert asked == [EvalFilters(year=2012), EvalFilters(year=2022)]  # asked once per filter
    # no stemming: an inflected form does not meet its base form
    assert bm25.search("överskottet", 3) == []
    assert bm25.search("   ", 3) == []
    with pytest.raises(ConfigurationError):
        Bm25PlainConfig(CHUNKS).search("nämnden", 3, EvalFilters(year=2022))


class ShufflingStore:
    """Returns tied scores in a different order on every call, as the engine's fusion may."""

    def search(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        k: int,
        filt: SearchFilter | None = None,
        mode: str = "hybrid",
        prefetch: int = 50,
    ) -> list[ScoredChunk]:
        tied = [ScoredChunk(c, 0.5) for c in CHUNKS]
        random.shuffle(tied)
        return tied[:k]


class NoSparse:
    def encode_query(self, text: str) -> SparseVector:
        return SparseVector((), ())


def test_store_rankings_are_stable_across_identical_searches() -> None:
    config = StoreConfig("hybrid", ShufflingStore(), FakeEmbedder(), NoSparse())  # type: ignore[arg-type]
    first = [p.key for p in config.search("nämnden", 3)]
    for _ in range(10):
        assert [p.key for p in config.search("nämnden", 3)] == first
    assert first == ["ars:0", "ars:1", "rjl:0"]
