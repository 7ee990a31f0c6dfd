"""Tables: flattened key-figure tables rebuilt into rows; PDF tables read as tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.schema import Chunk, DocumentMeta, Page
from indexer.tables import FlatTableReport, flat_table_blocks, pdf_table_blocks, split_numbers
from indexer.units import split_units

NOTES = """Noter till resultat och balansräkning

1 Verksamhetens intäkter

2012 2011

Statsbidrag 15 380 9 020
Bidrag från Regionen 14 054 15 137
EU-bidrag 1 036 8 637
Summa 39 072 40 546

2 Verksamhetens kostnader
Personalkostnader 23 403    23 641
Material och tjänster 18 396    24 794
"""


def test_digit_groups_can_be_read_several_ways() -> None:
    assert split_numbers(["15", "380", "9", "020"], 2) == [["15 380", "9 020"]]
    assert sorted(split_numbers(["1", "484", "722"], 2)) == [["1", "484 722"], ["1 484", "722"]]
    assert split_numbers(["5", "835"], 3) == []


def test_a_flattened_table_becomes_rows_with_caption_and_column() -> None:
    report = FlatTableReport()
    blocks = flat_table_blocks([Page(20, NOTES, "text", 1.0)], report)
    texts = [b.text for b in blocks]
    assert (
        "Statsbidrag – Verksamhetens intäkter – 2012: 15 380\nStatsbidrag – Verksamhetens intäkter – 2011: 9 020"
        in texts
    )
    assert "Personalkostnader – Verksamhetens kostnader – 2011: 23 641" in texts[-2]
    assert all(b.kind == "table_row" and b.page_start == 20 for b in blocks)
    assert report.rows == 6 and report.untrusted_rows == 0


def test_a_header_line_that_starts_with_the_tables_title() -> None:
    page = Page(124, "Antal deltagarveckor* 2021 2020 2019\n\nSörängens folkhögskola 7 090 6 839 6 732\n", "text", 1.0)
    [block] = flat_table_blocks([page])
    assert block.text.splitlines()[0] == "Sörängens folkhögskola – Antal deltagarveckor – 2021: 7 090"
    assert block.section == "Antal deltagarveckor"
    # a third column labelled on the line below ("Totalt") leaves the columns unknown: the text is kept as text
    page = Page(71, "Finansiär 2022 2023\n\n       Totalt\nSumma medfinansiering 474 724 56 854 531 578\n", "text", 1.0)
    assert flat_table_blocks([page]) == []


def test_a_number_does_not_start_with_a_zero_group() -> None:
    assert ["0", "130 716"] in split_numbers(["0", "130", "716"], 2)
    assert ["0 130", "716"] not in split_numbers(["0", "130", "716"], 2)
    assert all(not r[1].startswith("0 ") for r in split_numbers(["130", "716", "0", "130", "716"], 3))


def test_a_row_whose_columns_cannot_be_trusted_is_reported_not_guessed() -> None:
    page = Page(3, "2013 2012\nFinansiella intäkter 1 484 722 6 1\nÅrets resultat 2 702 912\n", "text", 1.0)
    report = FlatTableReport()
    blocks = flat_table_blocks([page], report)
    assert [b.text.split(" – ")[0] for b in blocks] == ["Årets resultat"]
    assert report.untrusted == [(3, "Finansiella intäkter")]


def test_the_year_columns_decide_between_readings() -> None:
    page = Page(1, "2012 2011\nFinansiella intäkter 1 484 722\n", "text", 1.0)
    blocks = flat_table_blocks([page])
    assert blocks[0].text.endswith("2012: 1 484\nFinansiella intäkter – 2011: 722")


def test_prose_is_not_a_table() -> None:
    text = "Under 2012 och 2011 arbetade förbundet med många frågor som rör hela regionen och dess kommuner.\n"
    assert flat_table_blocks([Page(1, text, "text", 1.0)]) == []


def test_rebuilt_rows_are_table_row_units() -> None:
    blocks = flat_table_blocks([Page(20, NOTES, "text", 1.0)])
    text = "\n".join(b.text for b in blocks[:2])
    chunk = Chunk(
        doc_id="ars",
        ordinal=9,
        text=text,
        page_start=20,
        page_end=20,
        meta=DocumentMeta(title="Årsredovisning 2012"),
        source="ars.txt",
        kind="table_row",
    )
    units = split_units(chunk)
    assert len(units) == 4 and all(u.kind == "table_row" for u in units)
    assert units[1].text == "Statsbidrag – Verksamhetens intäkter – 2011: 9 020"


def test_indexing_reports_rebuilt_and_untrusted_rows(tmp_path: Path) -> None:
    from indexer.sparse import SparseEncoder
    from tests.conftest import FakeEmbedder
    from tests.indexer.test_pipeline import make_indexer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ars.txt").write_text(NOTES + "\n2013 2012\nFinansiella intäkter 1 484 722 6 1\n", encoding="utf-8")
    idx = make_indexer(tmp_path / "data", FakeEmbedder(), SparseEncoder())
    report = idx.run([corpus])
    assert report.table_rows == 6
    assert report.untrusted_table_rows == [("ars.txt", 1, "Finansiella intäkter")]
    rows = [c for c in idx.store.scroll() if c.kind == "table_row" and "Statsbidrag –" in c.text]
    assert rows, "the rebuilt rows are indexed"
    assert any("Statsbidrag 15 380 9 020" in c.text for c in idx.store.scroll()), "the text is kept"


def test_pdf_tables_come_out_as_rows_with_headers_caption_and_page(tmp_path: Path) -> None:
    pytest.importorskip("reportlab")
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

    path = tmp_path / "ars.pdf"
    styles = getSampleStyleSheet()
    table = Table([["", "2023", "2022"], ["Intäkter", "22 345", "21 010"], ["Kostnader", "-20 100", "-19 870"]])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    SimpleDocTemplate(str(path), pagesize=A4).build(
        [
            Paragraph("Förvaltningsberättelse", styles["Normal"]),
            PageBreak(),
            Paragraph("Resultaträkning, belopp i tkr", styles["Normal"]),
            table,
        ]
    )
    blocks = pdf_table_blocks(path)
    assert [b.page_start for b in blocks] == [2, 2]
    assert blocks[0].text == (
        "Intäkter – Resultaträkning, belopp i tkr – 2023: 22 345\n"
        "Intäkter – Resultaträkning, belopp i tkr – 2022: 21 010"
    )
    assert blocks[1].section == "Resultaträkning, belopp i tkr"


def test_a_pdf_tables_header_of_several_rows_names_each_column(tmp_path: Path) -> None:
    """An investment table's headings span rows ("Varav årets" over "Budget 2025", "Budget-" over
    "avvikelse"), and a group heading ("Färdigställda projekt") is no row of figures."""
    pytest.importorskip("reportlab")
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    path = tmp_path / "bokslut.pdf"
    rows = [
        ["Investeringsredovisning", "Varav årets", "", ""],
        ["Kultur och fritidsnämnden", "Budget 2025", "Utfall 2025", "Budget-"],
        ["", "", "", "avvikelse"],
        ["Färdigställda projekt", "", "", ""],
        ["Löparbana Korsavad (6151)", "2,400", "0,010", "2,390"],
    ]
    table = Table(rows)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    styles = getSampleStyleSheet()
    SimpleDocTemplate(str(path), pagesize=A4).build([Paragraph("Investeringar i detalj", styles["Normal"]), table])
    [block] = pdf_table_blocks(path)
    assert block.text.splitlines() == [
        "Löparbana Korsavad (6151) – Investeringar i detalj – Varav årets Budget 2025: 2,400",
        "Löparbana Korsavad (6151) – Investeringar i detalj – Utfall 2025: 0,010",
        "Löparbana Korsavad (6151) – Investeringar i detalj – Budgetavvikelse: 2,390",
    ]
