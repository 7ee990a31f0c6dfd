"""`arkiv eval --url`: the gold set against a running server, through the real HTTP API and its JSON shapes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.types import Answer, Citation, Filters, Hit
from evaluation.dataset import EvalCase, Evidence
from evaluation.errors import ServerError
from evaluation.report import load_run
from evaluation.run import HttpAssistant, run_eval
from indexer.schema import Chunk, DocumentMeta

DOC = "004_c9f51c72f4352da0.txt"
RIGHT = Chunk(
    doc_id="004_c9f51c72f4352da0",
    ordinal=113,
    text="Diarienummer: RJL 2022/258\nBeslut\nPresidiet föreslår nämnden\n1. Bevilja Smålands Turism AB 2 000 000 kr",
    page_start=39,
    page_end=39,
    meta=DocumentMeta(title="Kallelse ANA 2022-02-23", doc_type="kallelse"),
    source=DOC,
    paragraph="29",
    section="Stöttning besöksnäring 2022 – nationell marknadsföring",
)
WRONG = Chunk(
    doc_id="004_c9f51c72f4352da0",
    ordinal=2,
    text="Upprop och val av protokollsjusterare",
    page_start=1,
    page_end=1,
    meta=DocumentMeta(title="Kallelse ANA 2022-02-23", doc_type="kallelse"),
    source=DOC,
)
CASE = EvalCase(
    id="s29",
    question="Vad föreslog presidiet om stöd till besöksnäringen?",
    language="sv",
    category="decision",
    user_group="politician",
    answerable=True,
    evidence=(
        Evidence(DOC, 39, "§ 29 Stöttning besöksnäring 2022 – nationell marknadsföring Diarienummer: RJL 2022/258"),
    ),
    must_contain=("2 000 000", "Smålands Turism"),
    reference_answer="2 000 000 kr till Smålands Turism AB.",
)


class FakeAssistant:
    """Stands in for the Assistant behind the real routes."""

    def __init__(self) -> None:
        self.filters: list[Filters | None] = []

    def health(self) -> dict[str, int]:
        return {"documents": 1, "chunks": 2}

    def search(self, query: str, k: int = 10, filters: Filters | None = None, *_: object) -> list[Hit]:
        self.filters.append(filters)
        return [Hit(WRONG, 0.9, 1), Hit(RIGHT, 0.8, 2)][:k]

    def ask(
        self, question: str, history: Sequence[tuple[str, str]] = (), filters: Filters | None = None, *_: object
    ) -> Answer:
        hit = Hit(RIGHT, 0.8, 1)
        return Answer(
            question=question,
            query=question,
            text="Presidiet föreslog att bevilja Smålands Turism AB 2 000 000 kr [1].",
            status="answered",
            citations=(Citation(1, hit),),
            hits=(hit,),
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, FakeAssistant]]:
    import uvicorn

    from assistant.settings import AssistantSettings
    from assistant.web.app import create_app

    fake = FakeAssistant()
    app = create_app(AssistantSettings(_env_file=None, data_dir=tmp_path), fake)  # type: ignore[arg-type,call-arg]
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}", fake
    srv.should_exit = True
    thread.join(timeout=10)


def test_a_running_server_is_measured_through_its_api(server: tuple[str, FakeAssistant]) -> None:
    url, _ = server
    http = HttpAssistant(url)
    run = run_eval([CASE], [http], http)
    arkiv = run.config("arkiv")
    assert arkiv is not None
    assert arkiv.overall.recall_at_1 == 0.0 and arkiv.overall.recall_at_5 == 1.0  # found at rank 2
    assert run.answers is not None
    assert run.answers.key_fact_accuracy == 1.0
    assert run.answers.citation_support == 1.0 and run.answers.citation_precision == 1.0
    assert len(run.latency.search_ms) == 1 and len(run.latency.ask_ms) == 1


def test_filters_travel_in_the_api_shape(server: tuple[str, FakeAssistant]) -> None:
    from evaluation.dataset import EvalFilters

    url, fake = server
    HttpAssistant(url).search("stöd", 5, EvalFilters(doc_type="kallelse", year=2022, source=DOC))
    assert fake.filters[-1] == Filters(
        year_from=2022, year_to=2022, doc_type="kallelse", document="004_c9f51c72f4352da0"
    )


def test_cli_eval_url_writes_a_report(server: tuple[str, FakeAssistant], tmp_path: Path) -> None:
    from indexer.cli import main

    url, _ = server
    gold = tmp_path / "gold.yaml"
    gold.write_text(
        """version: 1
cases:
- id: s29
  question: Vad föreslog presidiet om stöd till besöksnäringen?
  language: sv
  category: decision
  user_group: politician
  answerable: true
  evidence:
    - document: 004_c9f51c72f4352da0.txt
      page: 39
      quote: "Presidiet föreslår nämnden 1. Bevilja Smålands Turism AB 2 000 000 kr"
  must_contain: ["2 000 000"]
  reference_answer: 2 000 000 kr.
""",
        encoding="utf-8",
    )
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["eval", "configs", "--url", url, "--gold", str(gold), "--out", str(out)])
    assert result.exit_code == 0, result.output
    run = load_run(out / "run.json")
    assert run.info.target == url
    assert [c.config for c in run.configs] == ["arkiv"]
    assert "Mot en server mäts bara arkiv" in (out / "summary.md").read_text(encoding="utf-8")


def test_an_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(ServerError, match="127.0.0.1"):
        HttpAssistant(f"http://127.0.0.1:{free_port()}", timeout=2).search("fråga", 5)
