from __future__ import annotations

import time
from pathlib import Path

import pytest

from indexer.sentences import goes_on, normalise_sentence, split_sentences, split_sentences_keep_whitespace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "structure"

ABBREVIATIONS = [
    "t.ex.",
    "bl.a.",
    "kl.",
    "s.k.",
    "fr.o.m.",
    "t.o.m.",
    "dvs.",
    "ca.",
    "nr.",
    "st.",
    "resp.",
    "jfr.",
    "enl.",
    "inkl.",
    "exkl.",
    "p.g.a.",
    "f.d.",
    "m.m.",
    "m.fl.",
    "o.s.v.",
]


@pytest.mark.parametrize("abbr", ABBREVIATIONS)
def test_an_abbreviation_does_not_end_a_sentence(abbr: str) -> None:
    text = f"Nämnden har {abbr} Beslutat om medel till projektet. Nästa mening börjar här."
    assert split_sentences(text) == [
        f"Nämnden har {abbr} Beslutat om medel till projektet.",
        "Nästa mening börjar här.",
    ]


@pytest.mark.parametrize(
    "middle",
    ["kapitel 2.1 Övergripande", "den 28.3.2023 Sammanträdet", "enligt § 23. Beslutet", "Kontakt K. Hermansson"],
)
def test_numbers_dates_sections_and_initials_do_not_end_a_sentence(middle: str) -> None:
    assert len(split_sentences(f"Se {middle} gäller nu. Slut.")) == 2


def test_real_boundaries() -> None:
    text = "Besöksnäringen har drabbats hårt av pandemin 2020–2022. Är organisationen momsskyldig? Ja! Klart."
    assert split_sentences(text) == [
        "Besöksnäringen har drabbats hårt av pandemin 2020–2022.",
        "Är organisationen momsskyldig?",
        "Ja!",
        "Klart.",
    ]


def test_soft_abbreviation_at_a_line_end_ends_the_sentence() -> None:
    assert split_sentences("Vi har träffat kommuner m.fl.\nNu börjar nästa.") == [
        "Vi har träffat kommuner m.fl.",
        "Nu börjar nästa.",
    ]


def test_headings_labels_and_bullets_are_their_own_units() -> None:
    text = (
        "Beslut\nPresidiet föreslår nämnden\n\n1. Bevilja Smålands Turism AB 2 000 000 kr\n"
        "2. Finansiering sker ur anslaget.\nTid: 2022-02-10 kl. 09:00\nPlats: Digitalt\n"
        "• Tjänsteskrivelse daterad 2022-02-09\n• Ansökan från Smålands Turism"
    )
    assert split_sentences(text) == [
        "Beslut",
        "Presidiet föreslår nämnden",
        "1. Bevilja Smålands Turism AB 2 000 000 kr",
        "2. Finansiering sker ur anslaget.",
        "Tid: 2022-02-10 kl. 09:00",
        "Plats: Digitalt",
        "• Tjänsteskrivelse daterad 2022-02-09",
        "• Ansökan från Smålands Turism",
    ]


def test_pdf_line_breaks_inside_a_sentence_are_joined() -> None:
    text = (
        "Enligt förbundsordningen kan Direktionen ta beslut om \n\natt förbundet ska ansvara för drift av "
        "verksamheter.\nRegion Jönköpings län, Västra Götalandsregionen och Region Skåne ingår\ndenna "
        "överenskommelse i syfte att reglera finansieringen."
    )
    assert split_sentences(text) == [
        "Enligt förbundsordningen kan Direktionen ta beslut om att förbundet ska ansvara för drift av verksamheter.",
        "Region Jönköpings län, Västra Götalandsregionen och Region Skåne ingår denna överenskommelse i syfte "
        "att reglera finansieringen.",
    ]


def test_a_sentence_whose_last_word_wrapped_to_its_own_line_is_one_sentence() -> None:
    text = (
        "Bildningsplan för Folkhögskolorna. Nämnden för arbetsmarknad, näringsliv och attraktivitet\n"
        "(ANA) antog bildningsplan för folkhögskolorna i december\n2020.\nKulturplanen gäller 2022–2024.\n"
        "Beslut\n1. Godkänna.\nRubrik:\n2021."
    )
    assert split_sentences(text) == [
        "Bildningsplan för Folkhögskolorna.",
        "Nämnden för arbetsmarknad, näringsliv och attraktivitet (ANA) antog bildningsplan för folkhögskolorna i "
        "december 2020.",
        "Kulturplanen gäller 2022–2024.",
        "Beslut",
        "1. Godkänna.",
        "Rubrik:",
        "2021.",
    ]


def test_words_broken_at_a_line_end_are_mended() -> None:
    assert normalise_sentence("Kontroll av räkenskaps-\ninformation") == "Kontroll av räkenskapsinformation"
    assert normalise_sentence("Vård-\noch omsorgscollege") == "Vård- och omsorgscollege"


def test_pieces_for_chunking_give_the_text_back() -> None:
    text = (FIXTURES / "protokollsutdrag_rjl_2022.txt").read_text(encoding="utf-8")
    assert "".join(split_sentences_keep_whitespace(text)) == text
    assert split_sentences_keep_whitespace("") == []


def test_fast_enough_for_a_whole_document() -> None:
    text = (FIXTURES / "protokollsutdrag_rjl_2022.txt").read_text(encoding="utf-8") * 40  # about 340 kB
    start = time.perf_counter()
    sentences = split_sentences(text)
    assert time.perf_counter() - start < 5.0
    assert len(sentences) > 1000


@pytest.mark.parametrize(
    ("prev_line", "line", "expected"),
    [
        ("Teckna licens hos UC för", "att ta fram gemensamma", True),
        ("att ta fram gemensamma", "listor och urval.", True),
        ("(ANA) antog bildningsplan för folkhögskolorna i december", "2020.", True),
        ("beslutar om skattesats, driftramar,", "Investerings- och exploateringsbudget", True),
        (
            "ANA 4.2.1 Runda idéer AB, konsult Avtal 21/115 2022-01-18 Ulrika Josefsson",
            "ANA 4.5.3 Servicebidrag",
            False,
        ),
        ("Dialog om folkhögskolornas roll pågår.", "Frågan kommer att diskuteras.", False),
        ("Följande gäller för", "• Alla verksamheter", False),
    ],
)
def test_a_line_goes_on_the_sentence_before_only_when_it_plainly_does(
    prev_line: str, line: str, expected: bool
) -> None:
    assert goes_on(prev_line, line) is expected
