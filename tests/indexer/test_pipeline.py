"""Indexing runs: what gets embedded, what is skipped and why, incremental runs, and a run killed midway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer import pipeline
from indexer.catalog import Catalog
from indexer.pipeline import Indexer, IndexOptions
from indexer.sparse import SparseEncoder
from indexer.store import EdgeStore, Manifest, SearchFilter
from tests.conftest import ROOT, FakeEmbedder

PROTOCOL = """ Protokoll Presidium - Nämnd för arbetsmarknad
Tid: 2022-02-10 kl. 09:00
§ 29
Stöttning besöksnäring 2022
Diarienummer: RJL 2022/258
Beslut
Presidiet beslutar att bevilja 500 000 kronor till Destination Småland för nationell marknadsföring.
Sammanfattning
Besöksnäringen har drabbats hårt, t.ex. av pandemin, och behöver stöd bl.a. för marknadsföring.
 Sidan 2
§ 30
Kurser och konferenser
Beslut
Informationen läggs till handlingarna.
"""

REPORT = """# Verksamhetsberättelse 2023

## Navet science center

Navet hade 40 000 besökare under året och arbetade med skolor i hela regionen.

## Medarbetarcentrum

Medarbetarcentrum erbjöd samtalsstöd till anställda i medlemskommunerna.
"""


class CountingEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        self.embedded = 0

    def embed_documents(self, texts):  # type: ignore[no-untyped-def]
        self.embedded += len(texts)
        return super().embed_documents(texts)


@pytest.fixture(scope="module")
def sparse() -> SparseEncoder:
    return SparseEncoder()


def make_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "protokoll.txt").write_text(PROTOCOL, encoding="utf-8")
    (corpus / "protokoll.meta.yaml").write_text(
        "title: Protokoll presidiet 2022-02-10\ndoc_type: protokoll\ndate: 2022-02-10\n", encoding="utf-8"
    )
    (corpus / "rapport.md").write_text(REPORT, encoding="utf-8")
    (corpus / "trasig.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (corpus / "tom.txt").write_bytes(b"")
    (corpus / "bild.png").write_bytes(b"\x89PNG\r\n")
    (corpus / "README.md").write_text("Provenance, not a document.", encoding="utf-8")
    return corpus


def make_indexer(data: Path, embedder: FakeEmbedder, sparse: SparseEncoder) -> Indexer:
    store = EdgeStore(data / "store")
    store.open(Manifest(embedder.model_id, embedder.dimension))
    return Indexer(
        store=store,
        embedder=embedder,
        sparse=sparse,
        catalog=Catalog(data / "catalog"),
        ocr=None,
        options=IndexOptions(chunk_tokens=64, chunk_overlap=8),
    )


def test_bad_files_are_reported_and_never_stop_the_run(tmp_path: Path, sparse: SparseEncoder) -> None:
    corpus = make_corpus(tmp_path)
    indexer = make_indexer(tmp_path / "data", CountingEmbedder(), sparse)
    report = indexer.run([corpus])
    indexer.store.close()
    assert report.indexed == 2
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == {"trasig.pdf", "tom.txt", "bild.png"}
    assert all(reasons.values())
    assert "README.md" not in reasons
    assert report.pages_text >= 3 and report.chunks > 0


def test_protocol_chunks_carry_paragraph_case_number_and_date(tmp_path: Path, sparse: SparseEncoder) -> None:
    corpus = make_corpus(tmp_path)
    indexer = make_indexer(tmp_path / "data", CountingEmbedder(), sparse)
    indexer.run([corpus])
    [decision] = [c for c in indexer.store.scroll(SearchFilter(case_numbers=("2022/258",))) if "500 000" in c.text]
    indexer.store.close()
    assert decision.paragraph == "29"
    assert "RJL 2022/258" in decision.case_numbers
    assert decision.date == "2022-02-10"
    assert decision.meta.title == "Protokoll presidiet 2022-02-10"
    assert decision.page_start == 1


def test_unchanged_corpus_embeds_nothing_changed_and_removed_files_follow(
    tmp_path: Path, sparse: SparseEncoder
) -> None:
    corpus = make_corpus(tmp_path)
    data = tmp_path / "data"
    first = CountingEmbedder()
    indexer = make_indexer(data, first, sparse)
    before = indexer.run([corpus])
    indexer.store.close()
    assert first.embedded > 0

    again = CountingEmbedder()
    indexer = make_indexer(data, again, sparse)
    report = indexer.run([corpus])
    assert again.embedded == 0 and report.unchanged == 2 and report.chunks == before.chunks

    (corpus / "rapport.md").write_text(REPORT + "\n## Ny rubrik\n\nEtt nytt stycke om budgeten.\n", encoding="utf-8")
    (corpus / "protokoll.txt").unlink()
    report = indexer.run([corpus])
    assert report.indexed == 1 and report.removed == 1
    assert 0 < again.embedded < first.embedded
    assert indexer.store.count(SearchFilter(doc_ids=("protokoll",))) == 0
    assert any("budgeten" in c.text for c in indexer.store.scroll(SearchFilter(doc_ids=("rapport",))))
    assert Catalog(data / "catalog").get("protokoll") is None
    indexer.store.close()


KILLABLE = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from tests.conftest import FakeEmbedder
    from tests.indexer.test_pipeline import make_indexer
    from indexer.sparse import SparseEncoder

    class Slow(FakeEmbedder):
        def embed_documents(self, texts):
            time.sleep(0.3)
            print("embedded", flush=True)
            return super().embed_documents(texts)

    indexer = make_indexer(Path({data!r}), Slow(), SparseEncoder())
    indexer.run([Path({corpus!r})])
    print("finished", flush=True)
    """
)


