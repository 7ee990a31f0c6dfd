"""The offline answerer: it answers from the passages, cites every line, and says nothing when they do not answer."""

from __future__ import annotations

import re

import pytest

from assistant.extractive import ExtractiveAnswerer
from assistant.qtype import QuestionType, detect_language, question_type
from assistant.types import Hit
from assistant.verify import verify
from indexer.schema import Chunk, DocumentMeta

PROTOCOL = DocumentMeta(
    title="Protokoll Nämnd för arbetsmarknad, näringsliv och attraktivitet 2022-02-10",
    doc_type="protokoll",
    body="Nämnd för arbetsmarknad, näringsliv och attraktivitet",
    date="2022-02-10",
    year=2022,
)
PLAN = DocumentMeta(title="Internkontrollplan 2023 Boråsregionen", doc_type="internkontrollplan", date="2023-01-20")

P23 = """Justerare, signatur

Överenskommelse – interregionalt samarbete
ShareMusic and Performing Arts
Diarienummer: RJL 2022/258

Beslut
Nämnden beslutar att bevilja 500 000 kronor till ShareMusic and Performing Arts för
verksamhetsåret 2022.

Sammanfattning
Region Jönköpings län, Västra Götalandsregionen och Region Skåne ingår denna överenskommelse i
syfte att reglera den gemensamma finansieringen av ShareMusic and Performing Arts. Överenskommelsen
gäller tills vidare och kan sägas upp med 12 månaders varsel.

Beslutsunderlag
• Tjänsteskrivelse daterad 2022-02-01

Sidan 1 av 2
"""

P24 = """Projekt – Growing green
Diarienummer: RJL 2022/49

Beslut
Presidiet föreslår nämnden
1. Bevilja Almi Företagspartner 1 157 500 kr för att bedriva projektet Growing Green, under
förutsättning att övrig finansiering infrias.
2. Finansiering sker ur det statliga anslaget 1:1.

Sammanfattning
Hållbarhetsfrågans alla dimensioner är idag central för länets näringslivs utveckling.
"""

P25 = """Projekt – Unga akademiker
Diarienummer: RJL 2022/56
Monica Samuelsson (KD) anmäler jäv och deltar inte i handläggningen av ärendet.

Beslut
Presidiet föreslår nämnden
1. Bevilja Nuvab Näringslivsutveckling i Vetlanda AB 640 000 kr, under förutsättning att
övrig medfinansiering infrias.
2. Finansiering sker ur det statliga anslaget 1:1.
"""

P26 = """Anmälan av delegationsbeslut
Diarienummer: RJL 2022/2

Beslut
Anmälan av delegationsbeslut läggs till handlingarna.
"""

P31 = """Kurser och konferenser

Beslut
Presidiet beslutar om deltagande vid följande kurser och konferenser:
• Folkhögskoleföreningens årsmöte den 11 mars i Stockholm.
Presidiet beslutar att Gun Lusth (M) ges möjlighet att delta.
• Europaforum den 12-13 maj i Falkenberg.
Presidiet återkommer med beslut om deltagande när programmet är klart.

Beslutet skickas till
Nämnd för arbetsmarknad, näringsliv och attraktivitet
"""

ROW_INVOICES = (
    "Granskningsområde: Redovisning; Kontrollmoment: Kontroll av leverantörsfakturor och kontering; "
    "Kontrollmetod: Stickprov; Frekvens: 2 ggr/år; Kontrollansvarig: Administrativ chef"
)
ROW_ATTEST = (
    "Granskningsområde: Attesträtt; Kontrollmoment: Namnprover över attestanter ska upprättas inför varje "
    "räkenskapsår; Kontrollmetod: Genomgång; Frekvens: 1 gång/år; Kontrollansvarig: Förbundsdirektör"
)

MARKER = re.compile(r"\[(\d+)\]")


