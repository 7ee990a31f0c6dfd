"""Reindexing never takes the service down: `arkiv index --rebuild` builds beside the live index and the running
server switches to it; `arkiv index` on an index in use says what to do; a switch cut short is finished."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from tests.conftest import FIXTURES, FakeEmbedder

NEW_DOC = """Kommunstyrelsen, protokoll 2025-01-20

§ 3 Ny bro över Kvarnån
Kommunstyrelsen beslutar att bygga en gång- och cykelbro över Kvarnån för 7 654 321 kronor.
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A corpus of one fixture document, indexed into a data folder with the fake embedder."""
    import indexer.embed

    monkeypatch.setattr(indexer.embed, "make_embedder", lambda settings: FakeEmbedder())
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("internkontrollplan_2023.txt", "internkontrollplan_2023.meta.yaml"):
        shutil.copy(FIXTURES / "corpus" / name, corpus / name)
    data = tmp_path / "data"
    monkeypatch.setenv("ARKIV_DATA_DIR", str(data))
    monkeypatch.setenv("ARKIV_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("ARKIV_OCR", "false")
    result = CliRunner().invoke(_main(), ["index", str(corpus)])
    assert result.exit_code == 0, result.output
    return {"corpus": corpus, "data": data}


def _main() -> Any:
    from indexer.cli import main

    return main


def _settings(data: Path, corpus: Path) -> Any:
    from assistant.settings import AssistantSettings

    return AssistantSettings(data_dir=data, corpus_dir=corpus, ocr=False, _env_file=None)  # type: ignore[call-arg]


def test_index_on_a_store_in_use_says_what_to_do(env: dict[str, Any]) -> None:
    from indexer.cli import build_indexer

    held = build_indexer(_settings(env["data"], env["corpus"]))  # as `arkiv serve` holds it
    try:
        result = CliRunner().invoke(_main(), ["index", str(env["corpus"])])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "arkiv serve" in result.output and "arkiv index --rebuild" in result.output
    finally:
        held.store.close()


def test_rebuild_beside_a_running_server_keeps_serving_and_switches(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.web.app as web
    from assistant.service import build_assistant
    from indexer.cli import build_indexer

    monkeypatch.setattr(web, "INDEX_POLL_S", 0.1)
    monkeypatch.setattr(web, "RETIRE_AFTER_S", 0.2)
    settings = _settings(env["data"], env["corpus"])
    live = build_indexer(settings)
    assistant = build_assistant(settings, store=live.store, embedder=live.embedder)
    (env["corpus"] / "bro.txt").write_text(NEW_DOC, encoding="utf-8")
    with TestClient(web.create_app(settings, assistant)) as client:
        before = client.get("/api/health").json()
        result = CliRunner().invoke(_main(), ["index", "--rebuild", str(env["corpus"])])
        assert result.exit_code == 0, result.output
        # the server was never without its index: the old one answered until the switch
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = client.post("/api/search", json={"query": "gång- och cykelbro över Kvarnån", "k": 3}).json()
            if any(h["document"]["source"] == "bro.txt" for h in found["hits"]):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the server did not switch to the rebuilt index")
        docs = client.get("/api/documents").json()
        assert docs["total"] == before["documents"] + 1
        # the retired index is deleted once the server has let go of it
        deadline = time.monotonic() + 10
        while list(env["data"].glob(".retired-*")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not list(env["data"].glob(".retired-*")) and not list(env["data"].glob(".rebuild-*"))
    assistant.store.close()


def test_a_switch_cut_short_is_finished_by_the_next_run(env: dict[str, Any]) -> None:
    from indexer.cli import build_indexer
    from indexer.rebuild import JOURNAL, prepare_staging

    data, corpus = env["data"], env["corpus"]
    (corpus / "bro.txt").write_text(NEW_DOC, encoding="utf-8")
    stage = prepare_staging(data)
    staged = build_indexer(_settings(stage, corpus))
    staged.run([corpus])
    staged.store.close()
    # killed after the journal and the store's move, before the catalog's
    (data / JOURNAL).write_text(
        json.dumps({"stage": str(stage), "retired": str(data / ".retired-1"), "collection": "arkiv"})
    )
    (data / ".retired-1" / "qdrant").mkdir(parents=True)
    (data / "qdrant" / "arkiv").rename(data / ".retired-1" / "qdrant" / "arkiv")
    (stage / "qdrant" / "arkiv").rename(data / "qdrant" / "arkiv")
    indexer = build_indexer(_settings(data, corpus))  # the next run (index or serve) finishes the switch
    try:
        assert not (data / JOURNAL).exists() and not stage.exists()
        assert {e.source for e in indexer.catalog.entries()} == {"internkontrollplan_2023.txt", "bro.txt"}
        assert len(indexer.store.documents()) == 2
    finally:
        indexer.store.close()


def test_a_rebuild_killed_while_building_leaves_the_live_index(env: dict[str, Any]) -> None:
    from indexer.cli import build_indexer
    from indexer.rebuild import prepare_staging

    data, corpus = env["data"], env["corpus"]
    stage = prepare_staging(data)
    (stage / "qdrant").mkdir()
    (stage / "qdrant" / "half-written").write_text("x")
    indexer = build_indexer(_settings(data, corpus))
    try:
        assert len(indexer.store.documents()) == 1 and len(list(indexer.catalog.entries())) == 1
    finally:
        indexer.store.close()
    result = CliRunner().invoke(_main(), ["index", "--rebuild", str(corpus)])
    assert result.exit_code == 0, result.output
    assert not stage.exists()
