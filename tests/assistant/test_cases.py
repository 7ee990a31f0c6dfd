"""Questions about a case's course are answered from its timeline, cited step by step."""

from __future__ import annotations

import re
from typing import Any

from assistant.access import Principal


def test_what_happened_in_a_case_is_answered_step_by_step_in_date_order(assistant: Any) -> None:
    answer = assistant.ask("Vad har hänt i ärendet RJL 2022/258?")
    assert answer.status == "answered" and answer.answerer == "cases"
    assert answer.text.startswith("Ärendet RJL 2022/258")
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    assert markers == list(range(1, len(answer.citations) + 1)) and len(markers) >= 3
    dates = re.findall(r"^\d+\. (\d{4}-\d\d-\d\d)", answer.text, re.MULTILINE)
    assert dates == sorted(dates) and {"2022-02-02", "2022-02-10"} <= set(dates)
    assert "§ 29" in answer.text and "Presidiet föreslår nämnden" in answer.text
    for citation in answer.citations:
        assert "RJL 2022/258" in citation.hit.chunk.case_numbers or "2022/258" in citation.hit.chunk.case_numbers


def test_a_follow_up_about_the_same_case_answers_from_its_timeline(assistant: Any) -> None:
    history = [("user", "Vad beslutade presidiet om RJL 2022/258?"), ("assistant", "Presidiet föreslog … [1]")]
    answer = assistant.ask("Har nämnden beslutat om det här tidigare?", history)
    assert answer.answerer == "cases" and "RJL 2022/258" in answer.text


def test_english_questions_get_an_english_timeline(assistant: Any) -> None:
    answer = assistant.ask("What happened to case RJL 2022/258?")
    assert answer.answerer == "cases" and answer.language == "en"
    assert answer.text.startswith("Case RJL 2022/258") and "Proposed decision" in answer.text


def test_other_questions_are_not_taken_for_case_questions(assistant: Any) -> None:
    answer = assistant.ask("Hur mycket beviljades Smålands Turism?")
    assert answer.answerer != "cases"


def test_a_case_the_index_does_not_hold_falls_through_to_search(assistant: Any) -> None:
    answer = assistant.ask("Vad har hänt i ärendet RJL 2031/77?")
    assert answer.answerer != "cases"


def test_a_principal_sees_only_steps_of_documents_it_may_see(assistant: Any) -> None:
    from assistant.cases import case_index_for

    index = case_index_for(assistant)
    public = index.timeline("RJL 2022/258", Principal(None, frozenset(), "test").visible_groups)
    assert public and all("public" in e.access_groups for e in public)
    assert index.timeline("RJL 2022/258", ("hr",)) == []
