"""The gold-set runner, its reports and `arkiv eval --compare`, with configurations and an assistant that behave."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from evaluation.dataset import EvalCase, EvalFilters, Evidence
from evaluation.errors import RunFileError
from evaluation.relevance import Passage
from evaluation.report import compare, html_report, load_run, markdown, write_report
from evaluation.run import AskResult, EvalRun, HttpAssistant, fast_subset, run_eval, with_parents

DOC = "002_6eef74d69066060b.txt"


def make_case(cid: str, question: str, quote: str | None, facts: tuple[str, ...] = (), **kw: object) -> EvalCase:
    answerable = quote is not None
    fields = dict(
        id=cid,
        question=question,
        language="sv",
        category="fact" if answerable else "unanswerable",
        user_group="staff",
        answerable=answerable,
        evidence=(Evidence(DOC, 3, quote),) if quote else (),
        must_contain=facts,
        reference_answer="x",
    )
    fields.update(kw)
    return EvalCase(**fields)  # type: ignore[arg-type]


CASES = [
    make_case(
        "overskott", "Hur stort var överskottet 2012?", "Förbundet redovisar ett överskott på 1 934 tkr", ("1 934",)
    ),
    make_case("navet", "Hur många besökte Navet?", "Navet hade 60 000 besökare under året", ("60 000",)),
    make_case(
        "navet-mer",
        "Och året innan?",
        "Året innan var antalet besökare 55 000 på Navet",
        ("55 000",),
        category="follow_up",
        follow_up_of="navet",
    ),
    make_case("kungen", "Vad tycker kungen om förbundet?", None),
]
TEXTS = {
    "overskott": "Förbundet redovisar ett överskott på 1934 tkr för året.",
    "navet": "Navet hade 60 000 besökare under året, fler än väntat.",
    "navet-mer": "Året innan var antalet besökare 55 000 på Navet enligt rapporten.",
}
NOISE = Passage("noise", "002_6eef74d69066060b", DOC, 9, 9, "Styrelsen sammanträdde fyra gånger.")


def hit(cid: str) -> Passage:
    return Passage(f"chunk-{cid}", "002_6eef74d69066060b", DOC, 3, 3, TEXTS[cid])


class ScriptedConfig:
    """Finds a case's passage at a fixed rank (by case id), noise for everything else."""

    def __init__(self, name: str, rank_of: dict[str, int]) -> None:
        self.name = name
        self.rank_of = rank_of
        self.queries: list[str] = []

    def search(self, query: str, k: int, filters: EvalFilters | None = None) -> list[Passage]:
        self.queries.append(query)
        cid = next((c.id for c in CASES if query.endswith(c.question)), None)
        rank = self.rank_of.get(cid or "")
        if cid is None or rank is None:
            return [NOISE]
        out = [dataclasses.replace(NOISE, key=f"noise{i}") for i in range(rank - 1)] + [hit(cid)]
        return out[:k]


class ScriptedAssistant:
    """Answers from a script and records the history it was given."""

    def __init__(self, replies: dict[str, AskResult]) -> None:
        self.replies = replies
        self.histories: dict[str, list[tuple[str, str]]] = {}

    def ask(self, question: str, history: Sequence[tuple[str, str]], filters: EvalFilters | None) -> AskResult:
        cid = next(c.id for c in CASES if c.question == question)
        self.histories[cid] = list(history)
        return self.replies[cid]


REPLIES = {
    "overskott": AskResult("answered", "Överskottet var 1 934 tkr [1].", (hit("overskott"),)),
    "navet": AskResult("answered", "Navet hade 60 000 besökare [1] [2].", (hit("navet"), NOISE)),
    "navet-mer": AskResult("not_found", "Arkivet innehåller inget som besvarar frågan.", ()),
    "kungen": AskResult("not_found", "Arkivet innehåller inget som besvarar frågan.", ()),
}


@pytest.fixture
def run() -> EvalRun:
    config = ScriptedConfig("arkiv", {"overskott": 1, "navet": 3})
    return run_eval(CASES, [config], ScriptedAssistant(REPLIES))


def test_retrieval_measures_cover_answerable_cases_only(run: EvalRun) -> None:
    scores = run.configs[0].overall
    assert scores.cases == 3
    assert scores.recall_at_1 == pytest.approx(1 / 3)
    assert scores.recall_at_5 == pytest.approx(2 / 3)
    assert scores.mrr_at_10 == pytest.approx((1 + 1 / 3) / 3)
    by_cat = {c.category: c.scores for c in run.configs[0].by_category}
    assert set(by_cat) == {"fact", "follow_up"}


