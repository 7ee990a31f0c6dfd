from __future__ import annotations

import pytest

from indexer.casenumbers import (
    case_number_keys,
    find_case_numbers,
    is_case_number_line,
    normalise_case_number,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("RJL 2022/258", "RJL 2022/258"),
        ("Dnr RJL 2022/258", "RJL 2022/258"),
        ("Diarienummer: RJL 2022/0258", "RJL 2022/258"),
        ("Dnr 2022/258", "2022/258"),
        ("Diarienummer: 2022/258", "2022/258"),
        ("KS 2023:123", "KS 2023/123"),
        ("KS2023/123", "KS 2023/123"),
        ("Dnr. KS 2023.123", "KS 2023/123"),
        ("Dnr KS 2019-00345", "KS 2019/345"),
        ("NKBY/302/00.01.03.01/2022", "NKBY 2022/302"),
    ],
)
def test_variants_read_as_one_canonical_form(text: str, expected: str) -> None:
    assert find_case_numbers(text) == (expected,)


@pytest.mark.parametrize(
    "text",
    [
        "Tid: 2022-02-10 kl. 09:00",
        "Bevilja Smålands Turism AB 2 000 000 kr",
        "Enligt Kommunallagen (2017:725) 6 kap. § 6",
        "SFS 2017:725",
        "verksamhetsåret 2020/2021 och läsåret 2020/21",
        "Svar senast 24/2",
        "datum 2022/02/10",
        "2022.898 I Delprojekt av regeringsuppdrag",
        "KF 2023-05-10",
    ],
)
def test_dates_amounts_and_statutes_are_not_case_numbers(text: str) -> None:
    assert find_case_numbers(text) == ()


def test_a_bare_number_in_an_agenda_is_a_case_number() -> None:
    agenda = "10 Kulturrådets anslagsfördelning till\n\nKultursamverkansmodellen 2022\n2021/2017\n"
    assert find_case_numbers(agenda) == ("2021/2017",)


def test_found_in_order_without_repeats() -> None:
    text = "Beslut om RJL 2022/258. Se även KS 2019/0045 och RJL 2022/258 samt Dnr 2021/12."
    assert find_case_numbers(text) == ("RJL 2022/258", "KS 2019/45", "2021/12")


def test_keys_let_a_bare_number_meet_a_prefixed_one() -> None:
    assert case_number_keys("RJL 2022/258") == ("RJL 2022/258", "2022/258")
    assert case_number_keys("2022/258") == ("2022/258",)
    question = normalise_case_number("Dnr 2022/258")
    assert question is not None
    assert set(case_number_keys(question)) & set(case_number_keys("RJL 2022/258"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("rjl 2022/258", "RJL 2022/258"),
        ("Dnr. KS 2023.123", "KS 2023/123"),
        ("dnr 2022/258", "2022/258"),
        (" Diarienummer: RJL 2022/0258 ", "RJL 2022/258"),
        ("hej", None),
        ("", None),
    ],
)
def test_normalise_what_a_person_types(raw: str, expected: str | None) -> None:
    assert normalise_case_number(raw) == expected


def test_case_number_lines() -> None:
    assert is_case_number_line("Diarienummer: RJL 2022/258")
    assert is_case_number_line("NKBY/302/00.01.03.01/2022")
    assert not is_case_number_line("RJL 2022/258 Remiss av promemorian")
    assert not is_case_number_line("Beslut")
