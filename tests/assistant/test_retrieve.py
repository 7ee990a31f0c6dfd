"""Retrieval: Qdrant's fused hybrid, the learned reranker's order and score, answer units, exact lookups."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.query import parse_question
from assistant.rerank import FEATURES, RerankModel
from assistant.retrieve import Retriever
from assistant.types import Filters, Hit, search_filter
from indexer.catalog import Catalog
from indexer.pipeline import Indexer, IndexOptions
from indexer.sparse import SparseEncoder
from indexer.store import EdgeStore, Manifest, SearchFilter
from tests.conftest import FakeEmbedder

PROTOCOL = """ Protokoll Presidium - Nämnd för arbetsmarknad
Tid: 2022-02-10 kl. 09:00
§ 29
Stöttning besöksnäring 2022
Diarienummer: RJL 2022/258
Beslut
Presidiet beslutar att bevilja 500 000 kronor till Destination Småland för nationell marknadsföring.
Sammanfattning
Besöksnäringen har drabbats hårt, t.ex. av pandemin, och behöver stöd bl.a. för marknadsföring.
Beslutet skickas till regionstyrelsen och till Destination Småland för kännedom.
 Sidan 2
§ 30
Kurser och konferenser
Beslut
Informationen läggs till handlingarna. Ledamöterna deltar i Europaforum i Falkenberg i maj.
"""

REPORT = """# Verksamhetsberättelse 2023

## Navet science center

Navet hade 40 000 besökare under året och arbetade med skolor i hela regionen.

## Medarbetarcentrum

Medarbetarcentrum erbjöd samtalsstöd till anställda i medlemskommunerna under hela året.
"""

SECRET = """# Personalärende 2023

Den anställde i ärendet fick en varning för upprepade sena ankomster till Navet under året.
"""

EMB = FakeEmbedder()


@pytest.fixture(scope="module")
def sparse() -> SparseEncoder:
    return SparseEncoder()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, sparse: SparseEncoder) -> Iterator[EdgeStore]:
    root = tmp_path_factory.mktemp("retrieve")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "protokoll.txt").write_text(PROTOCOL, encoding="utf-8")
    (corpus / "protokoll.meta.yaml").write_text(
        "title: Protokoll presidiet 2022-02-10\ndoc_type: protokoll\ndate: 2022-02-10\n", encoding="utf-8"
    )
    (corpus / "rapport.md").write_text(REPORT, encoding="utf-8")
    (corpus / "personal.md").write_text(SECRET, encoding="utf-8")
    (corpus / "personal.meta.yaml").write_text("access_groups: [hr]\n", encoding="utf-8")
    s = EdgeStore(root / "store")
    s.open(Manifest(EMB.model_id, EMB.dimension))
    Indexer(
        store=s,
        embedder=EMB,
        sparse=sparse,
        catalog=Catalog(root / "catalog"),
        ocr=None,
        options=IndexOptions(chunk_tokens=64, chunk_overlap=8),
    ).run([corpus])
    yield s
    s.close()


def retriever(store: EdgeStore, sparse: SparseEncoder, **kw: object) -> Retriever:
    return Retriever(store, EMB, sparse, **kw)  # type: ignore[arg-type]


def test_hits_carry_their_units_with_the_answering_sentence_first(store: EdgeStore, sparse: SparseEncoder) -> None:
    q = "Till vilka skickas beslutet för kännedom?"
    hits = retriever(store, sparse).retrieve(q, Filters(), 5, parse_question(q))
    top = next(h for h in hits if "regionstyrelsen" in h.chunk.text)
    assert top.units, "a hit carries its answer units"
    for u in top.units:
        assert top.chunk.text[u.unit.start : u.unit.end] == u.unit.text
    assert top.units[0].unit.text.startswith("Beslutet skickas till regionstyrelsen")
    assert [u.rank for u in top.units] == list(range(1, len(top.units) + 1))
    assert top.dense is not None and top.sparse is not None and top.sparse > 0


def test_scores_are_probabilities_and_hits_are_in_score_order(store: EdgeStore, sparse: SparseEncoder) -> None:
    q = "Hur många besökare hade Navet?"
    hits = retriever(store, sparse).retrieve(q, Filters(), 5, parse_question(q))
    assert hits and "40 000 besökare" in hits[0].chunk.text
    scores = [h.score for h in hits]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)


def test_a_named_case_number_finds_its_chunks_first(store: EdgeStore, sparse: SparseEncoder) -> None:
    q = "Vad beslutades i ärende RJL 2022/258?"
    hits = retriever(store, sparse).retrieve(q, Filters(), 5, parse_question(q))
    assert hits[0].reason == "exact"
    assert "RJL 2022/258" in hits[0].chunk.case_numbers


def test_chunks_found_otherwise_than_by_search_carry_their_units_scored_alike(
    store: EdgeStore, sparse: SparseEncoder
) -> None:
    """Exact matches and the neighbours the service adds get the units search's own hits get, same scores."""
    r = retriever(store, sparse)
    q = "Till vilka skickas beslutet för kännedom?"
    top = next(h for h in r.retrieve(q, Filters(), 5, parse_question(q)) if "regionstyrelsen" in h.chunk.text)
    [again] = r.with_units(r.vectors(q), [Hit(top.chunk, 0.5, 9, "neighbour")], search_filter(Filters()))
    assert again.units and [(u.unit, u.dense, u.sparse, u.rank) for u in again.units] == [
        (u.unit, u.dense, u.sparse, u.rank) for u in top.units
    ]
    exact = r.retrieve("Vad beslutades i ärende RJL 2022/258?", Filters(), 5, parse_question("RJL 2022/258"))
    assert exact[0].reason == "exact" and exact[0].units
    secret = next(c for c in store.scroll(SearchFilter()) if "varning" in c.text)
    hidden = r.with_units(
        r.vectors(q), [Hit(secret, 0.5, 1, "neighbour")], search_filter(Filters(access_groups=("public",)))
    )
    assert hidden[0].units == ()


def test_access_groups_hide_chunks_and_their_units(store: EdgeStore, sparse: SparseEncoder) -> None:
    q = "Vem fick en varning för sena ankomster?"
    public = retriever(store, sparse).retrieve(q, Filters(access_groups=("public",)), 10, parse_question(q))
    assert all("varning" not in h.chunk.text for h in public)
    assert all(u.unit.doc_id != "personal" for h in public for u in h.units)
    hr = retriever(store, sparse).retrieve(q, Filters(access_groups=("hr",)), 10, parse_question(q))
    assert hr and "varning" in hr[0].chunk.text


def test_the_model_decides_the_order(store: EdgeStore, sparse: SparseEncoder) -> None:
    """A model that only likes tables and documents of type 'ovrigt' puts the report first for any question."""
    n = len(FEATURES)
    coef = [0.0] * n
    coef[FEATURES.index("type_ovrigt")] = 5.0
    model = RerankModel(FEATURES, (0.0,) * n, (1.0,) * n, tuple(coef), 0.0)
    q = "Presidiet beslutar att bevilja kronor till Destination Småland"
    hits = retriever(store, sparse, model=model).retrieve(q, Filters(), 3, parse_question(q))
    assert hits[0].chunk.meta.doc_type == "ovrigt"
    plain = retriever(store, sparse, model=model, use_model=False)
    plain.model = None
    fused = plain.retrieve(q, Filters(), 3, parse_question(q))
    assert fused[0].chunk.meta.doc_type == "protokoll"
