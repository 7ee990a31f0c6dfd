"""Composition: the best units only, each with its [n]; lists up to ten items with "och N till"; a table row with
its header; decisions led by body, date, § and case number in the passage's own words."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from assistant.compose import MAX_LIST_ITEMS, Composer, text_hit
from assistant.types import Hit
from assistant.verify import verify
from indexer.schema import Chunk, DocumentMeta


def table_hit(rows: str, title: str) -> Hit:
    """A table passage, one row a line, as the indexer stores a table's rows."""
    hit = text_hit(rows, title)
    return replace(hit, chunk=replace(hit.chunk, kind="table_row"))


def test_a_list_question_gets_one_line_per_item_and_the_rest_counted() -> None:
    items = "\n".join(f"- Projektet Grön omställning {i} beviljades stöd med {i * 10} 000 kr." for i in range(1, 15))
    hit = text_hit("Följande projekt beviljades stöd under 2022:\n" + items, "Beslut om projektstöd 2022")
    comp = Composer().compose("Vilka projekt beviljades stöd 2022?", [hit], "sv")
    lines = comp.text.splitlines()
    assert len(lines) == MAX_LIST_ITEMS + 1
    assert all(line.startswith("- ") and line.endswith("[1]") for line in lines[:-1])
    assert re.fullmatch(r"och \d+ till\.", lines[-1])
    assert "- - " not in comp.text


def test_a_number_asked_of_a_table_is_its_row_with_the_header() -> None:
    hit = table_hit("Kostnad per år (tkr)\nPersonal 4 500\nLokaler 1 200\nIT-stöd 800", "Budget 2023")
    comp = Composer().compose("Hur mycket kostar personalen per år?", [hit], "sv")
    assert comp.text.count("[1]") == 1
    assert comp.text.startswith("Kostnad per år (tkr): ") and "4 500" in comp.text


def test_a_decision_reads_as_one_with_its_own_verb() -> None:
    meta = DocumentMeta(title="Protokoll 2022-02-10", body="Presidiet", date="2022-02-10")
    text = "Presidiet föreslår nämnden\n1. Avslå ansökan från Föreningen Exempel om 50 000 kr.\n2. Informera sökanden."
    chunk = Chunk(
        "d",
        3,
        text,
        2,
        2,
        meta,
        "d.txt",
        kind="paragraph",
        paragraph="12",
        part="Beslut",
        case_numbers=("RJL 2022/99",),
        date="2022-02-10",
    )
    comp = Composer().compose("Vad beslutade presidiet om Föreningen Exempels ansökan?", [Hit(chunk, 1.0, 1)], "sv")
    first = comp.text.splitlines()[0]
    assert first.startswith("Presidiet, 2022-02-10, § 12, RJL 2022/99: ")
    assert "Avslå ansökan" in comp.text and "bevilja" not in comp.text.lower()
    assert all(line.rstrip().endswith("[1]") for line in comp.text.splitlines())


def test_a_fact_from_a_protocols_paragraph_says_which_body_date_and_paragraph() -> None:
    meta = DocumentMeta(title="Protokoll 2022-02-10", body="Presidiet", date="2022-02-10")
    text = (
        "Projektet InsTrä ägs och drivs sedan 2020-01-01 av Träcentrum Nässjö Kompetensutveckling AB.\n"
        "Projektets totala kostnad uppgår till 1 110 800 kr för hela projektperioden."
    )
    chunk = Chunk("d", 4, text, 3, 3, meta, "d.txt", kind="paragraph", paragraph="25", case_numbers=("RJL 2019/1998",))
    comp = Composer().compose("How much does the InsTrä project cost in total?", [Hit(chunk, 1.0, 1)], "en")
    assert comp.text.startswith("Presidiet, 2022-02-10, § 25, RJL 2019/1998: ")
    assert "1 110 800 kr" in comp.text

    plain = replace(chunk, kind="prose", paragraph=None, case_numbers=())
    comp = Composer().compose("How much does the InsTrä project cost in total?", [Hit(plain, 1.0, 1)], "en")
    assert not comp.text.startswith("Presidiet") and "1 110 800 kr" in comp.text


