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


def _step(case: str, heading: str, decision: str, date: str = "2022-02-10", **kw: Any) -> Any:
    from indexer.cases import CaseEntry

    fields: dict[str, Any] = dict(
        case_number=case,
        doc_id="kallelse",
        source="kallelse.txt",
        title="Kallelse",
        doc_type="kallelse",
        page=1,
        page_end=1,
        date=date,
        body="Presidium",
        paragraph="29",
        kind="förslag",
        heading=heading,
        decision=decision,
        proposal=None,
        text=decision,
        sort_date=date,
        position=(1, 0),
        chunk={
            "doc_id": "kallelse",
            "ordinal": 1,
            "text": decision,
            "page_start": 1,
            "page_end": 1,
            "source": "kallelse.txt",
            "title": "Kallelse",
            "case_numbers": [case],
            "paragraph": "29",
        },
    )
    fields.update(kw)
    return CaseEntry(**fields)


def test_a_precedent_question_lists_earlier_cases_with_their_decisions(tmp_path: Any) -> None:
    from types import SimpleNamespace

    from assistant.cases import case_course_answer
    from assistant.types import Filters
    from indexer.cases import CaseIndex

    CaseIndex(
        [
            _step(
                "RJL 2022/258",
                "Stöttning besöksnäring 2022",
                "Presidiet föreslår nämnden 1. Bevilja Smålands Turism AB 2 000 000 kr",
            ),
            _step(
                "RJL 2021/10",
                "Stöd till besöksnäring 2021",
                "Nämnden beslutar att bevilja Visit Småland 500 000 kr",
                "2021-03-01",
            ),
            _step("RJL 2021/11", "Stöd till kulturföreningar", "Nämnden beslutar att avslå ansökan", "2021-04-01"),
            _step("RJL 2021/12", "Hemlig", "Nämnden beslutar att bevilja 1 kr", "2021-05-01", access_groups=("hr",)),
        ]
    ).save(tmp_path / "cases.json")
    assistant = SimpleNamespace(settings=SimpleNamespace(data_dir=tmp_path), store=None)
    question = "Har vi beviljat liknande stöd förut?"
    plan = SimpleNamespace(question=question, query=question, filters=Filters(), language="sv")
    answer = case_course_answer(assistant, plan, [("user", "Vad har hänt i ärendet RJL 2022/258?")])
    assert answer is not None and answer.answerer == "cases"
    lines = answer.text.splitlines()[1:]
    assert (
        len(lines) == 1 and lines[0].startswith("1. RJL 2021/10") and "bevilja Visit Småland 500 000 kr [1]" in lines[0]
    )
    assert answer.citations[0].hit.chunk.case_numbers == ("RJL 2021/10",)
    # without a case in the conversation every granting decision the caller may see is listed, oldest first
    alone = case_course_answer(assistant, plan, [])
    assert alone is not None
    assert [line.split(",")[0] for line in alone.text.splitlines()[1:]] == ["1. RJL 2021/10", "2. RJL 2022/258"]
    plain = SimpleNamespace(question="Hur mycket fick Visit Småland?", query="", filters=Filters(), language="sv")
    assert case_course_answer(assistant, plain, []) is None
