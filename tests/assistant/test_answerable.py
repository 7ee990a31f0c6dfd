"""The not-found gate: question-level features that tell "the archive holds this" from "the archive holds
something near it", and a packaged gate that declines the tempting unanswerable."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answerable import GATE_FEATURES, gate_features, specific_terms
from assistant.compose import Composer
from assistant.select import FEATURES, load_selector

PASSAGE = (
    "Personalutskottet beslutar att projektledaren Anna Berg får ett lönetillägg om 2 500 kronor per månad "
    "från och med den 1 april 2024. Beslutet gäller tills vidare."
)


def test_specific_terms_are_the_names_and_numbers_a_question_names() -> None:
    names, numbers = specific_terms("Vilket lönetillägg fick projektledaren Zebulon Qvarnström 2024?")
    assert names == ["zebulon", "qvarnström"] and numbers == ["2024"]
    names, numbers = specific_terms("Vad beslutade RJL om ärende RJL 2022/258?")
    assert names == ["rjl"] and numbers == ["2022/258"]
    # the first word is capitalised because it starts the question; English question words are no names
    assert specific_terms("When did the Board decide?") == ([], [])


def test_packaged_selector_has_a_gate_over_its_features() -> None:
    selector = load_selector()
    assert selector.gate is not None
    assert set(selector.gate.features) <= set(GATE_FEATURES)
    assert 0.0 < selector.gate.threshold < 1.0


def test_a_question_about_someone_else_is_declined_where_the_topic_matches() -> None:
    composer = Composer()
    held = composer.compose_text("Vilket lönetillägg fick projektledaren Anna Berg?", PASSAGE)
    other = composer.compose_text("Vilket lönetillägg fick projektledaren Zebulon Qvarnström?", PASSAGE)
    assert held.answers and "2 500 kronor" in held.text
    assert not other.answers
    assert other.probability < held.probability


@pytest.mark.parametrize(
    ("question", "unit", "other_year"),
    [
        (
            "Hur mycket fick Smålands Turism inför sommaren 2019?",
            "Smålands Turism vill inför sommaren 2022 investera",
            1.0,
        ),
        (
            "Hur mycket fick Smålands Turism inför sommaren 2022?",
            "Smålands Turism vill inför sommaren 2022 investera",
            0.0,
        ),
        ("Hur mycket fick Smålands Turism 2019?", "Bevilja Smålands Turism AB 2 000 000 kr", 0.0),
        ("Hur mycket fick Smålands Turism?", "Smålands Turism vill inför sommaren 2022 investera", 0.0),
        ("Vad beslutades i RJL 2019/12?", "Beslut i ärende RJL 2022/258 den 2022-02-10", 0.0),
    ],
)
def test_the_gate_sees_a_best_unit_that_speaks_of_another_year_than_the_one_asked(
    question: str, unit: str, other_year: float
) -> None:
    x = np.zeros((1, len(FEATURES)))
    row = gate_features(question, False, 5, (), x, np.array([1.0]), FEATURES, [unit], [(unit, 0, "")])
    assert row[GATE_FEATURES.index("best_other_year")] == other_year


def test_a_question_about_another_year_than_the_passage_is_less_likely_answered() -> None:
    composer = Composer()
    held = composer.compose_text("Vilket lönetillägg fick projektledaren Anna Berg 2024?", PASSAGE)
    other = composer.compose_text("Vilket lönetillägg fick projektledaren Anna Berg 2019?", PASSAGE)
    assert held.answers and other.probability < held.probability


def test_the_gate_reads_how_near_the_best_and_the_nearest_unit_are_where_units_have_vectors() -> None:
    units = ["Beslutet gäller tills vidare.", "Anna Berg får ett lönetillägg om 2 500 kronor per månad."]
    x = np.zeros((2, len(FEATURES)))
    # lexical margins make the first unit best; the second is nearer in meaning
    margins = np.array([2.0, 1.0])
    row = gate_features(
        "Vilket lönetillägg fick Anna Berg?", False, 3, (), x, margins, FEATURES, units, [(u, 0, "") for u in units]
    )
    assert row[GATE_FEATURES.index("has_dense")] == 0.0 and row[GATE_FEATURES.index("max_dense")] == 0.0
    x[:, FEATURES.index("dense")] = [0.71, 0.86]
    row = gate_features(
        "Vilket lönetillägg fick Anna Berg?", False, 3, (), x, margins, FEATURES, units, [(u, 0, "") for u in units]
    )
    assert row[GATE_FEATURES.index("has_dense")] == 1.0
    assert row[GATE_FEATURES.index("best_dense")] == pytest.approx(0.71)
    assert row[GATE_FEATURES.index("max_dense")] == pytest.approx(0.86)


@pytest.mark.parametrize(
    ("question", "unit", "dated", "unsaid"),
    [
        # the year asked is said nowhere near the best unit: the 2023 report answering for 2022
        ("Vad blev Navets omsättning 2022?", "Omsättningen blev 24,3 miljoner kr.", "Verksamhetsberättelse 2023", 1.0),
        # the document is of the year asked, or the unit says it
        ("Vad blev Navets omsättning 2023?", "Omsättningen blev 24,3 miljoner kr.", "Verksamhetsberättelse 2023", 0.0),
        ("Vad hände i december 2022?", "I december 2022 delades priset ut.", "Protokoll 2023-05-24", 0.0),
        ("Vad beslutades 2022?", "Nämnden beviljar 2 000 000 kr.", "Protokoll 2022-02-10", 0.0),
        # no year asked
        ("Vad blev Navets omsättning?", "Omsättningen blev 24,3 miljoner kr.", "Verksamhetsberättelse 2023", 0.0),
    ],
)
def test_the_gate_sees_a_year_asked_that_neither_the_best_unit_nor_its_document_says(
    question: str, unit: str, dated: str, unsaid: float
) -> None:
    x = np.zeros((1, len(FEATURES)))
    row = gate_features(question, False, 5, (), x, np.array([1.0]), FEATURES, [unit], [(unit, 0, dated)])
    assert row[GATE_FEATURES.index("best_year_unsaid")] == unsaid


def test_the_gate_finds_the_questions_words_in_the_best_passage_by_their_first_letters() -> None:
    from assistant.select import Question

    question = Question.of("Inom hur lång tid ska dataskyddsombuden återkoppla till den som frågat?")
    unit = "Återkopplingen till den som frågat sker inom en vecka."
    passage = "Dataskyddsombudet svarar på frågor. " + unit
    x = np.zeros((1, len(FEATURES)))
    row = gate_features(
        question.text,
        False,
        len(question.lemmas),
        question.prefixes,
        x,
        np.array([1.0]),
        FEATURES,
        [passage],
        [(unit, 0, "")],
    )
    held = row[GATE_FEATURES.index("best_passage_prefixes")]
    assert 0.5 < held <= 1.0