def test_a_lead_in_that_ends_in_a_colon_brings_the_items_it_announces() -> None:
    text = (
        "Personalsektionen behandlade sina mötestider.\n"
        "Sammanträdesdatum för hösten 2023 fastställdes enligt följande:\n4.9.2023\n23.10.2023\n27.11.2023\n"
        "Protokollet justeras vid nästa möte."
    )
    comp = Composer().compose("Vilka sammanträdesdatum fastställdes för hösten 2023?", [text_hit(text)], "sv")
    assert all(date in comp.text for date in ("4.9.2023", "23.10.2023", "27.11.2023"))
    assert "justeras" not in comp.text  # prose after the items is not one of them

    directives = (
        "Stadsstyrelsen föreslår för fullmäktige följande budgetdirektiv:\n"
        "- Årsbidraget ska vara minst 3,6 miljoner euro.\n- Investeringarna hålls på en nivå som kan finansieras.\n"
        "- Personalkostnaderna ökar högst 2 procent.\n"
        "Ärendet bereddes av stadsdirektören som i sitt förslag gick igenom det ekonomiska läget."
    )
    comp = Composer().compose("Vilka budgetdirektiv föreslog stadsstyrelsen?", [text_hit(directives)], "sv")
    assert all(item in comp.text for item in ("3,6 miljoner euro", "Investeringarna", "högst 2 procent"))


def test_a_written_table_cell_answers_with_its_whole_row_and_no_other() -> None:
    rows = (
        "Stöd till studieorganisationer – Driftredovisning – Budget 2025: -400\n"
        "Stöd till studieorganisationer – Driftredovisning – Utfall 2025: -377\n"
        "Museum/konsthall – Driftredovisning – Budget 2025: -8 603\n"
        "Museum/konsthall – Driftredovisning – Utfall 2025: -8 417\n"
        "Museum/konsthall – Driftredovisning – Återstår: 186\n"
        "Idrotts- och fritidsanläggning – Driftredovisning – Utfall 2025: -24 835"
    )
    hit = table_hit(rows, "Verksamhetsberättelse 2025")
    question = "Vad är utfallet 2025 för raden Museum/konsthall i driftredovisningen, och hur mycket återstår?"
    comp = Composer().compose(question, [hit], "sv")
    assert "-8 417" in comp.text and "186" in comp.text and "-8 603" in comp.text
    assert "studieorganisationer" not in comp.text and "Idrotts" not in comp.text


def test_the_lead_before_a_numbered_decision_item_survives_the_check() -> None:
    meta = DocumentMeta(title="Kallelse med handlingar, Nämnd för arbetsmarknad", body="Nämnden", date="2022-02-10")
    text = (
        "1. Bevilja Träcentrum Nässjö Kompetensutveckling AB, 277 700 kr, under förutsättning att övrig "
        "medfinansiering infrias.\n2. Finansiering sker ur det statliga anslaget 1:1."
    )
    chunk = Chunk(
        "d", 9, text, 51, 51, meta, "d.txt", kind="paragraph", paragraph="25", case_numbers=("RJL 2019/1998",)
    )
    hits = [Hit(chunk, 1.0, 1)]
    comp = Composer().compose("How much was Träcentrum Nässjö proposed to receive for InsTrä?", hits, "en")
    checked = verify(comp.text, hits).text
    assert checked.startswith("Nämnden, 2022-02-10, § 25, RJL 2019/1998: Bevilja Träcentrum")
    assert "277 700 kr" in checked


def test_the_first_of_a_passages_labelled_rows_is_a_row_not_a_header() -> None:
    rows = (
        "Granskningsområde: Handkassa; Kontrollmoment: Handkassan ska vara korrekt; Frekvens: 2 ggr/år; "
        "Kontrollansvarig: Ekonom Navet\n"
        "Granskningsområde: Behörighetsrutiner IT; Kontrollmoment: Att behörigheter är korrekta; "
        "Frekvens: 1 gång/år; Kontrollansvarig: Administrativ chef"
    )
    hit = table_hit(rows, "Internkontrollplan 2023")
    comp = Composer().compose("Vem kontrollerar handkassan, och hur ofta?", [hit], "sv")
    assert comp.text.startswith("Granskningsområde: Handkassa;") and "Ekonom Navet" in comp.text