def test_answer_measures(run: EvalRun) -> None:
    a = run.answers
    assert a is not None
    assert a.answerable == 3 and a.unanswerable == 1
    assert a.key_fact_accuracy == pytest.approx(2 / 3)
    assert a.citation_support == 1.0
    assert a.citation_precision == pytest.approx(2 / 3)
    assert a.abstention == 1.0
    assert a.false_not_found == pytest.approx(1 / 3)
    assert len(run.latency.ask_ms) == 4


def test_a_follow_up_is_asked_with_the_first_question_and_its_answer() -> None:
    assistant = ScriptedAssistant(REPLIES)
    config = ScriptedConfig("hybrid", {})
    run_eval(CASES, [config], assistant)
    assert assistant.histories["navet"] == []
    assert assistant.histories["navet-mer"] == [
        ("user", "Hur många besökte Navet?"),
        ("assistant", "Navet hade 60 000 besökare [1] [2]."),
    ]
    assert "Hur många besökte Navet? Och året innan?" in config.queries


def test_a_third_turn_is_asked_with_both_earlier_turns_and_the_answers_given_to_them() -> None:
    turns = [
        make_case("t1", "Hur stor blev Navets omsättning 2023?", "Omsättningen blev 24,3 miljoner kr", ("24,3",)),
        make_case(
            "t2", "Och hur många anställda har de?", "18 personer", ("18",), category="follow_up", follow_up_of="t1"
        ),
        make_case("t3", "Och nästa år?", "20 000 elever", ("20 000",), category="follow_up", follow_up_of="t2"),
    ]
    given = {c.question: AskResult("answered", f"Svar på {c.id} [1].", ()) for c in turns}
    asked: dict[str, list[tuple[str, str]]] = {}

    class Recording:
        def ask(self, question: str, history: Sequence[tuple[str, str]], filters: EvalFilters | None) -> AskResult:
            asked[question] = list(history)
            return given[question]

    config = ScriptedConfig("hybrid", {})
    run_eval(turns, [config], Recording())
    assert asked["Och nästa år?"] == [
        ("user", "Hur stor blev Navets omsättning 2023?"),
        ("assistant", "Svar på t1 [1]."),
        ("user", "Och hur många anställda har de?"),
        ("assistant", "Svar på t2 [1]."),
    ]
    assert config.queries[-1] == "Hur stor blev Navets omsättning 2023? Och hur många anställda har de? Och nästa år?"


def test_facts_in_a_not_found_answer_do_not_count() -> None:
    replies = dict(REPLIES)
    replies["overskott"] = AskResult("not_found", "Jag hittade inget om 1 934 tkr.", ())
    result = run_eval(CASES[:1], [], ScriptedAssistant(replies))
    assert result.answers is not None and result.answers.key_fact_accuracy == 0.0


def test_fast_subset_spans_categories_and_brings_parents() -> None:
    many = [
        make_case(f"f{i}", f"Fråga {i}?", "Förbundet redovisar ett överskott på 1 934 tkr", ("1 934",))
        for i in range(30)
    ]
    chosen = fast_subset(CASES[2:] + many, per_category=2)
    ids = [c.id for c in chosen]
    assert ids == ["navet-mer", "kungen", "f0", "f1"]
    assert [c.id for c in fast_subset(CASES + many, per_category=2)] == ["overskott", "navet", "navet-mer", "kungen"]
    assert with_parents([CASES[2]], CASES) == CASES[1:3]


def test_run_round_trips_through_json(run: EvalRun, tmp_path: Path) -> None:
    paths = write_report(run, tmp_path / "out")
    again = load_run(paths.json)
    assert again == run
    assert again.latency.ask_p95 == run.latency.ask_p95


def test_a_foreign_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"hello": 1}), encoding="utf-8")
    with pytest.raises(RunFileError):
        load_run(path)


def test_a_run_with_a_malformed_field_is_refused_with_the_field_named(run: EvalRun, tmp_path: Path) -> None:
    data = json.loads(run.to_json())
    data["latency"]["search_ms"] = ["fast"]
    path = tmp_path / "x.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RunFileError, match="search_ms"):
        load_run(path)


