"""`arkiv migrate`: the embedded index copied into a Qdrant server collection (qdrant-client's local mode stands in
for the server), vectors and payload intact, and a copy that does not match its source is caught."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from qdrant_client import QdrantClient

from indexer.errors import CollectionMismatch
from indexer.migrate import MigrationError, migrate
from indexer.store import ClientStore, EdgeStore, Manifest, RawPoint
from tests.conftest import FIXTURES, FakeEmbedder
from tests.indexer.test_store import MANIFEST, TEXTS, chunk
from tests.indexer.test_store_units import OTHER, TWO_SENTENCES, stored

EMB = FakeEmbedder()
ROWS = [TWO_SENTENCES, TEXTS[1], OTHER, TEXTS[3], TEXTS[4]]
"""Five chunks, two of them of two sentences: seven units."""


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[EdgeStore]:
    s = EdgeStore(tmp_path / "edge")
    s.open(MANIFEST)
    s.upsert([stored(chunk(*t), groups=("public",) if i % 2 else ("ekonomi",)) for i, t in enumerate(ROWS)])
    yield s
    s.close()


def _everything(store: EdgeStore | ClientStore) -> dict[str, RawPoint]:
    return {p.id: p for batch in store.export(batch=3) for p in batch}


def test_every_point_is_copied_with_its_vectors_and_payload(edge: EdgeStore) -> None:
    dest = ClientStore(QdrantClient(":memory:"), "arkiv")
    report = migrate(edge, dest, sample=10, batch=4)
    assert report.verified, report.mismatches
    assert (report.chunks, report.units) == (len(ROWS), 7)
    assert dest.manifest() == MANIFEST
    source, copy = _everything(edge), _everything(dest)
    assert source.keys() == copy.keys()
    for pid, p in source.items():
        assert copy[pid].payload == p.payload
        assert copy[pid].sparse == p.sparse
        assert copy[pid].dense == pytest.approx(p.dense, abs=1e-6)


def test_the_copy_answers_searches_and_keeps_access_filters(edge: EdgeStore) -> None:
    from indexer.store import SearchFilter

    dest = ClientStore(QdrantClient(":memory:"), "arkiv")
    migrate(edge, dest, sample=0)
    public = SearchFilter(access_groups=("public",))
    for question in ("överskott förbundet", "beviljar kronor projektet", "kontroll leverantörsfakturor stickprov"):
        q = EMB.embed_query(question)
        for filt in (None, public):
            want, got = (
                [(h.chunk.chunk_id, round(h.score, 4)) for h in s.search(dense=q, sparse=None, k=5, filt=filt)]
                for s in (edge, dest)
            )
            assert sorted(got) == sorted(want)  # k covers every chunk: the same points, scores, order up to ties
            assert [x[1] for x in got] == [x[1] for x in want]
            if filt is public:
                assert all(cid.startswith(("ars:", "rjl:1")) for cid, _ in got), got


def test_a_destination_that_holds_something_is_refused(edge: EdgeStore) -> None:
    dest = ClientStore(QdrantClient(":memory:"), "arkiv")
    migrate(edge, dest, sample=0)
    with pytest.raises(MigrationError, match="not empty"):
        migrate(edge, dest)
    other = ClientStore(QdrantClient(":memory:"), "arkiv")
    other.open(Manifest("another/model", 8))
    with pytest.raises(CollectionMismatch):
        migrate(edge, other)


class LossyStore(ClientStore):
    """A destination that silently drops the last point of every batch it is given."""

    def put(self, points: Sequence[RawPoint]) -> None:
        super().put(points[:-1])


def test_a_copy_that_lost_points_is_reported(edge: EdgeStore) -> None:
    report = migrate(edge, LossyStore(QdrantClient(":memory:"), "arkiv"), sample=len(ROWS), batch=4)
    assert not report.verified
    assert any(m.startswith(("chunks:", "units:")) for m in report.mismatches)


def test_arkiv_migrate_copies_the_index_the_service_answers_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import indexer.embed
    from assistant.service import build_assistant
    from assistant.settings import AssistantSettings
    from indexer.cli import build_indexer, main

    monkeypatch.setattr(indexer.embed, "make_embedder", lambda settings: FakeEmbedder())
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("internkontrollplan_2023.txt", "internkontrollplan_2023.meta.yaml"):
        shutil.copy(FIXTURES / "corpus" / name, corpus / name)
    data, server = tmp_path / "data", tmp_path / "server"
    for key, value in {"ARKIV_DATA_DIR": data, "ARKIV_CORPUS_DIR": corpus, "ARKIV_OCR": "false"}.items():
        monkeypatch.setenv(key, str(value))
    assert CliRunner().invoke(main, ["index", str(corpus)]).exit_code == 0

    result = CliRunner().invoke(main, ["migrate", "--to", str(server)])
    assert result.exit_code == 0, result.output
    assert "stämmer" in result.output and "Traceback" not in result.output
    again = CliRunner().invoke(main, ["migrate", "--to", str(server)])
    assert again.exit_code == 1 and "--replace" in again.output
    assert CliRunner().invoke(main, ["migrate", "--to", str(server), "--replace"]).exit_code == 0

    settings = AssistantSettings(data_dir=data, corpus_dir=corpus, ocr=False, _env_file=None)  # type: ignore[call-arg]
    question = "Hur ofta kontrolleras leverantörsfakturor?"
    answers: list[Any] = []
    local = build_indexer(settings)
    try:
        answers.append(build_assistant(settings, store=local.store, embedder=local.embedder).ask(question))
    finally:
        local.store.close()
    copy = ClientStore(QdrantClient(path=str(server)), settings.collection)
    try:
        answers.append(build_assistant(settings, store=copy, embedder=FakeEmbedder()).ask(question))
    finally:
        copy.close()
    assert answers[0].text == answers[1].text
    assert answers[0].status == "answered" and answers[0].citations
    assert [c.quotes for c in answers[0].citations] == [c.quotes for c in answers[1].citations]


def test_several_server_processes_without_a_qdrant_server_are_refused_with_the_way_there(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from indexer.cli import main

    monkeypatch.delenv("ARKIV_QDRANT_URL", raising=False)
    monkeypatch.setenv("ARKIV_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["serve", "--processes", "2", "--no-index"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "ARKIV_QDRANT_URL" in result.output and "arkiv migrate" in result.output


def test_a_server_collection_laid_out_for_size_holds_the_same_index(edge: EdgeStore) -> None:
    from indexer.store import ServerLayout

    client = QdrantClient(":memory:")
    dest = ClientStore(client, "arkiv", ServerLayout(shards=2, replicas=2, on_disk=True, quantization=True))
    report = migrate(edge, dest, sample=len(ROWS))
    assert report.verified, report.mismatches
    vectors = client.get_collection("arkiv").config.params.vectors
    assert vectors["dense"].on_disk is True
    assert vectors["dense"].quantization_config is not None  # the graph's vectors get int8 copies in RAM
    unit = vectors["unit_dense"]
    assert unit.quantization_config is None and unit.on_disk is True and unit.hnsw_config.m == 0