def test_an_agendas_first_item_is_a_row_not_a_header() -> None:
    rows = (
        "1 Upprop och val av protokollsjusterare\n"
        "2 Ekonomisk uppföljning efter oktober 2022\n"
        "3 Inkomna remisser, promemorior och motioner"
    )
    hit = table_hit(rows, "Protokoll 2022-11-24")
    comp = Composer().compose("Vilket ärende på dagordningen gällde val av protokollsjusterare?", [hit], "sv")
    assert "Upprop och val av protokollsjusterare" in comp.text
    comp = Composer().compose("Vilket ärende gällde inkomna remisser och motioner?", [hit], "sv")
    assert "Inkomna remisser" in comp.text
    assert "protokollsjusterare:" not in comp.text


def test_a_table_cells_wrapped_lines_are_quoted_as_one_sentence() -> None:
    rows = (
        "Aktiviteter Analys\n"
        "Identifiera folkhögskolornas roll. Dialog om folkhögskolornas roll pågår.\n"
        "Nämnden för arbetsmarknad, näringsliv och attraktivitet\n"
        "(ANA) antog bildningsplan för folkhögskolorna i december\n"
        "2020.\n"
        "Strategiska mål: alla länsinvånare ska ha möjlighet att vara delaktiga i kulturlivet."
    )
    hit = table_hit(rows, "Verksamhetsberättelse 2021")
    comp = Composer().compose("När antog nämnden bildningsplanen för folkhögskolorna?", [hit], "sv")
    assert "folkhögskolorna i december 2020. [1]" in comp.text
    assert verify(comp.text, [hit]).text.count("[1]") == comp.text.count("[1]")


def test_a_tables_rows_are_never_run_together() -> None:
    rows = "1 Upprop och val av protokollsjusterare\n2 Ekonomisk uppföljning efter oktober 2022"
    comp = Composer().compose("Vilket ärende gällde ekonomisk uppföljning?", [table_hit(rows, "Protokoll")], "sv")
    assert "protokollsjusterare 2 Ekonomisk" not in comp.text
    rows = (
        "Delegationsbeslut Beslut Datum Handläggare\n"
        "ANA 4.2.1 Runda idéer AB, konsult Avtal 21/115 2022-01-18 Ulrika Josefsson\n"
        "ANA 4.5.3 Servicebidrag Annebergs servicebutik RJL 2022/98 2022-01-19 Karin Hermansson"
    )
    comp = Composer().compose(
        "Vem beslutade om servicebidraget till Annebergs servicebutik?", [table_hit(rows, "Delegation")], "sv"
    )
    assert "Karin Hermansson" in comp.text and "Josefsson ANA" not in comp.text


def test_a_question_that_asks_two_things_gets_an_answer_to_each() -> None:
    text = (
        "Rapporten om risk- och sårbarhetsanalysen rapporterades till kommunstyrelsen 2024-01-15.\n"
        "Analysen rapporterades också till länsstyrelsen i Värmland samma månad.\n"
        "Kommunstyrelsen tog emot rapporten om analysen utan invändningar.\n"
        "Risk- och sårbarhetsanalysen har sammanställts av Räddningstjänsten.\n"
        "Arbetet följer MSB:s föreskrifter om risk- och sårbarhetsanalyser."
    )
    question = "När rapporterades risk- och sårbarhetsanalysen till kommunstyrelsen, och vem sammanställde den?"
    comp = Composer().compose(question, [text_hit(text)], "sv")
    assert "2024-01-15" in comp.text and "Räddningstjänsten" in comp.text
    assert "MSB" not in comp.text