def test_run_killed_midway_is_rerun_to_a_complete_index_without_duplicates(
    tmp_path: Path, sparse: SparseEncoder
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(6):
        body = "\n".join(f"Stycke {j} i dokument {i} handlar om budget, skola och vård." for j in range(30))
        (corpus / f"dok{i}.txt").write_text(body, encoding="utf-8")
    data = tmp_path / "data"
    script = tmp_path / "run.py"
    script.write_text(KILLABLE.format(root=str(ROOT), data=str(data), corpus=str(corpus)), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True
    )
    assert proc.stdout is not None
    seen = 0
    deadline = time.monotonic() + 120
    while seen < 4 and time.monotonic() < deadline:
        if proc.stdout.readline().startswith("embedded"):
            seen += 1
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert seen == 4, "the indexing run did not get going"

    indexer = make_indexer(data, CountingEmbedder(), sparse)
    report = indexer.run([corpus])
    chunks = indexer.store.scroll()
    states = indexer.store.documents()
    indexer.store.close()
    assert report.documents == 6 and not report.skipped
    assert len({c.chunk_id for c in chunks}) == len(chunks) == report.chunks
    assert set(states) == {f"dok{i}" for i in range(6)} and all(s.complete for s in states.values())


def test_cli_index_prints_a_report_and_strict_fails_on_skips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from indexer import cli

    corpus = make_corpus(tmp_path)
    monkeypatch.setenv("ARKIV_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr("indexer.embed.make_embedder", lambda settings: FakeEmbedder())
    result = CliRunner().invoke(cli.main, ["index", str(corpus)])
    assert result.exit_code == 0, result.output
    assert "Indexering klar" in result.output and "trasig.pdf" in result.output
    strict = CliRunner().invoke(cli.main, ["index", "--strict", str(corpus)])
    assert strict.exit_code != 0 and "skipped" in strict.output


def test_a_change_to_the_code_that_reads_documents_indexes_them_again(
    tmp_path: Path, sparse: SparseEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = make_corpus(tmp_path)
    data = tmp_path / "data"
    indexer = make_indexer(data, CountingEmbedder(), sparse)
    indexer.run([corpus])
    indexer.store.close()

    monkeypatch.setattr(pipeline, "READING_DIGEST", "another sentence splitter")
    again = CountingEmbedder()
    indexer = make_indexer(data, again, sparse)
    report = indexer.run([corpus])
    indexer.store.close()
    assert report.indexed == 2 and report.unchanged == 0 and again.embedded > 0
