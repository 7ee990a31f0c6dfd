"""Evaluation caches (index keys, OCR pages) and the worker protocol that drives another checkout."""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from evaluation import dataset
from evaluation.harness import CachedOcr, _serve, index_dir, index_key


@dataclass
class Shaping:
    chunk_tokens: int = 256
    chunk_overlap: int = 32


def test_the_index_key_follows_the_code_the_inputs_and_the_settings(tmp_path: Path) -> None:
    code = tmp_path / "checkout"
    (code / "indexer").mkdir(parents=True)
    (code / "indexer" / "chunk.py").write_text("SIZE = 1\n")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Nämnden beslutade.\n")
    key = index_key(code, [corpus], Shaping())
    assert index_key(code, [corpus], Shaping()) == key
    (corpus / "a.txt").write_text("Nämnden beslutade annorlunda.\n")
    assert index_key(code, [corpus], Shaping()) != key
    changed_input = index_key(code, [corpus], Shaping())
    (code / "indexer" / "chunk.py").write_text("SIZE = 2\n")
    assert index_key(code, [corpus], Shaping()) != changed_input
    changed_code = index_key(code, [corpus], Shaping())
    assert index_key(code, [corpus], Shaping(chunk_tokens=128)) != changed_code
    # single files are keyed by name and bytes too
    assert index_key(code, [corpus / "a.txt"], Shaping()) != index_key(code, [corpus], Shaping(chunk_tokens=7))


def test_a_new_key_replaces_the_old_index_of_its_label_only(tmp_path: Path) -> None:
    old = index_dir(tmp_path, "current-corpus", "aaaa")
    other = index_dir(tmp_path, "current-corpus-extra", "bbbb")
    (old / "store").mkdir()
    new = index_dir(tmp_path, "current-corpus", "cccc")
    assert new.is_dir() and not old.exists() and other.is_dir()
    assert index_dir(tmp_path, "current-corpus", "cccc") == new


class CountingOcr:
    lang = "swe"
    dpi = 300

    def __init__(self) -> None:
        self.calls: list[int] = []
        self._lock = threading.Lock()

    def ocr_pdf_page(self, pdf_path: Path, page_number: int) -> str:
        with self._lock:
            self.calls.append(page_number)
        return f"Sidan {page_number} av {pdf_path.name}"


def test_ocr_pages_are_read_once_per_pdf_content_and_shared_with_the_gold_sets_cache(tmp_path: Path) -> None:
    pdf = tmp_path / "skannad.pdf"
    pdf.write_bytes(b"%PDF-1.4 first version")
    engine = CountingOcr()
    cached = CachedOcr(engine, tmp_path / "ocr")
    assert cached.ocr_pdf_page(pdf, 2) == "Sidan 2 av skannad.pdf"
    assert CachedOcr(CountingOcr(), tmp_path / "ocr").ocr_pdf_page(pdf, 2) == "Sidan 2 av skannad.pdf"
    assert engine.calls == [2] and cached.dpi == 300
    # the gold set's validation reads the same file without OCR
    assert dataset.CachedOcr(tmp_path / "ocr", None).ocr_pdf_page(pdf, 2) == "Sidan 2 av skannad.pdf"
    pdf.write_bytes(b"%PDF-1.4 second version")
    fresh = CachedOcr(engine, tmp_path / "ocr")
    fresh.ocr_pdf_page(pdf, 2)
    assert engine.calls == [2, 2]  # new bytes, new key


@dataclass(frozen=True)
class FakeChunk:
    chunk_id: str = "d:1"
    doc_id: str = "d"
    source: str = "d.txt"
    page_start: int = 3
    page_end: int = 3
    text: str = "Nämnden beviljar 500 000 kronor."
    paragraph: str | None = "29"
    section: str | None = "Protokoll > Stöd"


@dataclass(frozen=True)
class FakeHit:
    chunk: FakeChunk


@dataclass(frozen=True)
class FakeCitation:
    hit: FakeHit


@dataclass(frozen=True)
class FakeAnswer:
    status: str
    text: str
    citations: tuple[FakeCitation, ...]
    query: str


@dataclass(frozen=True)
class FakeFilters:
    year_from: int | None = None
    year_to: int | None = None


class FakeAssistant:
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def search(self, query: str, k: int, filters: Any) -> list[FakeHit]:
        self.seen.append(("search", query, k, filters))
        return [FakeHit(FakeChunk())]

    def ask(self, question: str, history: list[tuple[str, str]], filters: Any) -> FakeAnswer:
        self.seen.append(("ask", question, history, filters))
        if question == "krascha":
            raise RuntimeError("trasig")
        return FakeAnswer("answered", "500 000 kronor [1].", (FakeCitation(FakeHit(FakeChunk())),), question)


def test_the_worker_answers_one_json_line_per_request_and_reports_failures() -> None:
    assistant = FakeAssistant()
    requests = [
        json.dumps({"op": "search", "query": "stöd", "k": 5, "filters": {"year_from": 2022, "year_to": 2022}}),
        "",
        json.dumps({"op": "ask", "question": "Och sen?", "history": [["user", "stöd"], ["assistant", "svar"]]}),
        json.dumps({"op": "ask", "question": "krascha"}),
        json.dumps({"op": "dansa"}),
    ]
    out = io.StringIO()
    _serve(assistant, FakeFilters, requests, out)
    replies = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(replies) == 4
    assert (
        replies[0]["ok"]
        and replies[0]["passages"][0]["key"] == "d:1"
        and replies[0]["passages"][0]["paragraph"] == "29"
    )
    assert assistant.seen[0] == ("search", "stöd", 5, FakeFilters(2022, 2022))
    assert replies[1]["status"] == "answered" and replies[1]["citations"][0]["source"] == "d.txt"
    assert assistant.seen[1][2] == [("user", "stöd"), ("assistant", "svar")]
    assert replies[1]["ms"] >= 0
    assert not replies[2]["ok"] and "trasig" in replies[2]["error"]
    assert not replies[3]["ok"] and "dansa" in replies[3]["error"]


