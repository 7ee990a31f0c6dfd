"""Follow-ups: a follow-up takes from the conversation only what it lacks, never whole questions, and what it
names itself wins. Checked on the gold set's training conversations and on small hand-made ones."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assistant.query import asked_for, carried_filters, is_follow_up, parse_question, rewrite_follow_up

GOLD = Path(__file__).resolve().parents[2] / "evaluation" / "gold" / "gold.yaml"


def _train_conversations() -> list[tuple[str, list[tuple[str, str]], dict[str, object]]]:
    if not GOLD.exists():
        return []
    cases = yaml.safe_load(GOLD.read_text(encoding="utf-8"))["cases"]
    by_id = {c["id"]: c for c in cases}

    def history(case: dict[str, object]) -> list[tuple[str, str]]:
        parent = by_id.get(str(case.get("follow_up_of")))
        if parent is None:
            return []
        return [
            *history(parent),
            ("user", str(parent["question"])),
            ("assistant", str(parent.get("reference_answer", ""))),
        ]

    return [
        (str(c["question"]), history(c), by_id[str(c["follow_up_of"])])
        for c in cases
        if c.get("follow_up_of") and c.get("split") == "train"
    ]


CONVERSATIONS = _train_conversations()


@pytest.mark.skipif(not CONVERSATIONS, reason="gold set without follow-ups")
@pytest.mark.parametrize(("question", "history", "parent"), CONVERSATIONS, ids=lambda v: str(v)[:30])
def test_gold_follow_ups_take_only_what_they_lack(
    question: str, history: list[tuple[str, str]], parent: object
) -> None:
    assert is_follow_up(question)
    query = rewrite_follow_up(question, history)
    assert query.startswith(question.strip())
    added = query[len(question.strip()) :]
    previous = str(parent["question"])  # type: ignore[index]
    assert added.strip(), "a follow-up needs its subject from the conversation"
    assert previous.rstrip("?") not in query  # never the whole earlier question
    assert len(added.split()) <= 10


def test_subject_case_number_and_year_come_from_the_previous_turn_and_its_reply() -> None:
    history = [
        ("user", "Vad föreslog presidiet om stöd till besöksnäringen inför sommaren 2022?"),
        ("assistant", "Presidiet föreslog att bevilja Smålands Turism 2 000 000 kr (RJL 2022/258) [1]."),
    ]
    query = rewrite_follow_up("Och ur vilket anslag ska det finansieras?", history)
    assert "besöksnäringen" in query and "2022" in query and "RJL 2022/258" in query
    assert "föreslog" not in query and "Vad" not in query


def test_three_turns_keep_the_subject_of_the_first() -> None:
    history = [
        ("user", "Hur många personuppgiftsincidenter hanterade dataskyddsombuden 2023?"),
        ("assistant", "De hanterade 12 incidenter [1]."),
        ("user", "Och hur många granskningar gjorde de samma år?"),
        ("assistant", "De gjorde 77 av 79 granskningar [1]."),
    ]
    query = rewrite_follow_up("Och vad är målet för nästa år?", history)
    assert "dataskyddsombuden" in query and "2024" in query


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        (
            "Hur många personuppgiftsincidenter och ärenden hanterade dataskyddsombuden 2023?",
            ["personuppgiftsincidenter", "ärenden"],
        ),
        ("Vilket ekonomiskt utfall hade Närvårdskontoret per december 2023?", ["ekonomiskt", "utfall"]),
        ("Hur stor blev Navets ekonomiska omsättning 2023?", ["ekonomiska", "omsättning"]),
        ("Och hur stort var det egna kapitalet vid årets slut?", ["egna", "kapitalet"]),
        ("And what's the target for next year?", ["target"]),
        ("Vem kontrollerar handkassan enligt internkontrollplanen?", []),
        ("Vad föreslog presidiet om stöd till besöksnäringen?", []),
    ],
)
def test_what_a_question_asks_for_is_read_from_its_wording(question: str, asked: list[str]) -> None:
    assert asked_for(question) == asked


def test_a_follow_up_asking_for_something_else_carries_the_subject_not_what_was_asked_before() -> None:
    history = [("user", "Hur stor blev Navets ekonomiska omsättning 2023?"), ("assistant", "24,3 miljoner kr [1].")]
    query = rewrite_follow_up("Och hur många anställda har de?", history)
    assert "Navets" in query and "2023" in query
    assert "omsättning" not in query and "ekonomiska" not in query
    history = [("user", "Hur många handledarutbildningar genomförde VOC Sjuhärad 2023?"), ("assistant", "Tio [1].")]
    query = rewrite_follow_up("Och när ska de certifieras om?", history)
    assert "Sjuhärad" in query and "handledarutbildningar" not in query


def test_a_follow_up_naming_a_new_subject_keeps_what_was_asked_and_drops_the_old_subject() -> None:
    history = [
        ("user", "Vilket resultat redovisade Sjuhärads kommunalförbund för 2012?"),
        ("assistant", "912 tkr [1]."),
    ]
    query = rewrite_follow_up("Och hur gick det för Navet och Medarbetarcentrum det året?", history)
    assert "resultat" in query and "2012" in query
    assert "Sjuhärads" not in query


def test_what_the_follow_up_names_itself_wins() -> None:
    history = [("user", "Vilket resultat redovisade förbundet för 2012?"), ("assistant", "Resultatet var 601 tkr [1].")]
    assert "2013" in rewrite_follow_up("Och vilket resultat blev det året efter?", history)
    query = rewrite_follow_up("Och 2014 då?", history)
    assert "2014" in query and "2012" not in query
    carried = carried_filters(history)
    own = parse_question(query).filters
    assert carried.merged(own).year_from == 2014 == carried.merged(own).year_to


def test_next_and_last_year_move_the_conversations_year() -> None:
    history = [("user", "Hur många granskningar gjorde dataskyddsombudet 2023?"), ("assistant", "Tolv [1].")]
    for follow_up in ("Och vad är målet för nästa år?", "And what is the goal for next year?"):
        query = rewrite_follow_up(follow_up, history)
        assert "2024" in query and "2023" not in query
        assert parse_question(query).filters.year_from == 2024
    assert "2022" in rewrite_follow_up("Och hur många gjorde de i fjol?", history)


def test_a_new_question_is_not_rewritten() -> None:
    history = [("user", "Vad föreslog presidiet om besöksnäringen?"), ("assistant", "...")]
    question = "Vilka kontroller gör administrativ chef i internkontrollplanen?"
    assert rewrite_follow_up(question, history) == question
    assert rewrite_follow_up("Och hur mycket?", []) == "Och hur mycket?"


def test_a_follow_up_about_another_year_does_not_keep_the_replys_case_number() -> None:
    history = [
        ("user", "Hur mycket fick Smålands Turism i stöd 2022?"),
        ("assistant", "Nämnden, 2022-02-10, § 29, RJL 2022/258: 1. Bevilja Smålands Turism AB 2 000 000 kr. [1]"),
    ]
    earlier = rewrite_follow_up("Och hur mycket fick de året före?", history)
    assert "2021" in earlier and "RJL 2022/258" not in earlier  # last year's grant is another case
    assert "RJL 2022/258" in rewrite_follow_up("Och ur vilket anslag finansieras det?", history)
