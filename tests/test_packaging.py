"""The built wheel: it carries the LLM prompts and the web templates, and answers through the LLM path when
installed into a fresh virtualenv (its dependencies borrowed from this one, nothing downloaded)."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("arkiv-*.whl")
    return built


def test_the_wheel_carries_the_prompts_and_the_page_templates(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.name for p in (ROOT / "prompts").glob("*.yaml")}
    assert shipped and {f"assistant/prompt_files/{n}" for n in shipped} <= names
    templates = {p.name for p in (ROOT / "assistant/web/templates").glob("*.html")}
    assert templates and {f"assistant/web/templates/{n}" for n in templates} <= names
    assert "assistant/web/static/texts.json" in names


def test_an_installed_wheel_answers_through_the_llm_path(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # the dependencies come from this virtualenv (a plain path: its .pth files, the editable arkiv among them,
    # are not read), so the only arkiv the fresh one can import is the wheel's
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (purelib / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    script = textwrap.dedent(
        f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("fake_openai", {str(ROOT / "tests/assistant/fake_openai.py")!r})
        fake_openai = importlib.util.module_from_spec(spec)
        sys.modules["fake_openai"] = fake_openai
        spec.loader.exec_module(fake_openai)
        import assistant
        assert {str(ROOT)!r} not in assistant.__file__, assistant.__file__
        from assistant.generate import LLMAnswerer, make_llm
        from assistant.prompts import PROMPTS_DIR
        from assistant.settings import AssistantSettings
        from assistant.types import Hit
        from indexer.schema import Chunk, DocumentMeta
        chunk = Chunk(doc_id="ikp-2023", ordinal=0, text="Kontrollen av handkassan görs varje månad.",
                      page_start=4, page_end=4, meta=DocumentMeta(title="Internkontrollplan 2023"), source="ikp.pdf")
        with fake_openai.FakeOpenAI() as server:
            server.enqueue("Handkassan kontrolleras varje månad [1].")
            settings = AssistantSettings(_env_file=None, llm_base_url=server.base_url, llm_model="fake-model")
            answer = LLMAnswerer(make_llm(settings)).answer("Hur ofta kontrolleras handkassan?",
                                                            [Hit(chunk, 0.9, 1)], "sv")
            system = server.last.content("system")
        import json
        print(json.dumps([str(PROMPTS_DIR), answer, system]))
        """
    )
    run = subprocess.run(
        [str(python), "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path, env={"PATH": "/usr/bin"}
    )
    assert run.returncode == 0, run.stderr[-3000:]
    prompts_dir, answer, system = json.loads(run.stdout.strip().splitlines()[-1])
    assert prompts_dir.startswith(str(venv)) and prompts_dir.endswith("assistant/prompt_files")
    assert answer == "Handkassan kontrolleras varje månad [1]."
    shipped = yaml.safe_load((ROOT / "prompts/answer.sv.yaml").read_text(encoding="utf-8"))
    assert shipped["system"].strip().splitlines()[0] in system