def test_the_second_part_of_a_question_is_not_answered_from_another_passage() -> None:
    remiss = text_hit(
        "Remiss av promemorian Parkering av elsparkcyklar ska besvaras senast 25 april.\n"
        "Remissen kom från Infrastrukturdepartementet.",
        "Remisser",
    )
    other = text_hit("Diarienummer: RJL 2022/258\nStöttning besöksnäring 2022.", "Protokoll")
    question = "När ska remissen om parkering av elsparkcyklar besvaras, och vilket diarienummer har den?"
    comp = Composer().compose(question, [remiss, other], "sv")
    assert "25 april" in comp.text and "RJL 2022/258" not in comp.text


def _report(year: int, text: str) -> Hit:
    hit = text_hit(text, f"Årsredovisning {year}")
    return replace(hit, chunk=replace(hit.chunk, doc_id=f"ar{year}", meta=replace(hit.chunk.meta, year=year)))


def test_a_question_about_two_years_is_answered_for_each_from_its_own_report() -> None:
    hits = [
        _report(
            2012,
            "Medarbetarcentrum hade ett år med många samtal.\n"
            "87 individer har kommit till någon form av positiv förändring under året.\n"
            "Lokalerna på Skolgatan renoverades under hösten.",
        ),
        _report(
            2013,
            "Verksamheten växte och fler kommuner anslöt sig.\n"
            "Under året fick 107 personer ett nytt jobb, bytte tjänst eller började studera.\n"
            "Styrelsen sammanträdde sex gånger.",
        ),
    ]
    question = "Hur många individer kom till positiv förändring via Medarbetarcentrum 2012 respektive 2013?"
    comp = Composer().compose(question, hits, "sv")
    assert "87 individer" in comp.text and "107 personer" in comp.text
    assert "Skolgatan" not in comp.text and "sex gånger" not in comp.text


def _step(ordinal: int, text: str, part: str) -> Hit:
    meta = DocumentMeta(title="Protokoll Välfärdsnämnden 15.9.2022", body="Välfärdsnämnden", date="2022-09-15")
    chunk = Chunk(
        doc_id="vfn",
        ordinal=ordinal,
        text=text,
        page_start=12,
        page_end=12,
        meta=meta,
        source="vfn.pdf",
        paragraph="45",
        part=part,
        date="2022-09-15",
    )
    return Hit(chunk, 1.0 / (ordinal + 1), ordinal + 1)


BACKGROUND = (
    "Välfärdsnämnden har tillsatt en arbetsgrupp för rusmedelsförebyggande arbete.\n"
    "Arbetsgruppen har kallats till möte 7.6.2022."
)
PROPOSAL = (
    "Bildningsdirektör Teresia Tötterman-Engströms förslag:\n"
    "Carina Ventin sammankallar arbetsgruppen till ett möte ännu i höst.\n"
    "Vid förhinder utses Katarina Östman till sammankallare."
)


def test_a_decision_that_says_as_proposed_brings_the_proposal_it_adopts() -> None:
    hits = [
        _step(1, "Välfärdsnämndens beslut:\nEnligt förslag.", "Beslut"),
        _step(0, BACKGROUND + "\n" + PROPOSAL, "Förslag till beslut"),
    ]
    comp = Composer().compose("Vad beslutade välfärdsnämnden om arbetsgruppen för rusmedelsförebyggande arbete?", hits)
    assert "Enligt förslag" in comp.text
    assert "Carina Ventin" in comp.text and "Katarina Östman" in comp.text
    checked = verify(comp.text, hits).text  # the checker keeps what stands in its cited passage
    assert "Carina Ventin" in checked and "Enligt förslag" in checked


def test_a_chosen_proposal_brings_the_decision_that_follows_it() -> None:
    hits = [
        _step(
            0,
            "Ordförande Emilia Haverinens förslag:\nFöreslås att ungdomsfullmäktige väljer vice ordförande.",
            "Förslag till beslut",
        ),
        _step(
            1,
            "Ungdomsfullmäktiges beslut:\nFöreslås för stadsstyrelsen att Evelina Sundvik väljs till vice ordförande.",
            "Beslut",
        ),
    ]
    comp = Composer().compose("Vem valdes till vice ordförande i ungdomsfullmäktige?", hits)
    assert "Evelina Sundvik" in comp.text