def paragraph(number: str, text: str, case: str, title: str, ordinal: int) -> Chunk:
    return Chunk(
        doc_id="protokoll-2022-02-10",
        ordinal=ordinal,
        text=text,
        page_start=1,
        page_end=2,
        meta=PROTOCOL,
        source="region/2022/protokoll-2022-02-10.pdf",
        kind="paragraph",
        section=title,
        paragraph=number,
        case_numbers=(case,),
        date="2022-02-10",
    )


def row(text: str, ordinal: int) -> Chunk:
    return Chunk(
        doc_id="internkontrollplan-2023",
        ordinal=ordinal,
        text=text,
        page_start=1,
        page_end=1,
        meta=PLAN,
        source="borasregionen/2023/internkontrollplan-2023.pdf",
        kind="table_row",
        section="Ekonomi och administration",
        date="2023-01-20",
    )


SHAREMUSIC = "Överenskommelse – interregionalt samarbete ShareMusic and Performing Arts"
CHUNKS = {
    "p23": paragraph("23", P23, "RJL 2022/258", SHAREMUSIC, 1),
    "p24": paragraph("24", P24, "RJL 2022/49", "Projekt – Growing green", 2),
    "p25": paragraph("25", P25, "RJL 2022/56", "Projekt – Unga akademiker", 3),
    "p26": paragraph("26", P26, "RJL 2022/2", "Anmälan av delegationsbeslut", 4),
    "p31": paragraph("31", P31, "RJL 2022/3", "Kurser och konferenser", 5),
    "invoices": row(ROW_INVOICES, 10),
    "attest": row(ROW_ATTEST, 11),
}


def hits(*names: str) -> list[Hit]:
    return [Hit(CHUNKS[name], 0.9 - 0.05 * i, i + 1) for i, name in enumerate(names)]


@pytest.fixture(scope="module")
def answerer() -> ExtractiveAnswerer:
    return ExtractiveAnswerer()


def ask(answerer: ExtractiveAnswerer, question: str, found: list[Hit]) -> str:
    return answerer.answer(question, found, detect_language(question))


def assert_cited_and_verified(text: str, found: list[Hit]) -> None:
    """Every line carries a marker (a list's lead-in aside), and the verifier removes nothing."""
    for line in text.splitlines():
        if line.strip() and not line.rstrip().endswith(":"):
            assert MARKER.search(line), line
    checked = verify(text, found)
    assert checked.removed == (), checked.removed
    assert checked.citations


def test_amount_question_gets_the_amount_with_its_source(answerer: ExtractiveAnswerer) -> None:
    found = hits("p23", "p24", "p26")
    text = ask(answerer, "Hur mycket pengar beviljade nämnden till ShareMusic and Performing Arts?", found)
    lead = text.splitlines()[0]
    assert "500 000 kronor" in lead
    assert "[1]" in lead
    assert "§ 23" in lead and "RJL 2022/258" in lead
    assert_cited_and_verified(text, found)


def test_amount_from_a_numbered_decision_item_keeps_who_proposed_it(answerer: ExtractiveAnswerer) -> None:
    found = hits("p25", "p24", "p23")
    text = ask(answerer, "Hur mycket föreslås Almi Företagspartner få för Growing Green?", found)
    lead = text.splitlines()[0]
    assert "1 157 500 kr" in lead
    assert lead.startswith("Presidiet föreslår nämnden att bevilja Almi")
    assert "[2]" in lead
    assert_cited_and_verified(text, found)


def test_when_question_gets_the_meeting_date(answerer: ExtractiveAnswerer) -> None:
    found = hits("p23", "p26")
    text = ask(answerer, "När beslutade nämnden om överenskommelsen med ShareMusic?", found)
    assert "2022-02-10" in text.splitlines()[0]
    assert_cited_and_verified(text, found)


