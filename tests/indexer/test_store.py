"""The store contract, run against both engines: qdrant-edge-py and qdrant-client (local mode)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from indexer.errors import CollectionMismatch
from indexer.schema import Chunk, DocumentMeta
from indexer.sparse import SparseVector, token_index
from indexer.store import ClientStore, EdgeStore, Manifest, SearchFilter, StoredPoint
from tests.conftest import FakeEmbedder

EMB = FakeEmbedder()
MANIFEST = Manifest(EMB.model_id, EMB.dimension)

TEXTS = [
    ("rjl", 0, "Nämnden beviljar 500 000 kronor till projektet ShareMusic.", ("RJL 2022/258", "2022/258"), "23", 2022),
    ("rjl", 1, "Presidiet föreslår att nämnden fastställer dagordningen.", (), "18", 2022),
    ("ars", 0, "Årsredovisningen visar ett överskott på 1 934 tkr för förbundet.", (), None, 2012),
    ("ars", 1, "Navet science center hade många besökare under året.", (), None, 2012),
    ("plan", 0, "Kontroll av leverantörsfakturor sker med stickprov två gånger per år.", (), None, 2023),
]


def sparse_of(text: str) -> SparseVector:
    tokens = sorted({token_index(w) for w in text.lower().replace(".", " ").split()})
    return SparseVector(tuple(tokens), tuple(1.0 for _ in tokens))


def chunk(doc: str, ordinal: int, text: str, cases: tuple[str, ...], para: str | None, year: int) -> Chunk:
    meta = DocumentMeta(title=f"Dokument {doc}", doc_type="protokoll" if doc == "rjl" else "arsredovisning", year=year)
    return Chunk(
        doc_id=doc,
        ordinal=ordinal,
        text=text,
        page_start=ordinal + 1,
        page_end=ordinal + 1,
        meta=meta,
        source=f"{doc}.txt",
        paragraph=para,
        case_numbers=cases,
        date=f"{year}-02-10",
        content_hash=f"hash-{doc}",
    )


def points(doc_chunks: dict[str, int] | None = None) -> list[StoredPoint]:
    chunks = [chunk(*t) for t in TEXTS]
    counts = doc_chunks or {d: sum(1 for c in chunks if c.doc_id == d) for d in {c.doc_id for c in chunks}}
    return [StoredPoint(c, EMB.embed_documents([c.text])[0], sparse_of(c.text), counts[c.doc_id]) for c in chunks]


@pytest.fixture(params=["edge", "client"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EdgeStore | ClientStore]:
    s: EdgeStore | ClientStore
    s = EdgeStore(tmp_path / "edge") if request.param == "edge" else ClientStore(QdrantClient(":memory:"), "t")
    s.open(MANIFEST)
    s.upsert(points())
    yield s
    s.close()


def test_dense_search_finds_the_passage_that_shares_words(store: EdgeStore | ClientStore) -> None:
    hits = store.search(dense=EMB.embed_query("överskott förbundet årsredovisningen"), sparse=None, k=2, mode="dense")
    assert hits[0].chunk.text.startswith("Årsredovisningen")


def test_sparse_and_hybrid_rank_exact_terms_first(store: EdgeStore | ClientStore) -> None:
    q = "leverantörsfakturor stickprov"
    sparse = store.search(dense=None, sparse=sparse_of(q), k=3, mode="sparse")
    assert sparse[0].chunk.doc_id == "plan"
    hybrid = store.search(dense=EMB.embed_query(q), sparse=sparse_of(q), k=3, mode="hybrid")
    assert hybrid[0].chunk.doc_id == "plan"
    assert hybrid[0].score >= hybrid[-1].score


def test_filters_restrict_results(store: EdgeStore | ClientStore) -> None:
    q = EMB.embed_query("nämnden")
    only_2012 = store.search(dense=q, sparse=None, k=10, mode="dense", filt=SearchFilter(year_from=2012, year_to=2012))
    assert {h.chunk.doc_id for h in only_2012} == {"ars"}
    by_case = store.scroll(SearchFilter(case_numbers=("2022/258",)))
    assert [c.paragraph for c in by_case] == ["23"]
    by_para = store.scroll(SearchFilter(doc_ids=("rjl",), paragraphs=("18",)))
    assert [c.ordinal for c in by_para] == [1]
    by_type = store.count(SearchFilter(doc_types=("arsredovisning",)))
    assert by_type == 3
    dated = store.scroll(SearchFilter(date_from="2022-01-01", date_to="2022-12-31"))
    assert {c.doc_id for c in dated} == {"rjl"}


def test_equal_scores_come_in_the_same_order_every_time(store: EdgeStore | ClientStore) -> None:
    text = "Kulturnämnden beviljar bidrag till sommarlovsaktiviteter."
    twins = [chunk(doc, 0, text, (), None, 2023) for doc in ("zeta", "alfa", "mitt")]
    store.upsert([StoredPoint(c, EMB.embed_documents([text])[0], sparse_of(text), 1) for c in twins])
    q = "bidrag sommarlovsaktiviteter"
    for mode in ("dense", "sparse"):
        hits = store.search(dense=EMB.embed_query(q), sparse=sparse_of(q), k=3, mode=mode)  # type: ignore[arg-type]
        assert len({h.score for h in hits}) == 1
        assert [h.chunk.chunk_id for h in hits] == ["alfa:0", "mitt:0", "zeta:0"]


def test_hybrid_search_gives_the_same_list_every_time_and_a_shorter_list_is_the_head_of_a_longer_one(
    store: EdgeStore | ClientStore,
) -> None:
    """Six passages alike in words tie on both sides of the fusion: each search must order and cut them alike."""
    text = "Kulturnämnden beviljar bidrag till sommarlovsaktiviteter."
    twins = [chunk(doc, 0, text, (), None, 2023) for doc in ("zeta", "alfa", "mitt", "beta", "ypsilon", "gamma")]
    store.upsert([StoredPoint(c, EMB.embed_documents([text])[0], sparse_of(text), 1) for c in twins])
    q = "bidrag sommarlovsaktiviteter"

    def search(k: int, prefetch: int) -> list[tuple[str, float]]:
        hits = store.search(dense=EMB.embed_query(q), sparse=sparse_of(q), k=k, prefetch=prefetch)
        return [(h.chunk.chunk_id, h.score) for h in hits]

    full = search(8, 8)
    assert {cid for cid, _ in full[:6]} == {f"{c.doc_id}:0" for c in twins}
    assert all(search(8, 8) == full for _ in range(5))
    for k in range(1, 8):
        assert search(k, 8) == full[:k]
    # a prefetch that cuts through the six tied passages keeps the same ones every time
    cut = search(3, 3)
    assert all(search(3, 3) == cut for _ in range(5))


def test_payload_round_trips_every_citation_field(store: EdgeStore | ClientStore) -> None:
    [c] = store.scroll(SearchFilter(case_numbers=("RJL 2022/258",)))
    assert c == chunk(*TEXTS[0])
    assert c.case_numbers == ("RJL 2022/258", "2022/258")
    assert (c.page_start, c.page_end, c.date, c.meta.title) == (1, 1, "2022-02-10", "Dokument rjl")


def test_document_states_and_delete(store: EdgeStore | ClientStore) -> None:
    states = store.documents()
    assert states["rjl"].complete and states["rjl"].content_hash == "hash-rjl"
    store.delete_document("rjl")
    assert "rjl" not in store.documents()
    assert store.count() == 3


def test_upsert_is_idempotent(store: EdgeStore | ClientStore) -> None:
    store.upsert(points())
    assert store.count() == len(TEXTS)


def test_half_written_document_is_incomplete(store: EdgeStore | ClientStore) -> None:
    store.delete_document("ars")
    store.upsert([p for p in points({"rjl": 2, "ars": 5, "plan": 1}) if p.chunk.doc_id == "ars"])
    assert not store.documents()["ars"].complete


def test_other_model_is_a_clear_error(store: EdgeStore | ClientStore) -> None:
    with pytest.raises(CollectionMismatch, match="re-index"):
        store.open(Manifest("another/model", 384))


def test_edge_store_persists_across_reopen(tmp_path: Path) -> None:
    s = EdgeStore(tmp_path / "edge")
    s.open(MANIFEST)
    s.upsert(points())
    s.close()
    again = EdgeStore(tmp_path / "edge")
    assert again.manifest() == MANIFEST
    again.open(MANIFEST)
    assert again.count() == len(TEXTS)
    again.close()


def test_warming_a_reopened_index_reads_every_file_and_searches_go_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = EdgeStore(tmp_path / "edge")
    s.open(MANIFEST)
    s.upsert(points())
    s.close()
    again = EdgeStore(tmp_path / "edge")
    again.open(MANIFEST)
    with caplog.at_level(logging.INFO, logger="indexer.store"):
        again.warm()
        hits = again.search(dense=EMB.embed_query("överskott förbundet"), sparse=None, k=1, mode="dense")
        for thread in threading.enumerate():
            if thread.name == "arkiv-warm":
                thread.join(timeout=30)
    assert hits[0].chunk.text.startswith("Årsredovisningen")
    files = [f for f in (tmp_path / "edge").rglob("*") if f.is_file()]
    [message] = [r.getMessage() for r in caplog.records if "page cache" in r.getMessage()]
    assert f"asked for {len(files)} files" in message and str(tmp_path / "edge") in message
    again.close()


def test_a_passage_under_a_heading_naming_years_is_found_by_those_years(store: EdgeStore | ClientStore) -> None:
    """A table's rows of figures name no year; the heading above them does ("… 2021 2020 2019")."""
    rows = chunk("verks", 0, "Sörängens folkhögskola 7 090 6 839 6 732", (), None, 2022)
    rows = replace(rows, section="Verksamhetsmått > Antal deltagarveckor 2021 2020 2019")
    store.upsert([StoredPoint(rows, EMB.embed_documents([rows.text])[0], sparse_of(rows.text), 1)])
    for year in (2019, 2021, 2022):
        assert store.count(SearchFilter(doc_ids=("verks",), year_from=year, year_to=year)) == 1
    assert store.count(SearchFilter(doc_ids=("verks",), year_from=2018, year_to=2018)) == 0
