"""Loading files as pages: PDF (text layer, scans, garbled layers), plain text, Markdown, HTML and Word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from indexer.errors import UnreadableDocument
from indexer.load import SUPPORTED_SUFFIXES, clean_text, load_pages, split_text_pages
from indexer.ocr import OcrFailed, TesseractOcr, make_ocr
from indexer.quality import text_quality
from indexer.settings import IndexSettings
from tests.indexer import pdf_fixtures as fx

MIN_QUALITY = 0.8

needs_tesseract = pytest.mark.skipif(
    not TesseractOcr.available("swe"), reason="tesseract with Swedish is not installed"
)

PROTOCOL_PAGES = [
    "Protokoll från kommunstyrelsen. § 12 Val av justerare. Nämnden beslutade att utse två justerare "
    "som ska justera protokollet senast fredag.",
    "§ 13 Budget för år 2024. Förvaltningen föreslår att budgeten fastställs. Ärendet behandlades "
    "och nämnden godkände förslaget utan ändringar.",
    "§ 14 Övriga frågor. Ordföranden tackade ledamöterna och förklarade sammanträdet avslutat. "
    "Nästa möte hålls i Växjö.",
]

SCANNED_TEXT = (
    "Sammanträdets laglighet och beslutförhet. Ordföranden öppnar sammanträdet och konstaterar "
    "att nämnden är beslutför. Protokollet justeras av två ledamöter."
)


class FakeOcr:
    """Returns set text for set pages and records which pages it was asked for."""

    def __init__(self, pages: dict[int, str], failing: frozenset[int] = frozenset()) -> None:
        self.pages = pages
        self.failing = failing
        self.calls: list[int] = []

    def ocr_pdf_page(self, pdf_path: Path, page_number: int) -> str:
        self.calls.append(page_number)
        if page_number in self.failing:
            raise OcrFailed("tesseract misslyckades (kod 1): testfel")
        return self.pages.get(page_number, "")


def merged_pdf(path: Path, *parts: Path) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    writer.write(path)
    return path


# -- PDF with a text layer ---------------------------------------------------------------------------


def test_pdf_pages_come_back_one_based_with_swedish_text(tmp_path: Path) -> None:
    pdf = fx.text_pdf(tmp_path / "protokoll.pdf", PROTOCOL_PAGES)
    ocr = FakeOcr({})

    pages = load_pages(pdf, ocr=ocr, min_quality=MIN_QUALITY)

    assert [p.number for p in pages] == [1, 2, 3]
    assert all(p.method == "text" and p.note is None for p in pages)
    assert "§ 12 Val av justerare" in pages[0].text
    assert "Förvaltningen föreslår" in pages[1].text
    assert "Övriga frågor" in pages[2].text and "Växjö" in pages[2].text
    assert all(p.quality > 0.9 for p in pages)
    assert ocr.calls == []  # good text layers are never OCR'd


def test_encrypted_pdf_with_empty_user_password_opens(tmp_path: Path) -> None:
    pdf = fx.encrypted_pdf(tmp_path / "skyddad.pdf", PROTOCOL_PAGES[:1], user_password="")

    pages = load_pages(pdf, ocr=None, min_quality=MIN_QUALITY)

    assert "Val av justerare" in pages[0].text


# -- scans and garbled text layers -------------------------------------------------------------------


@needs_tesseract
def test_scanned_page_is_read_by_ocr(tmp_path: Path) -> None:
    text = fx.text_pdf(tmp_path / "text.pdf", PROTOCOL_PAGES[:1])
    scan = fx.scanned_pdf(tmp_path / "scan.pdf", [SCANNED_TEXT])
    pdf = merged_pdf(tmp_path / "blandad.pdf", text, scan)

    pages = load_pages(pdf, ocr=TesseractOcr(lang="swe", dpi=200), min_quality=MIN_QUALITY)

    assert [(p.number, p.method) for p in pages] == [(1, "text"), (2, "ocr")]
    words = pages[1].text.lower()
    for word in ("sammanträdets", "beslutförhet", "ordföranden", "nämnden", "protokollet"):
        assert word in words
    assert pages[1].quality > 0.9
    assert pages[1].note == "inget textlager; OCR"


def test_scanned_page_without_ocr_is_skipped_with_reason(tmp_path: Path) -> None:
    text = fx.text_pdf(tmp_path / "text.pdf", PROTOCOL_PAGES[:1])
    scan = fx.scanned_pdf(tmp_path / "scan.pdf", [SCANNED_TEXT])
    pdf = merged_pdf(tmp_path / "blandad.pdf", text, scan)

    pages = load_pages(pdf, ocr=None, min_quality=MIN_QUALITY)

    assert [p.method for p in pages] == ["text", "skipped"]
    assert pages[1].note == "ingen textlager och OCR saknas"
    assert pages[1].quality == 0.0


def test_wholly_scanned_pdf_without_ocr_is_unreadable(tmp_path: Path) -> None:
    scan = fx.scanned_pdf(tmp_path / "scan.pdf", [SCANNED_TEXT])

    with pytest.raises(UnreadableDocument) as err:
        load_pages(scan, ocr=None, min_quality=MIN_QUALITY)

    assert "ingen text" in err.value.reason and "OCR saknas" in err.value.reason


def test_garbled_text_layer_is_detected(tmp_path: Path) -> None:
    pdf = fx.garbled_pdf(tmp_path / "trasig.pdf", PROTOCOL_PAGES[:2])

    pages = load_pages(pdf, ocr=None, min_quality=MIN_QUALITY)

    assert "cebgbxbyyrg" in pages[0].text  # the broken font map's "protokollet"
    for page in pages:
        assert page.method == "text"
        assert page.quality < 0.2
        assert page.note is not None and page.note.startswith("textlager oläsbart")
        assert page.note.endswith("OCR saknas")


@needs_tesseract
def test_garbled_text_layer_is_replaced_by_ocr(tmp_path: Path) -> None:
    pdf = fx.garbled_pdf(tmp_path / "trasig.pdf", PROTOCOL_PAGES[:1])

    (page,) = load_pages(pdf, ocr=TesseractOcr(lang="swe", dpi=200), min_quality=MIN_QUALITY)

    assert page.method == "ocr"
    assert "protokollet" in page.text
    assert "justerare" in page.text
    assert page.quality > 0.9
    assert page.note is not None and page.note.startswith("textlager oläsbart") and page.note.endswith("; OCR")


def test_ocr_that_reads_no_better_keeps_the_text_layer(tmp_path: Path) -> None:
    pdf = fx.garbled_pdf(tmp_path / "trasig.pdf", PROTOCOL_PAGES[:1])
    ocr = FakeOcr({1: "xq zv qqq wvx"})

    (page,) = load_pages(pdf, ocr=ocr, min_quality=MIN_QUALITY)

    assert ocr.calls == [1]
    assert page.method == "text"
    assert page.note is not None and "OCR gav inte bättre text" in page.note


FINNISH_PAGE = (
    "Kunta-alan tuntipalkkaisen henkilöstön palkantarkistukset tehdään kesäkuussa. Kunnallisen työmarkkinalaitoksen "
    "yleiskirjeessä kerrotaan, miten palkat lasketaan ja milloin uudet palkat maksetaan ensimmäisen kerran. "
    "Työnantajan on ilmoitettava muutoksista henkilöstölle hyvissä ajoin ennen palkanmaksupäivää."
)
ENGLISH_PAGE = (
    "The municipal board decided to approve the annual report for the year and to grant discharge from liability "
    "to the members of the board. The decision was taken unanimously and the minutes were checked on the same day."
)


def test_a_finnish_page_is_neither_ocrd_nor_indexed(tmp_path: Path) -> None:
    pdf = fx.text_pdf(tmp_path / "tvasprakig.pdf", [PROTOCOL_PAGES[0], FINNISH_PAGE, ENGLISH_PAGE])
    ocr = FakeOcr({})

    pages = load_pages(pdf, ocr=ocr, min_quality=MIN_QUALITY)

    assert ocr.calls == []  # its words are not Swedish, but OCR would read it no better
    assert [p.method for p in pages] == ["text", "skipped", "text"]
    assert pages[1].text == "" and pages[1].note == "sidan är på finska och indexeras inte"
    assert "justerare" in pages[0].text and "annual report" in pages[2].text


def test_a_scanned_finnish_page_is_not_indexed_after_ocr(tmp_path: Path) -> None:
    pdf = merged_pdf(
        tmp_path / "blandad.pdf",
        fx.text_pdf(tmp_path / "a.pdf", PROTOCOL_PAGES[:1]),
        fx.scanned_pdf(tmp_path / "b.pdf", ["Skannad sida"]),
    )
    pages = load_pages(pdf, ocr=FakeOcr({2: FINNISH_PAGE}), min_quality=MIN_QUALITY)

    assert [p.method for p in pages] == ["text", "skipped"]
    assert pages[1].note is not None and "finska" in pages[1].note


@pytest.mark.parametrize(
    ("text", "language"),
    [(FINNISH_PAGE, "fi"), (ENGLISH_PAGE, None), (" ".join(PROTOCOL_PAGES), None), ("Kunta-alan yleiskirje", None)],
)
def test_only_a_clearly_unindexed_language_is_named(text: str, language: str | None) -> None:
    from indexer.language import unindexed_language

    assert unindexed_language(text) == language


def test_ocr_failure_skips_only_that_page(tmp_path: Path) -> None:
    text = fx.text_pdf(tmp_path / "text.pdf", PROTOCOL_PAGES[:1])
    scans = fx.scanned_pdf(tmp_path / "scan.pdf", [SCANNED_TEXT, SCANNED_TEXT])
    pdf = merged_pdf(tmp_path / "blandad.pdf", text, scans)
    ocr = FakeOcr({3: SCANNED_TEXT}, failing=frozenset({2}))

    pages = load_pages(pdf, ocr=ocr, min_quality=MIN_QUALITY)

    assert sorted(ocr.calls) == [2, 3]
    assert [p.method for p in pages] == ["text", "skipped", "ocr"]
    assert pages[1].note is not None and "OCR misslyckades" in pages[1].note and "testfel" in pages[1].note
    assert pages[2].text == SCANNED_TEXT


def test_page_that_pypdf_cannot_read_is_skipped_and_the_rest_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pypdf import PageObject

    pdf = fx.text_pdf(tmp_path / "protokoll.pdf", PROTOCOL_PAGES)
    extract = PageObject.extract_text

    def broken_on_page_two(self: PageObject, *args: Any, **kwargs: Any) -> str:
        if self.page_number == 1:
            raise KeyError("/Font")
        return extract(self, *args, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", broken_on_page_two)

    pages = load_pages(pdf, ocr=None, min_quality=MIN_QUALITY)

    assert [p.method for p in pages] == ["text", "skipped", "text"]
    assert pages[1].note is not None and pages[1].note.startswith("sidan kunde inte läsas")


# -- whole-file failures -----------------------------------------------------------------------------


def test_corrupt_pdf_is_unreadable(tmp_path: Path) -> None:
    good = fx.text_pdf(tmp_path / "bra.pdf", PROTOCOL_PAGES).read_bytes()
    for name, data in {
        "skräp.pdf": "%PDF-1.4\ndetta är ingen pdf".encode(),
        "avhuggen.pdf": good[: len(good) // 2],
    }.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(UnreadableDocument) as err:
            load_pages(path, ocr=None, min_quality=MIN_QUALITY)
        assert err.value.reason.startswith("trasig PDF")
        assert err.value.path == str(path)


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_password_protected_pdf_is_unreadable(tmp_path: Path, algorithm: str) -> None:
    pdf = fx.encrypted_pdf(tmp_path / "hemlig.pdf", PROTOCOL_PAGES[:1], user_password="hemligt", algorithm=algorithm)

    with pytest.raises(UnreadableDocument) as err:
        load_pages(pdf, ocr=None, min_quality=MIN_QUALITY)

    assert "krypterad" in err.value.reason


@pytest.mark.parametrize("name", ["tom.pdf", "tom.txt", "tom.docx", "tom.html"])
def test_empty_file_is_unreadable(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")

    with pytest.raises(UnreadableDocument) as err:
        load_pages(path, ocr=None, min_quality=MIN_QUALITY)

    assert err.value.reason == "tom fil"


def test_text_file_with_only_whitespace_and_markup_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "nästan_tom.html"
    path.write_text("<html><body><p>  </p><script>var x = 1;</script></body></html>", encoding="utf-8")

    with pytest.raises(UnreadableDocument) as err:
        load_pages(path, ocr=None, min_quality=MIN_QUALITY)

    assert err.value.reason.startswith("ingen text på någon sida")


def test_unsupported_suffix_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "budget.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a spreadsheet")

    with pytest.raises(UnreadableDocument) as err:
        load_pages(path, ocr=None, min_quality=MIN_QUALITY)

    assert ".xlsx" in err.value.reason and "stöds inte" in err.value.reason
    assert ".pdf" in SUPPORTED_SUFFIXES and ".xlsx" not in SUPPORTED_SUFFIXES


def test_undecodable_text_file_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "binär.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x81\x8d\x8f\x90")

    with pytest.raises(UnreadableDocument) as err:
        load_pages(path, ocr=None, min_quality=MIN_QUALITY)

    assert "teckenkodning" in err.value.reason


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableDocument) as err:
        load_pages(tmp_path / "finns_inte.pdf", ocr=None, min_quality=MIN_QUALITY)

    assert "kunde inte läsas" in err.value.reason


# -- plain text, Markdown, HTML, Word ----------------------------------------------------------------


def test_txt_is_split_into_pages_where_a_line_starts_with_one_space(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text(
        "Kommunstyrelsen\nProtokoll § 5\n Sida 2 börjar här\nmed fortsättning\n Sida 3 med beslut\n", encoding="utf-8"
    )

    pages = load_pages(path, ocr=None, min_quality=MIN_QUALITY)

    assert [p.number for p in pages] == [1, 2, 3]
    assert pages[0].text == "Kommunstyrelsen\nProtokoll § 5"
    assert pages[1].text == "Sida 2 börjar här\nmed fortsättning"
    assert pages[2].text == "Sida 3 med beslut"
    assert all(p.method == "text" for p in pages)
    assert split_text_pages("a\n b\n  c") == ["a", " b\n  c"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Åtgärder för äldreomsorgen §".encode(), "Åtgärder för äldreomsorgen §"),
        ("\ufeffÅtgärder med BOM".encode(), "Åtgärder med BOM"),
        ("Åtgärder i cp1252 §".encode("cp1252"), "Åtgärder i cp1252 §"),
        ("Åtgärder i UTF-16".encode("utf-16"), "Åtgärder i UTF-16"),
    ],
)
def test_txt_encodings(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "text.txt"
    path.write_bytes(data)

    (page,) = load_pages(path, ocr=None, min_quality=MIN_QUALITY)

    assert page.text == expected


def test_markdown_is_one_page_of_its_text(tmp_path: Path) -> None:
    path = tmp_path / "anteckning.md"
    path.write_text("# Budget 2024\n\nNämnden **godkände** budgeten.\n\n- Löner\n- Lokaler\n", encoding="utf-8")

    (page,) = load_pages(path, ocr=None, min_quality=MIN_QUALITY)

    assert page.number == 1 and page.method == "text"
    assert page.text == "# Budget 2024\n\nNämnden **godkände** budgeten.\n\n- Löner\n- Lokaler"
    assert page.quality > 0.9


def test_html_is_one_page_of_readable_text(tmp_path: Path) -> None:
    path = tmp_path / "sida.html"
    path.write_text(
        "<!doctype html><html><head><title>Titel</title><style>p {color: red}</style></head><body>"
        "<!-- meny --><h1>Protokoll   för\n nämnden</h1><p>Nämnden <b>beslutade</b> att\ngodkänna "
        "<a href='#'>budgeten</a>.<br>Ny rad.</p><script>var x = 1;</script>"
        "<table><tr><th>Post</th><th>Belopp</th></tr><tr><td>Löner</td><td>1 200 tkr</td></tr></table>"
        "<ul><li>Första punkten</li><li>Andra punkten</li></ul></body></html>",
        encoding="utf-8",
    )

    (page,) = load_pages(path, ocr=None, min_quality=MIN_QUALITY)

    assert page.text == (
        "Protokoll för nämnden\n\nNämnden beslutade att godkänna budgeten.\nNy rad.\n\n"
        "Post | Belopp\nLöner | 1 200 tkr\n\nFörsta punkten\nAndra punkten"
    )


def test_html_in_cp1252_declared_in_meta_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "gammal.htm"
    path.write_bytes(
        '<html><head><meta charset="windows-1252"></head><body><p>Åtgärder för äldreomsorgen</p></body></html>'.encode(
            "cp1252"
        )
    )

    (page,) = load_pages(path, ocr=None, min_quality=MIN_QUALITY)

    assert page.text == "Åtgärder för äldreomsorgen"


def test_docx_is_split_on_explicit_page_breaks(tmp_path: Path) -> None:
    path = fx.docx_file(
        tmp_path / "skrivelse.docx",
        [["Tjänsteskrivelse", "Förvaltningen föreslår att nämnden beslutar."], ["Bilaga 1: Åtgärdsplan"]],
    )

    pages = load_pages(path, ocr=None, min_quality=MIN_QUALITY)

    assert [(p.number, p.text) for p in pages] == [
        (1, "Tjänsteskrivelse\nFörvaltningen föreslår att nämnden beslutar."),
        (2, "Bilaga 1: Åtgärdsplan"),
    ]


def test_docx_tables_are_kept_as_rows(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Budget per verksamhet")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("Verksamhet", "Belopp"), ("Skola", "12 mnkr")], strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    path = tmp_path / "budget.docx"
    document.save(str(path))

    (page,) = load_pages(path, ocr=None, min_quality=MIN_QUALITY)

    assert page.text == "Budget per verksamhet\nVerksamhet | Belopp\nSkola | 12 mnkr"


def test_corrupt_docx_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "trasig.docx"
    path.write_bytes(b"PK\x03\x04 inte en riktig zip")

    with pytest.raises(UnreadableDocument) as err:
        load_pages(path, ocr=None, min_quality=MIN_QUALITY)

    assert err.value.reason.startswith("trasig Word-fil")


# -- text repair -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Avgiften ska beta-\nlas senast", "Avgiften ska betalas senast"),
        ("ordfö-\n\nrande", "ordförande"),
        ("funktionshind-  \n  rade", "funktionshindrade"),
        ("risk-\noch sårbarhetsanalys", "risk- och sårbarhetsanalys"),
        ("Hälso- och sjukvård", "Hälso- och sjukvård"),
        ("in-\neller utbetalningar", "in- eller utbetalningar"),
        ("beslut 2022-02-10 om", "beslut 2022-02-10 om"),
        ("dnr 2022-\n02-10", "dnr 2022-\n02-10"),
        ("EU-\nprojektet", "EU-projektet"),
        ("e-\npost", "e-post"),
        ("Nykarleby-\nPedersöre", "Nykarleby-Pedersöre"),
        ("budget -\nsom sagt", "budget -\nsom sagt"),
    ],
)
def test_clean_text_joins_hyphenated_words_and_keeps_real_hyphens(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_clean_text_normalises_characters_and_spaces() -> None:
    raw = (
        "  Kommunen\u00a0har  två\t\tbeslut   \n"  # no-break space, runs of spaces and tabs, trailing space
        "\ufb01nansiering och e\ufb00ekt\n"  # ligatures
        "beta\u00adlas och beta\u00ad\nlas\n"  # soft hyphens
        "a\u0308ndring\u200b\n"  # decomposed ä, zero-width space
        "\n\n\n\nSista raden  "
    )

    assert clean_text(raw) == (
        "Kommunen har två beslut\nfinansiering och effekt\nbetalas och betalas\nändring\n\nSista raden"
    )


def test_clean_text_keeps_line_breaks() -> None:
    assert clean_text("Beslut:\nNämnden godkänner.\n\nPunkt 2") == "Beslut:\nNämnden godkänner.\n\nPunkt 2"


# -- quality and OCR engine --------------------------------------------------------------------------


def test_text_quality_tells_swedish_from_garbage() -> None:
    good = "Nämnden beslutade att godkänna leverantörsfakturorna och protokollet justerades."
    garbled = "I tur at justera protokojjet är medjemmarna Hejena och Kent. Benlutande irdhnarhe vajdes."

    assert text_quality(good) > 0.9
    assert text_quality(garbled) < 0.7
    assert text_quality("") == 0.0
    assert text_quality("§ 12") == 0.0


def test_make_ocr_follows_the_settings() -> None:
    assert make_ocr(IndexSettings(ocr=False)) is None
    assert not TesseractOcr.available("klingonska")
    assert make_ocr(IndexSettings(ocr=True, ocr_lang="klingonska")) is None
    if TesseractOcr.available("swe"):
        engine = make_ocr(IndexSettings(ocr=True, ocr_lang="swe"))
        assert isinstance(engine, TesseractOcr) and engine.lang == "swe"


@needs_tesseract
def test_tesseract_reports_a_page_it_cannot_render(tmp_path: Path) -> None:
    pdf = fx.text_pdf(tmp_path / "en_sida.pdf", PROTOCOL_PAGES[:1])

    with pytest.raises(OcrFailed) as err:
        TesseractOcr().ocr_pdf_page(pdf, 5)

    assert "renderas" in str(err.value)
