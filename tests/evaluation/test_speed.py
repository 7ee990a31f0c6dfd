"""`arkiv bench speed` end to end on the fixture corpus, and OCR of a document's pages on every core.

Nothing here is timed: the figures depend on the machine; these tests check that every phase runs and reports.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.load import load_pages
from indexer.ocr import TesseractOcr
from tests.indexer import pdf_fixtures as fx

FIXTURE_CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"

CONTRACT_KEYS = (
    "pages_per_s.arkiv",
    "pages_per_s.arkiv_chunks_only",
    "pages_per_s.llamaindex",
    "search_p50_ms_100k",
    "ask_p50_ms_100k",
    "reopen_s_100k",
    "peak_rss_mb_100k",
)


def _get(data: dict, path: str) -> object:
    value: object = data
    for key in path.split("."):
        assert isinstance(value, dict), path
        value = value.get(key)
    return value


@pytest.fixture(scope="module")
def speed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    from evaluation.cli import bench

    out = tmp_path_factory.mktemp("speed") / "speed.json"
    result = CliRunner().invoke(
        bench,
        ["speed", "--corpus", str(FIXTURE_CORPUS), "--synthetic", "2000", "--repeat", "1", "--json", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8")), result.output


def test_speed_writes_the_contract_keys(speed_run: tuple[dict, str]) -> None:
    data, _ = speed_run
    for key in CONTRACT_KEYS:
        value = _get(data, key)
        assert isinstance(value, float) and value > 0, (key, value)
    assert data["pdfs_index_s"] if "pdfs" in data else "pdfs_index_s" not in data


def test_synthetic_archive_has_the_asked_size_and_corpus_counts_agree(speed_run: tuple[dict, str]) -> None:
    data, _ = speed_run
    ix = data["indexing"]
    assert data["synthetic_build"]["chunks"] == 2000
    # The store the latency was measured on holds every synthetic chunk, and their units beside them.
    assert data["synthetic_latency"]["chunks"] == 2000 < data["synthetic_build"]["points"]
    # Both Arkiv runs read the same pages and chunk alike; only the units' vectors differ.
    assert ix["arkiv"]["pages"] == ix["arkiv_chunks_only"]["pages"] == ix["llamaindex"]["pages"] > 0
    assert ix["arkiv"]["chunks"] == ix["arkiv_chunks_only"]["chunks"] > 0
    assert ix["arkiv"]["units_embedded"] > 0 and ix["arkiv_chunks_only"]["units_embedded"] == 0
    assert ix["llamaindex"]["chunks"] > 0
    e = data["embedder"]
    assert e["embed_tokens_per_s"] > 0 and e["limit_tokens_per_s"] > 0


def test_speed_prints_the_table(speed_run: tuple[dict, str]) -> None:
    _, output = speed_run
    assert "llama-index" in output and "syntetiskt, 2000 textstycken" in output


def test_limit_pages_cuts_the_corpus(tmp_path: Path) -> None:
    from evaluation.speed import limited_corpus
    from indexer.load import split_text_pages
    from indexer.pipeline import iter_files

    cut = limited_corpus(FIXTURE_CORPUS, 3, tmp_path / "cut")
    files = iter_files(cut)
    pages = sum(len(split_text_pages(p.read_text(encoding="utf-8"))) for p in files)
    assert pages == 3
    assert any(p.name.endswith(".meta.yaml") for p in cut.iterdir())  # sidecars travel with their files


class _ConcurrentOcr:
    """An OCR engine that only answers once two pages are being read at the same time."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=30)

    def ocr_pdf_page(self, pdf_path: Path, page_number: int) -> str:
        self.barrier.wait()  # raises BrokenBarrierError if the pages are read one after the other
        return f"Sida {page_number}: nämnden beslutade att godkänna budgeten för verksamhetsåret."


def test_pages_of_a_document_are_ocrd_at_the_same_time(tmp_path: Path) -> None:
    scan = fx.scanned_pdf(tmp_path / "scan.pdf", ["Första sidan.", "Andra sidan."])
    pages = load_pages(scan, ocr=_ConcurrentOcr(), min_quality=0.8, ocr_workers=2)
    assert [p.method for p in pages] == ["ocr", "ocr"]


@pytest.mark.skipif(not TesseractOcr.available("swe"), reason="tesseract with Swedish is not installed")
def test_ocr_pool_reads_the_same_text_as_serial_ocr(tmp_path: Path) -> None:
    scan = fx.scanned_pdf(
        tmp_path / "scan.pdf",
        [
            "Sammanträdets laglighet och beslutförhet. Ordföranden öppnar sammanträdet.",
            "Nämnden beslutar att godkänna budgeten för år 2024 och att justera protokollet.",
        ],
    )
    ocr = TesseractOcr(lang="swe", dpi=200)
    serial = load_pages(scan, ocr=ocr, min_quality=0.8, ocr_workers=1)
    pooled = load_pages(scan, ocr=ocr, min_quality=0.8, ocr_workers=2)
    assert [p.method for p in pooled] == ["ocr", "ocr"]
    assert [p.text for p in pooled] == [p.text for p in serial]
    assert "budgeten" in pooled[1].text


def test_bench_serve_times_an_existing_index(tmp_path: Path) -> None:
    from assistant.settings import AssistantSettings
    from evaluation.cli import bench
    from indexer.cli import build_indexer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "beslut.txt").write_text(
        "Kommunstyrelsen beslutade om budgeten för 2024. Årets resultat blev 12 miljoner kronor.\n", encoding="utf-8"
    )
    settings = AssistantSettings(data_dir=tmp_path / "data", corpus_dir=corpus, _env_file=None)
    indexer = build_indexer(settings)
    chunks = indexer.run([corpus]).chunks
    indexer.store.close()
    out = tmp_path / "serve.json"
    result = CliRunner().invoke(
        bench, ["serve", "--data", str(settings.data_dir), "--repeat", "1", "--json", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["chunks"] == chunks > 0
    assert data["search_p50_ms"] > 0 and data["ask_p50_ms"] > 0 and data["reopen_s"] >= 0
    assert f"| {settings.data_dir} | {chunks} |" in result.output