def test_a_list_decided_as_proposed_lists_the_proposals_items() -> None:
    hits = [
        _step(
            1,
            "Välfärdsnämndens beslut:\nMötesdatumen för år 2022 fastställdes enligt förslag.\n"
            "Protokollet publiceras på www.nykarleby.fi torsdagar veckan efter mötet.",
            "Beslut",
        ),
        _step(
            0,
            "Tf välfärdschef Heidi Kronqvists förslag:\n"
            "Välfärdsnämndens mötesdatum för år 2022 fastställs enligt följande:\n"
            "- Måndag 10.1.2022 kl. 18.00\n- Torsdag 31.3.2022 kl. 18.00\n- Torsdag 19.5.2022 kl. 18.00",
            "Förslag till beslut",
        ),
    ]
    comp = Composer().compose("Vilka mötesdatum fastställde välfärdsnämnden för 2022?", hits)
    assert "fastställdes enligt förslag" in comp.text
    assert all(d in comp.text for d in ("10.1.2022", "31.3.2022", "19.5.2022")), comp.text


def test_a_list_question_lists_the_rows_that_answer_it_across_passages(assistant: Any) -> None:
    """The fixture plan has a dozen controls whose Kontrollansvarig is Administrativ chef, over three passages."""
    answer = assistant.ask("Vilka kontroller gör administrativ chef i internkontrollplanen?")
    items = [line for line in answer.text.splitlines() if line.startswith("- ")]
    assert len(items) >= 5 and all("Administrativ chef" in line for line in items)
    assert len(answer.citations) >= 2


def test_a_sentence_that_points_back_is_read_with_the_sentence_it_points_to() -> None:
    from assistant.compose import _with_antecedents, in_reading_order
    from assistant.select import Candidate, Scored

    texts = [
        "I kassan registrerar butikssäljaren kundernas köp.",
        "Kassaarbete kan medföra belastning på armar, axlar och nacke.",
        "Därför förekommer arbetsrotation i vissa butiker.",
    ]
    scored = [Scored(Candidate(t, 0, i, len(texts)), float(-i)) for i, t in enumerate(texts)]
    chosen = in_reading_order(_with_antecedents([scored[2]], scored))
    assert [s.candidate.text for s in chosen] == texts[1:]
    # a sentence that stands on its own is not given its neighbour
    assert _with_antecedents([scored[1]], scored) == [scored[1]]


def test_how_many_units_an_answer_takes_is_chosen_for_archive_questions_as_well_as_single_spans() -> None:
    import numpy as np

    from assistant.compose import choose_compose_params
    from assistant.select import Candidate
    from assistant.selector_data import Example

    def cands(*texts: str) -> list[Candidate]:
        return [Candidate(t, 0, i, len(texts)) for i, t in enumerate(texts)]

    # a SweQUAD-MC question whose span is in the best unit: one unit holds it, whatever the margin
    span = Example("s", "t", "Vad kostar boken?", [], [1, 0], answer="100 kr")
    span_units = cands("Boken kostar 100 kr.", "Den finns i shoppen.")
    # an archive question with two key facts in two units, the second 4 behind the first
    fact = Example("a", "gold:doc", "Hur många anställda och extrapersonal?", [], [1, 1], facts=("18", "20"))
    fact_units = cands("Personalen består av 18 personer.", "Därtill har 20 personer arbetat extra.", "Annat.")
    margins = [np.array([5.0, 0.0]), np.array([6.0, 2.0, -3.0])]
    alone, _ = choose_compose_params([span], [span_units], margins[:1])
    both, report = choose_compose_params([span, fact], [span_units, fact_units], margins)
    assert alone["delta"] < 4.0  # nothing in single spans asks for a second unit this far behind
    assert both["delta"] >= 4.0 and report["compose_cv_archive_held"] == 1.0 and report["compose_cv_held"] == 1.0