def test_when_question_prefers_a_date_in_the_text(answerer: ExtractiveAnswerer) -> None:
    found = hits("p31", "p23")
    text = ask(answerer, "När hålls Folkhögskoleföreningens årsmöte?", found)
    assert "11 mars" in text.splitlines()[0]
    assert_cited_and_verified(text, found)


def test_who_question_on_a_table_row_gets_the_responsible_role(answerer: ExtractiveAnswerer) -> None:
    found = hits("attest", "invoices")
    text = ask(answerer, "Vem är kontrollansvarig för kontrollen av leverantörsfakturor?", found)
    lead = text.splitlines()[0]
    assert "Kontrollansvarig: Administrativ chef" in lead
    assert "[2]" in lead
    assert_cited_and_verified(text, found)


def test_how_often_question_on_a_table_row_gets_the_frequency(answerer: ExtractiveAnswerer) -> None:
    found = hits("invoices", "attest")
    text = ask(answerer, "Hur ofta kontrolleras leverantörsfakturorna?", found)
    lead = text.splitlines()[0]
    assert "2 ggr/år" in lead
    assert "Administrativ chef" in lead
    assert_cited_and_verified(text, found)


def test_who_question_on_prose_gets_the_person(answerer: ExtractiveAnswerer) -> None:
    found = hits("p25", "p24")
    text = ask(answerer, "Vem anmälde jäv i ärendet om Unga akademiker?", found)
    assert "Monica Samuelsson (KD)" in text.splitlines()[0]
    assert_cited_and_verified(text, found)


def test_list_question_lists_every_matching_paragraph(answerer: ExtractiveAnswerer) -> None:
    found = hits("p25", "p26", "p24", "p31")
    text = ask(answerer, "Vilka projekt föreslog presidiet att bevilja pengar till?", found)
    lines = text.splitlines()
    items = [line for line in lines if line.startswith("- ")]
    assert any("§ 24" in line and "1 157 500 kr" in line for line in items)
    assert any("§ 25" in line and "640 000 kr" in line for line in items)
    assert not any("§ 26" in line for line in items)
    assert all(MARKER.search(line) for line in items)
    assert_cited_and_verified(text, found)


def test_list_question_on_a_bulleted_decision_lists_its_items(answerer: ExtractiveAnswerer) -> None:
    found = hits("p31", "p23")
    text = ask(answerer, "Vilka kurser och konferenser beslutade presidiet om?", found)
    items = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(items) == 2
    assert "Folkhögskoleföreningens årsmöte den 11 mars i Stockholm" in items[0]
    assert "Europaforum den 12-13 maj i Falkenberg" in items[1]
    assert_cited_and_verified(text, found)


def test_english_question_gets_an_english_lead_and_swedish_quotes(answerer: ExtractiveAnswerer) -> None:
    found = hits("p23", "p24")
    question = "How much did the committee grant to ShareMusic and Performing Arts?"
    assert detect_language(question) == "en"
    text = answerer.answer(question, found, "en")
    lead = text.splitlines()[0]
    assert lead.startswith("According to § 23")
    assert "500 000 kronor" in lead
    assert "Nämnden beslutar att bevilja 500 000 kronor" in text
    assert_cited_and_verified(text, found)


def test_unrelated_question_gets_no_answer(answerer: ExtractiveAnswerer) -> None:
    found = hits("p23", "p24", "invoices")
    assert ask(answerer, "Hur många elever går i simskola i Göteborg?", found) == ""
    assert ask(answerer, "What does a parking permit cost in Malmö?", found) == ""


def test_question_about_something_the_passages_never_mention_gets_no_answer(answerer: ExtractiveAnswerer) -> None:
    found = hits("p23", "p24", "p25")
    assert ask(answerer, "Vad beslutade nämnden om vindkraften?", found) == ""
    assert ask(answerer, "Hur mycket pengar beviljade nämnden till ShareMusic i Norge?", found) == ""


