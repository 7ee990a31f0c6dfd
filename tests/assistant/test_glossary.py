"""An English question reads its words together with the Swedish words the archive uses for them."""

from __future__ import annotations

from assistant.compose import Composer
from assistant.glossary import swedish_equivalents, swedish_terms
from assistant.retrieve import lexical_query
from assistant.select import Question, load_selector


def test_an_inflected_english_word_finds_its_swedish_words_by_its_lemma() -> None:
    assert "inköp" in swedish_equivalents("purchases")
    assert "leverantör" in swedish_equivalents("Suppliers")
    assert "besluta" in swedish_equivalents("decided")
    assert swedish_equivalents("the") == () and swedish_equivalents("Smålands") == ()


def test_a_two_word_term_finds_the_swedish_compound() -> None:
    terms = swedish_terms("How many personal data breaches were reported in the annual report?")
    assert {"personuppgift", "incident", "årsredovisning", "antal"} <= set(terms)
    assert len(terms) == len(set(terms))


def test_months_are_named_in_swedish_but_may_is_read_as_a_verb() -> None:
    assert swedish_equivalents("October") == ("oktober",) and swedish_equivalents("March") == ("mars",)
    assert swedish_equivalents("may") == ()


def test_an_english_question_searches_the_swedish_words_and_a_swedish_one_is_searched_as_asked() -> None:
    assert "omsättning" in lexical_query("What was the museum's turnover in 2021?").split()
    swedish = "Hur stor var museets omsättning 2021?"
    assert lexical_query(swedish) == swedish


def test_an_english_question_is_answered_by_the_swedish_sentence_that_holds_its_words() -> None:
    passage = (
        "Museet har ett samarbetsavtal med skolorna i länet och tar emot skolklasser varje vecka. "
        "Museets omsättning uppgick till 12,5 miljoner kronor, varav försäljningen i butiken stod för 1,1 miljoner."
    )
    question = Question.of("What was the museum's turnover?", english=True)
    assert "omsättning" in question.lemmas
    comp = Composer(load_selector()).compose_text("What was the museum's turnover?", passage)
    # the turnover's sentence alone: without the glossary the sentence that names the museum came first
    assert comp.text.startswith("Museets omsättning uppgick till 12,5 miljoner") and "samarbetsavtal" not in comp.text
