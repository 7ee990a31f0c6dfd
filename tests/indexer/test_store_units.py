"""Answer units in the store: stored beside their chunks, filtered alike, scored from their stored vectors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from indexer.errors import CollectionMismatch
from indexer.schema import Chunk
from indexer.store import ClientStore, EdgeStore, SearchFilter, StoredPoint, StoredUnit
from indexer.units import split_units
from tests.conftest import FakeEmbedder
from tests.indexer.test_store import MANIFEST, chunk, sparse_of

EMB = FakeEmbedder()

TWO_SENTENCES = (
    "rjl",
    0,
    "Nämnden beviljar 500 000 kronor till projektet ShareMusic. Beslutet skickas till regionstyrelsen för kännedom.",
    ("RJL 2022/258", "2022/258"),
    "23",
    2022,
)
OTHER = (
    "ars",
    0,
    "Årsredovisningen visar ett överskott på 1 934 tkr. Navet science center hade många besökare.",
    (),
    None,
    2012,
)


def stored(c: Chunk, groups: tuple[str, ...] = ("public",)) -> StoredPoint:
    c = replace(c, meta=replace(c.meta, access_groups=groups))
    units = tuple(StoredUnit(u, EMB.embed_documents([u.text])[0], sparse_of(u.text)) for u in split_units(c))
    return StoredPoint(c, EMB.embed_documents([c.text])[0], sparse_of(c.text), 1, units=units)


@pytest.fixture(params=["edge", "client"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EdgeStore | ClientStore]:
    s: EdgeStore | ClientStore
    s = EdgeStore(tmp_path / "edge") if request.param == "edge" else ClientStore(QdrantClient(":memory:"), "t")
    s.open(MANIFEST)
    s.upsert([stored(chunk(*TWO_SENTENCES)), stored(chunk(*OTHER), groups=("ekonomi",))])
    yield s
    s.close()


def test_units_do_not_count_as_chunks(store: EdgeStore | ClientStore) -> None:
    assert store.count() == 2
    assert len(store.scroll()) == 2
    assert {d: s.chunks for d, s in store.documents().items()} == {"rjl": 1, "ars": 1}
    hits = store.search(dense=EMB.embed_query("beviljar kronor"), sparse=sparse_of("beviljar kronor"), k=10)
    assert sorted(h.chunk.chunk_id for h in hits) == ["ars:0", "rjl:0"]


def test_the_unit_that_answers_scores_highest_on_both_sides(store: EdgeStore | ClientStore) -> None:
    q = "vem skickas beslutet till regionstyrelsen"
    scores = store.score(dense=EMB.embed_query(q), sparse=sparse_of(q), chunk_ids=["rjl:0"], level="unit")
    assert [s.unit.ordinal for s in scores if s.unit] == [0, 1]
    best_dense = max(scores, key=lambda s: s.dense)
    best_sparse = max(scores, key=lambda s: s.sparse)
    assert best_dense.unit is not None and best_dense.unit.text.startswith("Beslutet skickas")
    assert best_sparse.unit is not None and best_sparse.unit.text.startswith("Beslutet skickas")
    assert scores[0].sparse < scores[1].sparse and scores[0].dense < scores[1].dense
    assert best_dense.unit.text == "Beslutet skickas till regionstyrelsen för kännedom."
    assert best_dense.unit.case_numbers == ("RJL 2022/258", "2022/258")


def test_chunk_scores_are_the_raw_scores_of_the_given_chunks(store: EdgeStore | ClientStore) -> None:
    q = "överskott tkr"
    scores = store.score(dense=EMB.embed_query(q), sparse=sparse_of(q), chunk_ids=["ars:0", "rjl:0"])
    by_id = {s.chunk_id: s for s in scores}
    assert set(by_id) == {"ars:0", "rjl:0"}
    assert by_id["ars:0"].sparse > 0 and by_id["rjl:0"].sparse == 0.0
    assert by_id["ars:0"].dense > by_id["rjl:0"].dense


def test_a_unit_is_hidden_from_whoever_cannot_see_its_chunk(store: EdgeStore | ClientStore) -> None:
    q = "överskott navet besökare"
    public = SearchFilter(access_groups=("public",))
    assert (
        store.score(dense=EMB.embed_query(q), sparse=sparse_of(q), chunk_ids=["ars:0"], level="unit", filt=public) == []
    )
    eco = SearchFilter(access_groups=("ekonomi",))
    assert (
        len(store.score(dense=EMB.embed_query(q), sparse=sparse_of(q), chunk_ids=["ars:0"], level="unit", filt=eco))
        == 2
    )


def test_units_read_by_key_are_the_scored_ones_and_hidden_alike(store: EdgeStore | ClientStore) -> None:
    q = "överskott navet besökare"
    dense, sparse = EMB.embed_query(q), sparse_of(q)
    whole = store.score(dense=dense, sparse=sparse, chunk_ids=["ars:0", "rjl:0"], level="unit")
    bare = store.score(dense=dense, sparse=sparse, chunk_ids=["ars:0", "rjl:0"], level="unit", with_units=False)
    assert [(s.chunk_id, s.ordinal, s.dense, s.sparse) for s in bare] == [
        (s.chunk_id, s.unit.ordinal if s.unit else None, s.dense, s.sparse) for s in whole
    ]
    assert all(s.unit is None for s in bare)
    read = store.units([(s.chunk_id, s.ordinal or 0) for s in bare])
    assert read == {(s.chunk_id, s.unit.ordinal): s.unit for s in whole if s.unit}
    assert store.units([("ars:0", 0), ("ars:0", 1)], SearchFilter(access_groups=("public",))) == {}
    assert store.units([("ars:0", 7)]) == {}


def test_deleting_a_document_deletes_its_units(store: EdgeStore | ClientStore) -> None:
    store.delete_document("rjl")
    q = "beslutet skickas"
    assert store.score(dense=EMB.embed_query(q), sparse=sparse_of(q), chunk_ids=["rjl:0"], level="unit") == []
    assert store.count() == 1


def test_indexing_stores_every_chunks_units_with_their_own_vectors(tmp_path: Path) -> None:
    from indexer.sparse import SparseEncoder
    from tests.indexer.test_pipeline import make_corpus, make_indexer

    emb = FakeEmbedder()
    idx = make_indexer(tmp_path / "data", emb, SparseEncoder())
    report = idx.run([make_corpus(tmp_path)])
    assert report.units >= report.chunks > 0
    assert 0 < report.units_embedded <= report.units
    chunks = idx.store.scroll()
    q = "Presidiet beslutar"
    scores = idx.store.score(
        dense=emb.embed_query(q),
        sparse=idx.sparse.encode_query(q),
        chunk_ids=[c.chunk_id for c in chunks],
        level="unit",
    )
    by_chunk: dict[str, list[str]] = {}
    for s in scores:
        assert s.unit is not None
        by_chunk.setdefault(s.unit.chunk_id, []).append(s.unit.text)
    for c in chunks:
        assert by_chunk[c.chunk_id] == [u.text for u in split_units(c)]
        for u in split_units(c):
            assert u.text in c.text


def test_chunk_scores_carry_the_stored_sparse_terms(store: EdgeStore | ClientStore) -> None:
    q = "överskott tkr"
    scores = store.score(dense=EMB.embed_query(q), sparse=sparse_of(q), chunk_ids=["ars:0"])
    assert scores[0].terms == frozenset(sparse_of(OTHER[2]).indices)


def test_unit_scores_survive_reopening_the_embedded_engine(tmp_path: Path) -> None:
    q = "Vem skickas beslutet till?"
    s = EdgeStore(tmp_path / "edge")
    s.open(MANIFEST)
    s.upsert([stored(chunk(*TWO_SENTENCES))])
    before = s.score(dense=EMB.embed_query(q), sparse=sparse_of(q), chunk_ids=["rjl:0"], level="unit")
    s.close()
    s = EdgeStore(tmp_path / "edge")
    s.open(MANIFEST)
    after = s.score(dense=EMB.embed_query(q), sparse=sparse_of(q), chunk_ids=["rjl:0"], level="unit")
    s.close()
    assert [(p.unit, p.dense, p.sparse) for p in after] == [(p.unit, p.dense, p.sparse) for p in before]
    assert max(after, key=lambda p: p.dense).unit.text.startswith("Beslutet skickas")  # type: ignore[union-attr]


def test_an_index_of_the_previous_schema_asks_for_a_rebuild(tmp_path: Path) -> None:
    old = EdgeStore(tmp_path / "edge")
    old.open(replace(MANIFEST, schema_version=MANIFEST.schema_version - 1))
    old.close()
    with pytest.raises(CollectionMismatch, match="arkiv index --rebuild"):
        EdgeStore(tmp_path / "edge").open(MANIFEST)


def test_a_scored_unit_is_the_unit_that_was_stored(store: EdgeStore | ClientStore) -> None:
    """A unit's score reads only some payload fields (`UNIT_FIELDS`); the unit rebuilt from them is whole."""
    q = "beslutet"
    scores = store.score(dense=EMB.embed_query(q), sparse=sparse_of(q), chunk_ids=["rjl:0"], level="unit")
    assert [s.unit for s in scores] == list(split_units(chunk(*TWO_SENTENCES)))


