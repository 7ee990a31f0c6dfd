from __future__ import annotations

from pathlib import Path

import pytest

from indexer.load import split_text_pages
from indexer.metadata import infer_metadata
from indexer.schema import DOC_TYPES, Block, Page
from indexer.structure import PAGE_BREAK, detect_doc_type, segment

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
FIXTURES = ROOT / "tests" / "fixtures" / "structure"
PROTOCOL = FIXTURES / "protokollsutdrag_rjl_2022.txt"
CONTROL_PLAN = FIXTURES / "internkontrollplan_2023.txt"

SEEDS = {
    "000_d56c434a0c8f5121.txt": "plan",
    "001_368975611d0ad655.txt": "plan",
    "002_6eef74d69066060b.txt": "arsredovisning",
    "003_635075fc132b9639.txt": "arsredovisning",
    "004_c9f51c72f4352da0.txt": "kallelse",
}


def seed_path(name: str) -> Path | None:
    for base in (ROOT / "corpus", SHARED / "corpus-seeds"):
        if (base / name).exists():
            return base / name
    return None


def pages_of(text: str, method: str = "text") -> list[Page]:
    return [Page(i + 1, t, method, 1.0) for i, t in enumerate(split_text_pages(text))]  # type: ignore[arg-type]


def items(blocks: list[Block]) -> dict[str, list[Block]]:
    out: dict[str, list[Block]] = {}
    for b in blocks:
        if b.paragraph is not None:
            out.setdefault(b.paragraph, []).append(b)
    return out