@pytest.mark.slow
def test_a_release_runs_from_its_worktree_in_a_worker(tmp_path: Path) -> None:
    """v0.1.0 checked out, indexing the fixture corpus with its own code, answering through the protocol."""
    from evaluation.dataset import EvalFilters
    from evaluation.systems import WorkerSystem, ensure_release
    from tests.conftest import FIXTURES

    cache = tmp_path / "cache"
    root = ensure_release("v0.1.0", cache)
    assert (root / "indexer" / "__init__.py").is_file() and ensure_release("v0.1.0", cache) == root
    worker = WorkerSystem("v0.1.0", root, "v0.1.0-fixtures", [FIXTURES / "corpus"], cache, tmp_path / "ocr")
    worker.wait_ready()
    try:
        assert worker.chunks > 0
        found = worker.search("Hur stora var medlemsbidragen till förbundet?", 5, None)
        assert found.passages and found.ms > 0
        assert any("medlemsbidrag" in p.text.lower() for p in found.passages)
        filtered = worker.search("medlemsbidrag", 5, EvalFilters(year=2023))
        assert all(p.source != "arsredovisning_2012.txt" for p in filtered.passages)
        asked = worker.ask("Hur stora var medlemsbidragen till förbundet?", [], None)
        assert asked.status in ("answered", "not_found") and asked.ms > 0
    finally:
        worker.close()
    assert list((cache / "index").glob("v0.1.0-fixtures-*"))


def test_a_release_without_its_tag_is_found_by_its_pinned_commit(tmp_path: Path) -> None:
    """A clone made without tags still evaluates v0.1.0; an unknown tag is a clear error."""
    import subprocess

    from evaluation.errors import EvaluationError
    from evaluation.systems import RELEASES, REPO, ensure_release

    if subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", RELEASES["v0.1.0"]], check=False).returncode:
        pytest.skip("a shallow clone without the release's commit")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-tags", str(REPO), str(clone)], check=True)
    root = ensure_release("v0.1.0", tmp_path / "cache", repo=clone)
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    assert head.stdout.strip() == RELEASES["v0.1.0"]
    with pytest.raises(EvaluationError, match="v9.9.9"):
        ensure_release("v9.9.9", tmp_path / "cache", repo=clone)


def test_pages_are_read_once_per_file_content_and_loader_code(tmp_path: Path) -> None:
    from evaluation.harness import PageCache

    code = tmp_path / "checkout"
    (code / "indexer").mkdir(parents=True)
    (code / "indexer" / "load.py").write_text("VERSION = 1\n")
    (code / "indexer" / "chunk.py").write_text("SIZE = 1\n")
    doc = tmp_path / "protokoll.pdf"
    doc.write_bytes(b"%PDF first")
    calls: list[tuple[str, float, bool]] = []

    def load_pages(path: Path, *, ocr: Any, min_quality: float, ocr_workers: int | None = None) -> tuple[str, ...]:
        calls.append((path.name, min_quality, ocr is not None))
        return (f"sida 1 av {path.read_bytes().decode()}",)

    cached = PageCache(load_pages, code, tmp_path / "cache")
    assert cached(doc, ocr=None, min_quality=0.8) == ("sida 1 av %PDF first",)
    assert cached(doc, ocr=None, min_quality=0.8, ocr_workers=2) == ("sida 1 av %PDF first",)
    assert len(calls) == 1 and (cached.hits, cached.misses) == (1, 1)
    cached(doc, ocr=object(), min_quality=0.8)
    cached(doc, ocr=None, min_quality=0.5)
    assert len(calls) == 3  # OCR on and another quality floor are other readings
    (code / "indexer" / "chunk.py").write_text("SIZE = 2\n")  # not the loader: pages still hold
    PageCache(load_pages, code, tmp_path / "cache")(doc, ocr=None, min_quality=0.8)
    assert len(calls) == 3
    (code / "indexer" / "load.py").write_text("VERSION = 2\n")
    PageCache(load_pages, code, tmp_path / "cache")(doc, ocr=None, min_quality=0.8)
    doc.write_bytes(b"%PDF second")
    assert PageCache(load_pages, code, tmp_path / "cache")(doc, ocr=None, min_quality=0.8) == ("sida 1 av %PDF second",)
    assert len(calls) == 5


def test_the_word_cache_seeds_new_indexes_and_keeps_the_largest(tmp_path: Path) -> None:
    from evaluation.harness import _share_words

    @dataclass
    class Settings:
        data_dir: Path
        cache_dir: Path

    first = Settings(tmp_path / "a", tmp_path / "a" / "cache")
    _share_words(first, tmp_path, seed=True)  # nothing shared yet
    assert not (first.cache_dir / "compounds.json").exists()
    first.cache_dir.mkdir(parents=True)
    (first.cache_dir / "compounds.json").write_text('{"splits": {"kommunfullmäktige": 1}}')
    _share_words(first, tmp_path, seed=False)
    second = Settings(tmp_path / "b", tmp_path / "b" / "cache")
    _share_words(second, tmp_path, seed=True)
    assert (second.cache_dir / "compounds.json").read_text() == '{"splits": {"kommunfullmäktige": 1}}'
    (second.cache_dir / "compounds.json").write_text("{}")  # a smaller cache does not replace the shared one
    _share_words(second, tmp_path, seed=False)
    assert (tmp_path / "words" / "compounds.json").read_text() == '{"splits": {"kommunfullmäktige": 1}}'