def test_each_unit_is_stored_with_the_vector_of_its_own_text(tmp_path: Path) -> None:
    """Units are embedded a batch at a time, shortest first: each must still get its own text's vector back.

    A unit that is its whole chunk, or a table row, shares the chunk's dense vector instead."""
    from indexer.sparse import SparseEncoder
    from tests.indexer.test_pipeline import make_corpus, make_indexer

    emb = FakeEmbedder()
    idx = make_indexer(tmp_path / "data", emb, SparseEncoder())
    idx.run([make_corpus(tmp_path)])
    chunks = idx.store.scroll()
    q = "Presidiet beslutar att bevilja marknadsföring besökare"
    query = emb.embed_query(q)
    scores = idx.store.score(
        dense=query, sparse=idx.sparse.encode_query(q), chunk_ids=[c.chunk_id for c in chunks], level="unit"
    )
    text_of = {c.chunk_id: c.text for c in chunks}
    embedded_alone = 0
    for s in scores:
        assert s.unit is not None
        whole = s.unit.start == 0 and s.unit.end == len(text_of[s.unit.chunk_id])
        shares_chunk = whole or s.unit.kind == "table_row"
        [chunk] = [c for c in chunks if c.chunk_id == s.unit.chunk_id]
        vector = emb.embed_documents([chunk.embed_text if shares_chunk else " ".join(s.unit.text.split())])[0]
        assert s.dense == pytest.approx(sum(a * b for a, b in zip(query, vector, strict=True)), abs=1e-5)
        embedded_alone += not shares_chunk
    assert embedded_alone > 1