def test_markdown_and_html_show_tables_plots_and_failures(run: EvalRun) -> None:
    md = markdown(run)
    assert "| arkiv |" in md and "recall@5" in md
    assert "`navet-mer`" in md  # a missed fact is listed
    page = html_report(run, previous=run)
    assert page.count("data:image/png;base64,") == 3  # categories, latency, difference
    assert "Inga försämringar" in page


def test_compare_lists_what_got_worse(run: EvalRun) -> None:
    worse_config = ScriptedConfig("arkiv", {"overskott": 4})
    replies = dict(REPLIES)
    replies["kungen"] = AskResult("answered", "Kungen gillar förbundet [1].", (NOISE,))
    worse = run_eval(CASES, [worse_config], ScriptedAssistant(replies))
    found = {(r.scope, r.metric) for r in compare(run, worse)}
    assert ("arkiv", "recall_at_1") in found
    assert ("answers", "abstention") in found
    assert compare(run, run) == []
    assert compare(worse, run) == []  # improvements are not regressions


def test_cli_compare_exits_non_zero_on_regressions(run: EvalRun, tmp_path: Path) -> None:
    from indexer.cli import main

    worse = run_eval(CASES, [ScriptedConfig("arkiv", {})], ScriptedAssistant(REPLIES))
    a = write_report(run, tmp_path / "a").json
    b = write_report(worse, tmp_path / "b").json
    result = CliRunner().invoke(main, ["eval", "configs", "--compare", str(a), str(b)])
    assert result.exit_code == 1
    assert "recall@5" in result.output
    same = CliRunner().invoke(main, ["eval", "configs", "--compare", str(a), str(a)])
    assert same.exit_code == 0, same.output
    assert "Inga försämringar" in same.output


def test_http_backend_reads_the_api_shapes() -> None:
    item = {
        "rank": 1,
        "text": "Navet hade 60 000 besökare under året.",
        "document": {"id": "002_6eef74d69066060b", "source": DOC, "title": "Årsredovisning 2012"},
        "page_start": 3,
        "page_end": 3,
        "chunk_id": "002_6eef74d69066060b:7",
    }
    p = HttpAssistant._passage(item)
    assert p == Passage("002_6eef74d69066060b:7", "002_6eef74d69066060b", DOC, 3, 3, item["text"])


def test_cli_exports_feedback_as_candidate_cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.feedback import Feedback, FeedbackStore
    from indexer.cli import main

    store = FeedbackStore(tmp_path / "data" / "feedback.sqlite3")
    citation = {"document": {"source": DOC}, "page_start": 3, "quotes": ["Navet hade 60 000 besökare"]}
    store.add(Feedback("up", "Hur många besökte Navet?", "60 000 [1].", [citation], status="answered"))
    store.close()
    monkeypatch.setenv("ARKIV_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ARKIV_FEEDBACK_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "candidates.json"
    result = CliRunner().invoke(main, ["eval", "configs", "--export-feedback", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["count"] == 1
    assert data["cases"][0]["question"] == "Hur många besökte Navet?"
    assert data["cases"][0]["evidence"][0] == {"document": DOC, "page": 3, "quote": "Navet hade 60 000 besökare"}


def test_results_table_and_bench_cli_render_saved_results(run: EvalRun, tmp_path: Path) -> None:
    from evaluation.benchmarks import BenchResult, BenchRow
    from evaluation.report import bench_json, results_table
    from indexer.cli import main

    rows = tuple(
        BenchRow(name, ndcg, 0.5, 0.7, 0.8, 0.6, 12.0)
        for name, ndcg in (("bm25-plain", 0.5), ("dense", 0.6), ("sparse", 0.55), ("hybrid", 0.66), ("arkiv", 0.7))
    )
    results = [BenchResult("swefaq_sl2_test_pooled", 109, 109, 109, rows)]
    table = results_table(results, run)
    assert "| arkiv ÷ bm25-plain | – | – | 1.40× |" in table
    assert "| hybrid ÷ bästa av dense, sparse | – | – | 1.10× |" in table
    saved = tmp_path / "bench.json"
    saved.write_text(bench_json(results), encoding="utf-8")
    gold = write_report(run, tmp_path / "gold").json
    out = tmp_path / "results"
    result = CliRunner().invoke(main, ["bench", "--saved", str(saved), "--gold", str(gold), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "bench.png").read_bytes().startswith(b"\x89PNG")
    assert "guld recall@5" in (out / "results.md").read_text(encoding="utf-8")