def test_amount_question_without_any_amount_in_the_passages_gets_no_answer(answerer: ExtractiveAnswerer) -> None:
    found = hits("p25", "p31")
    assert ask(answerer, "Hur mycket kostar Folkhögskoleföreningens årsmöte?", found) == ""


def test_no_hits_no_answer(answerer: ExtractiveAnswerer) -> None:
    assert answerer.answer("Hur mycket beviljades?", [], "sv") == ""


def test_page_furniture_never_shows(answerer: ExtractiveAnswerer) -> None:
    found = hits("p23")
    text = ask(answerer, "Vad gäller för överenskommelsen om ShareMusic and Performing Arts?", found)
    assert text
    assert "Sidan 1 av 2" not in text and "Justerare" not in text


def test_answers_stay_short(answerer: ExtractiveAnswerer) -> None:
    found = hits("p23", "p24", "p25", "p31")
    text = ask(answerer, "Vad beslutade nämnden om ShareMusic and Performing Arts?", found)
    assert 0 < len(text.split()) <= 130


def test_stream_gives_the_same_answer_in_pieces(answerer: ExtractiveAnswerer) -> None:
    found = hits("p23", "p24")
    question = "Vad beslutade nämnden om ShareMusic and Performing Arts?"
    pieces = list(answerer.stream(question, found, "sv"))
    assert len(pieces) >= 1
    assert "".join(pieces) == answerer.answer(question, found, "sv")


def test_name_is_extractive() -> None:
    assert ExtractiveAnswerer.name == "extractive"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Hur mycket pengar beviljades Smålands Turism?", QuestionType.AMOUNT),
        ("Vilket belopp fick ShareMusic?", QuestionType.AMOUNT),
        ("Vad kostar projektet?", QuestionType.AMOUNT),
        ("How much did the committee grant?", QuestionType.AMOUNT),
        ("När beslutade nämnden om budgeten?", QuestionType.DATE),
        ("Vilket datum hölls sammanträdet?", QuestionType.DATE),
        ("When was the agreement approved?", QuestionType.DATE),
        ("Vem är kontrollansvarig för attesträtt?", QuestionType.WHO),
        ("Vilken nämnd ansvarar för kulturen?", QuestionType.WHO),
        ("Vilka personer anmälde jäv?", QuestionType.WHO),
        ("Who is responsible for the internal control?", QuestionType.WHO),
        ("Vilka projekt beviljades medel?", QuestionType.LIST),
        ("Lista alla beslut om projekt 2022", QuestionType.LIST),
        ("Which projects were granted money?", QuestionType.LIST),
        ("Hur många ärenden behandlades?", QuestionType.COUNT),
        ("How many decisions were made?", QuestionType.COUNT),
        ("Hur ofta kontrolleras leverantörsfakturorna?", QuestionType.PROCESS),
        ("Hur går uppföljningen av internkontrollen till?", QuestionType.PROCESS),
        ("How often are invoices checked?", QuestionType.PROCESS),
        ("Vad beslutade nämnden om ShareMusic?", QuestionType.DECISION),
        ("What did the board decide about the library plan?", QuestionType.DECISION),
        ("Har nämnden godkänt överenskommelsen?", QuestionType.YESNO),
        ("Did the presidium approve the agreement?", QuestionType.YESNO),
        ("Berätta om regionens kulturplan", QuestionType.OTHER),
    ],
)
def test_question_type(question: str, expected: QuestionType) -> None:
    assert question_type(question) is expected


def test_question_type_prints_as_its_name() -> None:
    assert str(question_type("Vilka projekt beviljades?")) == "list"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hur mycket pengar beviljades Smålands Turism?", "sv"),
        ("Vad beslutade nämnden den 10 februari?", "sv"),
        ("Vem är kontrollansvarig?", "sv"),
        ("How much money did Smålands Turism get?", "en"),
        ("What did the presidium decide about Växjö?", "en"),
        ("Who is responsible for the internal control plan?", "en"),
        ("ShareMusic", "sv"),
        ("", "sv"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language
