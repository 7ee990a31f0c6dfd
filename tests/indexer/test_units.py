"""Answer units: what a citation quotes and what an answer is composed from."""

from __future__ import annotations

import pytest

from indexer.schema import Chunk, DocumentMeta
from indexer.units import MIN_UNIT_CHARS, split_units

META = DocumentMeta(title="Protokoll direktionen", doc_type="protokoll", date="2024-03-14", year=2024)


def chunk(text: str, **kw: object) -> Chunk:
    base: dict[str, object] = {
        "doc_id": "prot-2024",
        "ordinal": 3,
        "text": text,
        "page_start": 2,
        "page_end": 2,
        "meta": META,
        "source": "prot-2024.pdf",
    }
    base.update(kw)
    return Chunk(**base)  # type: ignore[arg-type]


def test_every_unit_is_a_verbatim_slice_of_its_chunk() -> None:
    c = chunk(
        "Direktionen har t.ex. beslutat om budgeten. Kostnaden blir 1 250 tkr för 2024.\n"
        "• Folkhögskoleföreningens årsmöte den 11 mars i Stockholm.\n"
        "• Europaforum den 12-13 maj i Falkenberg.\n"
    )
    units = split_units(c)
    assert units, "a chunk with text has units"
    for u in units:
        assert c.text[u.start : u.end] == u.text
        assert u.chunk_id == c.chunk_id and u.doc_id == c.doc_id
    assert [u.ordinal for u in units] == list(range(len(units)))
    assert units[0].unit_id == "prot-2024:3/0"
    texts = [u.text for u in units]
    assert texts[0] == "Direktionen har t.ex. beslutat om budgeten."
    assert texts[1] == "Kostnaden blir 1 250 tkr för 2024."
    assert [u.kind for u in units] == ["sentence", "sentence", "list_item", "list_item"]


def test_the_items_of_a_decision_are_decision_items() -> None:
    c = chunk(
        "Direktionen beslutar att 1. Godkänna årsredovisningen för 2023. "
        "2. Överlämna den till medlemskommunerna för beslut om ansvarsfrihet.",
        paragraph="12",
        case_numbers=("RJL 2024/12", "2024/12"),
    )
    units = split_units(c)
    kinds = [(u.kind, u.text) for u in units]
    assert ("decision_item", "1. Godkänna årsredovisningen för 2023.") in kinds
    assert ("decision_item", "2. Överlämna den till medlemskommunerna för beslut om ansvarsfrihet.") in kinds
    assert all(u.paragraph == "12" for u in units)
    assert all(u.case_numbers == ("RJL 2024/12", "2024/12") for u in units)
    assert all(u.date == c.date for u in units)


def test_bullets_in_the_beslut_part_are_decision_items() -> None:
    c = chunk(
        "Presidiet föreslår nämnden\n\n• Godkänna överenskommelse interregionalt samarbete om ShareMusic.",
        part="Beslut",
    )
    units = split_units(c)
    assert units[-1].kind == "decision_item"
    assert units[-1].text.startswith("• Godkänna överenskommelse")


def test_a_unit_names_its_own_case_number() -> None:
    c = chunk(
        "Ärendet gäller ansökan om medel för projektet. Diarienummer: RJL 2020/730 avser överenskommelsen.",
        case_numbers=("RJL 2022/258", "2022/258"),
    )
    units = split_units(c)
    assert units[0].case_numbers == ("RJL 2022/258", "2022/258")
    assert units[1].case_numbers == ("RJL 2020/730",)


def test_short_headings_join_the_sentence_after_them() -> None:
    c = chunk("Ekonomi\nIntäkterna uppgick till 22,3 miljoner kronor under året.")
    units = split_units(c)
    assert len(units) == 1
    assert units[0].text == c.text
    assert units[0].kind == "sentence"


def test_a_short_tail_joins_the_unit_before_it() -> None:
    c = chunk("Intäkterna uppgick till 22,3 miljoner kronor under året.\nBilaga 1")
    units = split_units(c)
    assert [u.text for u in units] == [c.text]


def test_no_unit_is_shorter_than_the_minimum_unless_the_chunk_is() -> None:
    c = chunk("Tid\n2022-02-10\nPlats\nRegionens hus, Jönköping\nNärvarande ledamöter enligt bilaga.")
    for u in split_units(c):
        assert len(u.text) >= MIN_UNIT_CHARS
    assert split_units(chunk("Kort."))[0].text == "Kort."


def test_table_chunks_give_one_unit_per_row() -> None:
    c = chunk(
        "Verksamhetens intäkter – Utfall – 2023: 22 345 tkr\nVerksamhetens kostnader – Utfall – 2023: -21 010 tkr",
        kind="table_row",
    )
    units = split_units(c)
    assert [u.kind for u in units] == ["table_row", "table_row"]
    assert units[1].text == "Verksamhetens kostnader – Utfall – 2023: -21 010 tkr"


def test_units_of_a_chunk_over_two_pages_know_their_page() -> None:
    text = "Första sidans mening om budgeten för året.\nAndra sidans mening om utfallet för året."
    c = chunk(text, page_start=4, page_end=5, extra={"page_breaks": [text.index("Andra")]})
    units = split_units(c)
    assert [u.page for u in units] == [4, 5]


@pytest.mark.parametrize("text", ["", "   \n "])
def test_an_empty_chunk_has_no_units(text: str) -> None:
    assert split_units(chunk(text)) == []


def test_units_are_deterministic() -> None:
    c = chunk("En mening om något viktigt här. En till mening om annat viktigt där.")
    assert split_units(c) == split_units(c)
