"""Prompt templates are strict data: every $variable filled, no unknown ones, no stray keys in the files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assistant.errors import MissingVariables, PromptError
from assistant.prompts import PROMPTS_DIR, PromptTemplate, format_passages, load_prompt
from assistant.types import Hit
from indexer.schema import Chunk, DocumentMeta

EXPECTED_VARIABLES = {
    "answer": {"question", "passages", "no_answer"},
    "rewrite": {"question", "history"},
}

GOOD = """\
version: 2
description: A test template.
system: |
  You answer about $topic.
prompt: |
  Question: $question
  Costs are in $$ here.
"""


def write(tmp_path: Path, text: str, name: str = "t.sv.yaml") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def hit(n: int, **changes: object) -> Hit:
    meta = DocumentMeta(
        title="Protokoll regionstyrelsen", doc_type="protokoll", body="Regionstyrelsen", date="2022-05-03", year=2022
    )
    fields: dict[str, object] = {
        "doc_id": f"doc-{n}",
        "ordinal": n,
        "text": f"Passage {n}: regionstyrelsen beslutar att anta planen.\n",
        "page_start": 3,
        "page_end": 3,
        "meta": meta,
        "source": f"rs/2022/doc-{n}.pdf",
    }
    fields.update(changes)
    return Hit(chunk=Chunk(**fields), score=1.0 / n, rank=n)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(EXPECTED_VARIABLES))
@pytest.mark.parametrize("language", ["sv", "en"])
def test_shipped_templates_load_with_the_variables_their_callers_fill(name: str, language: str) -> None:
    template = load_prompt(name, language)
    assert template.version >= 1
    assert template.variables == EXPECTED_VARIABLES[name]
    system, user = template.render(**{v: f"<{v}>" for v in EXPECTED_VARIABLES[name]})
    for v in EXPECTED_VARIABLES[name]:
        assert f"<{v}>" in system + user
    assert "$" not in system + user


def test_every_shipped_file_is_a_known_template() -> None:
    names = {p.name for p in PROMPTS_DIR.glob("*.yaml")}
    assert names == {f"{n}.{lang}.yaml" for n in EXPECTED_VARIABLES for lang in ("sv", "en")}


def test_readme_documents_each_template_and_its_variables() -> None:
    readme = (PROMPTS_DIR / "README.md").read_text(encoding="utf-8")
    for path in PROMPTS_DIR.glob("*.yaml"):
        assert path.name in readme
    for variables in EXPECTED_VARIABLES.values():
        for v in variables:
            assert f"${v}" in readme


def test_render_fills_system_and_user_and_keeps_escaped_dollars(tmp_path: Path) -> None:
    template = load_prompt("t", "sv", write(tmp_path, GOOD))
    system, user = template.render(topic="budgeten", question="Vad kostar $skolan?")
    assert system == "You answer about budgeten."
    assert user == "Question: Vad kostar $skolan?\nCosts are in $ here."
    assert template.version == 2


def test_missing_variable_is_named(tmp_path: Path) -> None:
    template = load_prompt("t", "sv", write(tmp_path, GOOD))
    with pytest.raises(MissingVariables, match=r"\$topic"):
        template.render(question="Vad?")


def test_unknown_variable_is_refused(tmp_path: Path) -> None:
    template = load_prompt("t", "sv", write(tmp_path, GOOD))
    with pytest.raises(PromptError, match=r"\$passages") as info:
        template.render(topic="x", question="y", passages="z")
    assert not isinstance(info.value, MissingVariables)


def test_extra_key_in_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="temperature"):
        load_prompt("t", "sv", write(tmp_path, GOOD + "temperature: 0.2\n"))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (GOOD.replace("version: 2", "version: two"), "version"),
        (GOOD.replace("version: 2", 'version: "2"'), "version"),
        (GOOD.replace("version: 2", "version: 0"), "version"),
        (GOOD.replace("description: A test template.\n", ""), "description"),
        (GOOD.replace("$topic", "$ topic"), "system"),
        (GOOD.replace("$question", "${question"), "prompt"),
        ("- just\n- a list\n", "mapping"),
        ("version: [unclosed\n", "cannot be read"),
    ],
)
def test_malformed_files_are_refused_with_the_reason(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(PromptError, match=problem):
        load_prompt("t", "sv", write(tmp_path, text))


def test_unknown_template_or_language_is_a_prompt_error() -> None:
    with pytest.raises(PromptError, match="no such prompt"):
        load_prompt("answer", "de")
    with pytest.raises(PromptError, match="no such prompt"):
        load_prompt("sammanfatta", "sv")


def test_a_copied_template_loads_from_another_directory(tmp_path: Path) -> None:
    shutil.copy(PROMPTS_DIR / "answer.sv.yaml", tmp_path / "answer.sv.yaml")
    copied = load_prompt("answer", "sv", tmp_path)
    assert copied.model_dump() == load_prompt("answer", "sv").model_dump()
    assert copied.source == str(tmp_path / "answer.sv.yaml")


def test_template_is_frozen_and_strict_in_memory() -> None:
    with pytest.raises(Exception, match="extra"):
        PromptTemplate.model_validate({"version": 1, "description": "d", "system": "s", "prompt": "p", "x": 1})
    template = PromptTemplate(version=1, description="d", system="s $a", prompt="p")
    with pytest.raises(Exception, match="frozen"):
        template.system = "other"  # type: ignore[misc]


def test_passages_are_numbered_with_title_pages_paragraph_cases_and_date() -> None:
    hits = [
        hit(1, paragraph="23", case_numbers=("RJL 2022/258", "RJL 2022/301"), date="2022-05-03"),
        hit(2, page_start=4, page_end=5, section="Internkontrollplan 2023"),
        hit(3, meta=DocumentMeta(title="Anteckningar"), text="Utan datum."),
    ]
    text = format_passages(hits)
    blocks = text.split("\n\n")
    assert blocks[0] == (
        "[1] Protokoll regionstyrelsen, s. 3, § 23, RJL 2022/258, RJL 2022/301, 2022-05-03\n"
        "Passage 1: regionstyrelsen beslutar att anta planen."
    )
    assert blocks[1].splitlines()[0] == "[2] Protokoll regionstyrelsen — Internkontrollplan 2023, s. 4–5, 2022-05-03"
    assert blocks[2] == "[3] Anteckningar, s. 3\nUtan datum."
    assert re.findall(r"^\[(\d+)\]", text, flags=re.MULTILINE) == ["1", "2", "3"]


def test_no_hits_no_passages() -> None:
    assert format_passages([]) == ""