@pytest.fixture(scope="module")
def protocol_pages() -> list[Page]:
    return pages_of(PROTOCOL.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def protocol(protocol_pages: list[Page]) -> list[Block]:
    return segment(protocol_pages, "kallelse")


def test_protocol_items_have_number_title_case_and_meeting_date(protocol: list[Block]) -> None:
    found = items(protocol)
    assert list(found) == ["23", "29", "27"]
    titles = {n: {b.section for b in bs} for n, bs in found.items()}
    assert titles == {
        "23": {"Överenskommelse - interregionalt samarbete ShareMusic and Performing Arts"},
        "29": {"Stöttning besöksnäring 2022 – nationell marknadsföring"},
        "27": {"Projekt - Unga akademiker"},
    }
    cases = {n: {b.case_numbers for b in bs} for n, bs in found.items()}
    assert cases == {"23": {("RJL 2020/730",)}, "29": {("RJL 2022/258",)}, "27": {("RJL 2022/56",)}}
    assert {b.date for bs in found.values() for b in bs} == {"2022-02-10"}
    assert all(b.kind == "paragraph" for bs in found.values() for b in bs)


def test_an_item_with_parts_becomes_one_block_per_part(protocol: list[Block]) -> None:
    found = items(protocol)
    assert [b.part for b in found["29"]] == ["Beslut", "Sammanfattning", "Beslutsunderlag"]
    assert [b.part for b in found["23"]] == ["Beslut", "Sammanfattning", "Beslutsunderlag", "Yrkanden"]
    assert [b.part for b in found["27"]] == ["Jäv", "Beslut", "Sammanfattning", "Beslutsunderlag"]
    beslut = found["29"][0].text
    assert beslut.startswith("Diarienummer: RJL 2022/258\nBeslut\nPresidiet föreslår nämnden")
    assert "Bevilja Smålands Turism AB 2 000 000 kr" in beslut
    assert "Per Eriksson (C) och Monica Samuelsson (KD) yrkar bifall" in found["23"][3].text


def test_items_end_at_the_extract_and_hold_no_page_furniture(protocol: list[Block]) -> None:
    for bs in items(protocol).values():
        for b in bs:
            for furniture in ("Justerare, signatur", "Protokollsutdrag, bestyrkande", "Beslutets antal sidor"):
                assert furniture not in b.text
            assert "TJÄNSTESKRIVELSE" not in b.text
            assert "\n§ " not in b.text and not b.text.startswith("§")


def test_pages_of_items_are_the_pages_they_stand_on(protocol_pages: list[Page], protocol: list[Block]) -> None:
    for n, bs in items(protocol).items():
        page = next(p.number for p in protocol_pages if f"§ {n}" in p.text)
        assert {(b.page_start, b.page_end) for b in bs} == {(page, page)}
    for b in protocol:
        first = b.text.replace(PAGE_BREAK, "\n").strip().splitlines()[0]
        assert " ".join(first.split()) in " ".join(protocol_pages[b.page_start - 1].text.split())


def test_memo_after_an_item_keeps_its_case_number_but_not_the_item(protocol: list[Block]) -> None:
    memo = [b for b in protocol if b.section and b.section.startswith("Tjänsteskrivelse RJL 2022/258")]
    assert memo, "the memo that follows § 29 is segmented"
    assert all(b.paragraph is None and "RJL 2022/258" in b.case_numbers for b in memo)
    assert {b.part for b in memo} >= {"Förslag till beslut", "Sammanfattning", "Beslutsunderlag"}


def test_agenda_rows_carry_their_own_case_numbers(protocol: list[Block]) -> None:
    rows = [b for b in protocol if b.kind == "table_row" and b.section and b.section.startswith("Kallelse")]
    assert len(rows) == 16
    row13 = next(b for b in rows if b.text.startswith("13 "))
    assert row13.case_numbers == ("2022/258",)
    assert "Nationell marknadsföring" in row13.text
    assert row13.section == "Kallelse > Beslutsärenden för nämnden"


def test_repeated_extract_headers_are_kept_once(protocol: list[Block]) -> None:
    headers = [b for b in protocol if "Presidium - Nämnd för arbetsmarknad" in b.text]
    assert len(headers) == 1


def test_page_labelled_protocol_with_number_before_the_sign() -> None:
    footer = "Protokoll 28.03.2023 Sida\nPersonalsektionen\n{n} §\n {p}\n"
    pages = [
        Page(1, "Organ Personalsektionen\nSammanträdestid 28.3.2023 kl. 15.02–16.55\nÄrenden 13-15\n", "text", 1.0),
        Page(
            2,
            "Sammanträdets laglighet och beslutförhet\nOrdförande öppnar sammanträdet.\n"
            "Personalsektionens beslut:\nSammanträdet är lagligt.\n_____\n13 §\n" + footer.format(n=13, p=1),
            "text",
            1.0,
        ),
        Page(
            3,
            "NKBY/302/00.01.03.01/2022\nPersonalenkät 2022\nTidigare behandling:\n"
            "Personalsektionen 11.10.2022, 31 §\nBeredning: personalchef Kristina Wikblad\n"
            "Personalenkäten ska utföras 2022.\nStadsdirektörens förslag:\nEnkäten genomförs.\n"
            + footer.format(n=14, p=2),
            "text",
            1.0,
        ),
        Page(
            4,
            "Personalsektionens beslut:\nEnkäten genomförs i november.\n_____\n" + footer.format(n=14, p=3),
            "text",
            1.0,
        ),
        Page(5, "Uppvaktningar och gåvor\nGåvan är en silversked.\n" + footer.format(n=15, p=4), "text", 1.0),
    ]
    found = items(segment(pages, "protokoll"))
    assert list(found) == ["13", "14", "15"]
    assert found["14"][0].section == "Personalenkät 2022"
    assert found["14"][0].case_numbers == ("NKBY 2022/302",)
    assert (found["14"][0].page_start, found["14"][-1].page_end) == (3, 4)
    assert [b.part for b in found["14"]] == [None, "Förslag till beslut", "Beslut"]
    assert {b.date for bs in found.values() for b in bs} == {"2023-03-28"}
    assert all("Protokoll 28.03.2023 Sida" not in b.text for bs in found.values() for b in bs)


def test_ocr_section_signs() -> None:
    text = (
        "PROTOKOLL\nKommunstyrelsen\nTid: 2023-01-16\n\n$ 13\nVal av justerare\nBeslut\nAnna väljs.\n\n"
        "& 14\nBudget 2024\nDnr KS 2023:123\nBeslut\nBudgeten antas.\n\n"
        "8 15\nÖvriga frågor\nInga frågor.\n"
    )
    found = items(segment([Page(1, text, "ocr", 0.9)], "protokoll"))
    assert list(found) == ["13", "14", "15"]
    assert found["14"][0].case_numbers == ("KS 2023/123",)
    assert found["15"][0].section == "Övriga frågor"
    # The same "8 15" on a page with a text layer is a number, not a §.
    assert "15" not in items(segment([Page(1, text, "text", 1.0)], "protokoll"))


def test_an_ocr_page_header_names_the_section_of_its_page() -> None:
    """OCR'd Finland-Swedish protocol pages: the header's § is read as "8" or "$" ("Protokoll 478 15.09.2022
    Sida", "49 $ 15.09.2022 Sida") and the title line below the case number as "498 Budgetdirektiv för 2023"."""
    pages = [
        Page(
            1,
            "KAT\nÖR NYKARLEBY\nProtokoll 478 15.09.2022 Sida\nVälfärdshämnden 16\nNKBY/912/00.01.00/2021\n\n"
            "478 Mötestider 2022; Välfärdsnämnden\n\nBeredning: välfärdschef\nVälfärdsnämndens beslut:\n"
            "Enligt förslag.",
            "ocr",
            0.9,
        ),
        Page(
            2,
            "KAT\nKy\nNYKARLEBY\nProtokoll\n49 $ 15.09.2022 Sida\nVälfärdshämnden 18\n"
            "NKBY/465/02.02.00.00/2022\n\n498 Budgetdirektiv för 2023\n\nTidigare behandling:\n"
            "Stadsstyrelsen 5.9.2022, 176 8\n\nAtt uppgöra en budget påverkas alltid av samhällets ekonomi.",
            "ocr",
            0.9,
        ),
        Page(
            3,
            "KAT\nProtokoll 498 15.09.2022 Sida\nVälfärdshämnden 19\n\nPrognosen pekar på ett årsbidrag om "
            "drygt 3 miljoner.\nVälfärdsnämndens beslut:\nGodkändes.",
            "ocr",
            0.9,
        ),
    ]
    found = items(segment(pages, "protokoll"))
    assert list(found) == ["47", "49"]
    assert found["47"][0].section == "Mötestider 2022; Välfärdsnämnden"
    assert found["47"][0].case_numbers == ("NKBY 2021/912",)
    assert (found["47"][0].page_start, found["47"][-1].page_end) == (1, 1)
    assert found["49"][0].section == "Budgetdirektiv för 2023"
    assert found["49"][0].case_numbers == ("NKBY 2022/465",)
    assert (found["49"][0].page_start, found["49"][-1].page_end) == (2, 3)
    # A text layer writes no number in the header: there "478" is not read as a §.
    assert "47" not in items(segment([Page(1, pages[0].text, "text", 1.0)], "protokoll"))


def test_report_sections_follow_numbered_headings() -> None:
    text = (
        " 1 FÖRVALTNINGSBERÄTTELSE\n\n1.1 Verksamhetsidé\nFörbundet bildades 1999 och är ett samverkansorgan "
        "för kommunerna i Sjuhärad. Verksamheten grundar sig på förbundsordningen.\n\n"
        "2 Resultat och verksamhet 2012\n\n2.1 Övergripande\nFörbundet redovisar ett positivt resultat på 912 tkr "
        "och ett eget kapital om 7 626 tkr vid årets utgång.\n"
    )
    blocks = segment(pages_of(text), "arsredovisning")
    assert [b.section for b in blocks] == [
        "1 FÖRVALTNINGSBERÄTTELSE > 1.1 Verksamhetsidé",
        "2 Resultat och verksamhet 2012 > 2.1 Övergripande",
    ]
    assert blocks[1].text.startswith("Förbundet redovisar")


def test_control_plan_rows_carry_their_column_names() -> None:
    pages = pages_of(CONTROL_PLAN.read_text(encoding="utf-8"))
    rows = [b for b in segment(pages, "plan") if b.kind == "table_row"]
    assert len(rows) == 24
    assert all(b.text.startswith("Granskningsområde: ") for b in rows)
    redovisning = rows[1].text
    assert redovisning == (
        "Granskningsområde: Redovisning; Kontrollmoment: Kontroll av bokförda poster. Kontroll av "
        "leverantörsfakturor och kontering. Utbetalning ska ske med korrekta uppgifter och underlag; "
        "Kontrollmetod: Stickprov; Frekvens: 2 ggr/år; Kontrollansvarig: Administrativ chef; "
        "Resultat av granskning: Samtliga punkter kontrollerade enligt plan utan anmärkning"
    )
    assert "Kontrollansvarig: Ekonom Navet; Resultat av granskning: Utan anmärkning" in rows[10].text
    assert rows[15].section is not None and rows[15].section.endswith("> Styrdokument")
    arvoden = rows[7]
    assert arvoden.text.startswith("Granskningsområde: Arvoden och reseräkningar;")
    assert arvoden.page_start == 2


def test_generic_table_rows_keep_the_header() -> None:
    text = (
        "Uppföljning av aktiviteter\n\nAktiviteter Analys\n"
        "Utbilda chefer i arbetsmiljö Genomfört under våren.\n\n"
        "Revidera rutiner för inköp Pågår enligt plan.\n"
    )
    rows = [b for b in segment(pages_of(text), "plan") if b.kind == "table_row"]
    assert [r.text for r in rows] == [
        "Aktiviteter Analys\nUtbilda chefer i arbetsmiljö Genomfört under våren.",
        "Aktiviteter Analys\nRevidera rutiner för inköp Pågår enligt plan.",
    ]


@pytest.mark.parametrize(
    ("text", "filename", "expected"),
    [
        ("PROTOKOLL\nKommunstyrelsen\n§ 1 Val av justerare", "", "protokoll"),
        ("Organ Personalsektionen\nSammanträdestid 28.3.2023", "", "protokoll"),
        ("Protokollsutdrag\nKommunfullmäktige", "", "protokoll"),
        ("KALLELSE 1(2)\nNämnd för arbetsmarknad", "", "kallelse"),
        ("Föredragningslista\nStadsstyrelsen", "", "kallelse"),
        ("TJÄNSTESKRIVELSE 1(2)\n2022-02-02 RJL 2022/258", "", "tjansteskrivelse"),
        ("Missiv\nUppföljning av intern kontroll", "", "tjansteskrivelse"),
        ("Årsredovisning 2023\nKommunalförbundet", "", "arsredovisning"),
        ("Forvaltningsberittelse\n\nVerksamhetsidé", "", "arsredovisning"),
        ("Internkontrollplan 2023 Boråsregionen", "", "plan"),
        ("Budgetanvisningar 2027-2031", "", "plan"),
        ("Mål och uppdrag 2024", "", "plan"),
        ("Hej och välkommen till sommarlovet.", "", "ovrigt"),
        ("Några rader text.", "simrishamn_kfn_bokslut_2025.pdf", "arsredovisning"),
        ("Några rader text.", "nykarleby_stadsstyrelsen_foredragningslista_2022-09-26.pdf", "kallelse"),
    ],
)
def test_detect_doc_type(text: str, filename: str, expected: str) -> None:
    assert detect_doc_type(text, filename) == expected
    assert expected in DOC_TYPES


@pytest.mark.parametrize(("name", "expected"), sorted(SEEDS.items()))
def test_detect_doc_type_on_the_seeds(name: str, expected: str) -> None:
    path = seed_path(name)
    if path is None:
        pytest.skip("seed corpus not available")
    assert detect_doc_type(path.read_text(encoding="utf-8")) == expected


def test_full_meeting_packet() -> None:
    path = seed_path("004_c9f51c72f4352da0.txt")
    if path is None:
        pytest.skip("seed corpus not available")
    blocks = segment(pages_of(path.read_text(encoding="utf-8")), "kallelse")
    found = items(blocks)
    # The packet holds the extracts §§ 18, 23-29 and 31 of the presidium's §§ 17-32.
    assert sorted(found, key=int) == ["18", "23", "24", "25", "26", "27", "28", "29", "31"]
    assert {b.case_numbers for b in found["29"]} == {("RJL 2022/258",)}
    assert {b.date for bs in found.values() for b in bs} == {"2022-02-10"}
    assert found["18"][0].section == "Inkomna remisser, promemorior och motioner"


def test_metadata_from_the_text_and_the_sidecar(protocol_pages: list[Page]) -> None:
    meta = infer_metadata(protocol_pages, "rjl/2022/kallelse.txt", {})
    assert meta.doc_type == "kallelse"
    assert meta.date == "2022-02-23"
    assert meta.year == 2022
    assert meta.body == "Nämnd för arbetsmarknad, näringsliv och attraktivitet"
    assert meta.title == "Kallelse – Nämnd för arbetsmarknad, näringsliv och attraktivitet 2022-02-23"
    given = {
        "title": "Kallelse med handlingar",
        "publisher": "Region Jönköpings län",
        "year": 2021,
        "access_groups": ("public", "namnd"),
    }
    meta = infer_metadata(protocol_pages, "rjl/2022/kallelse.txt", given)
    assert (meta.title, meta.publisher, meta.year, meta.access_groups) == (
        "Kallelse med handlingar",
        "Region Jönköpings län",
        2021,
        ("public", "namnd"),
    )
    assert meta.date == "2022-02-23"


def test_metadata_of_a_page_labelled_protocol_and_a_report() -> None:
    pages = [Page(1, "Organ Välfärdsnämnden\nSammanträdestid 15.9.2022 kl. 18.00 – 19.37\n", "text", 1.0)]
    meta = infer_metadata(pages, "nykarleby/protokoll.pdf", {})
    assert (meta.doc_type, meta.body, meta.date, meta.year) == ("protokoll", "Välfärdsnämnden", "2022-09-15", 2022)
    report = pages_of(" 1 FÖRVALTNINGSBERÄTTELSE\n\nResultat 2012\nFörbundet redovisar 2012 ett överskott.\n")
    meta = infer_metadata(report, "sjuharad/arsredovisning_2012.txt", {})
    assert (meta.doc_type, meta.title, meta.date, meta.year) == ("arsredovisning", "Förvaltningsberättelse", None, 2012)


def test_a_body_the_document_is_addressed_to_is_not_its_author() -> None:
    pages = pages_of("Risk- och sårbarhetsanalys 2023-2026\nRapporterad till kommunstyrelsen 2024-01-15\n")
    assert infer_metadata(pages, "hagfors/rsa.pdf", {}).body is None
    pages = pages_of("Risk- och sårbarhetsanalys\nBeslutad av Kommunstyrelsen, 2023-08-29\n")
    assert infer_metadata(pages, "borlange/rsa.pdf", {}).body == "Kommunstyrelsen"
    pages = pages_of("Budgetanvisningar\nInbjudna: budgetberedningen, nämndernas presidium\n")
    assert infer_metadata(pages, "simrishamn/tidplan.pdf", {}).body is None
    pages = pages_of("Budgetanvisningar\nbudgetskrivelse för investeringsbudget och\nsamhällsplaneringsnämnden även\n")
    assert infer_metadata(pages, "simrishamn/tidplan.pdf", {}).body is None
    pages = pages_of("Kultur- och fritidsnämnden\nVerksamhetsberättelse 2025\n")
    assert infer_metadata(pages, "simrishamn/kfn.pdf", {}).body == "Kultur- och fritidsnämnden"
