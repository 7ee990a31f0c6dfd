"""Question types and clauses: what a question asks for, in Swedish and English."""

from __future__ import annotations

import pytest

from assistant.qtype import QuestionType, question_clauses, question_type


@pytest.mark.parametrize(
    ("question", "clauses"),
    [
        (
            "När påbörjades Navets stora till- och utbyggnad, och när invigdes Nya Navet?",
            ["När påbörjades Navets stora till- och utbyggnad", "när invigdes Nya Navet"],
        ),
        (
            "När rapporterades analysen till kommunstyrelsen, vem sammanställde den och vilket diarienummer har den?",
            ["När rapporterades analysen till kommunstyrelsen", "vem sammanställde den", "vilket diarienummer har den"],
        ),
        (
            "How many pupils did Navet meet in 2023, and what is the target?",
            ["How many pupils did Navet meet in 2023", "what is the target"],
        ),
        # "och" inside a name or between nouns does not start a question
        (
            "Vilka risker och hot mot dricksvattnet räknar RSA:n upp?",
            ["Vilka risker och hot mot dricksvattnet räknar RSA:n upp"],
        ),
        (
            "Hur stort var utfallet för Idrotts- och fritidsanläggning?",
            ["Hur stort var utfallet för Idrotts- och fritidsanläggning"],
        ),
    ],
)
def test_a_question_is_split_where_it_asks_a_new_question(question: str, clauses: list[str]) -> None:
    assert question_clauses(question) == clauses


def test_question_types_in_both_languages() -> None:
    assert question_type("Hur mycket beviljades Smålands Turism?") is QuestionType.AMOUNT
    assert question_type("How many participant weeks did the school have?") is QuestionType.COUNT
    assert question_type("Vem kontrollerar handkassan?") is QuestionType.WHO
    assert question_type("Hur ofta kontrolleras delegationsordningen?") is QuestionType.PROCESS
