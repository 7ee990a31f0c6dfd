"""`arkiv eval` (systems side by side; `arkiv eval swequad`, `arkiv eval configs`) and `arkiv bench`."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from assistant.errors import AssistantError
from evaluation.dataset import GoldSetError
from evaluation.errors import EvaluationError
from indexer.errors import IndexerError

logger = logging.getLogger(__name__)

RUNS_DIR = Path("evaluation") / "runs"


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def _split(values: Sequence[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _progress(step: int, steps: int, what: str) -> None:
    click.echo(f"[{step}/{steps}] {what}", err=True)


DEFAULT_SYSTEMS = ("naive", "v0.1.0", "current")
DEFAULT_SETS = ("corpus", "swefaq", "real_pdfs")


@click.group("eval", invoke_without_command=True)
@click.option(
    "--systems",
    "system_names",
    multiple=True,
    help="Systems, comma-separated: naive, current, or a release tag such as v0.1.0 (run from a git worktree). "
    f"Default: {','.join(DEFAULT_SYSTEMS)}.",
)
@click.option(
    "--sets",
    "set_names",
    multiple=True,
    help="Case sets, comma-separated: corpus (gold.yaml over corpus/), swefaq (SweFAQ questions the archive "
    f"should decline), real_pdfs (real_pdfs.yaml over ../shared/real-pdfs). Default: {','.join(DEFAULT_SETS)}.",
)
@click.option("--fast", is_flag=True, help="The fast subset of the corpus gold set only (what the CI gate runs).")
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds, grouped by document.")
@click.option("--reps", default=1000, show_default=True, help="Bootstrap draws per interval.")
@click.option(
    "--cache",
    type=click.Path(path_type=Path),
    help="Folder for cached indexes, vectors and release worktrees. Default: ARKIV_EVAL_CACHE or ~/.cache/arkiv-eval.",
)
@click.option(
    "--ocr-cache",
    type=click.Path(path_type=Path),
    help="Folder of OCR'd pages. Default: the gold set's (ARKIV_GOLD_OCR_CACHE or data/gold-ocr-cache).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Folder for suite.json, summary.md and results.md (the README's table). Default: evaluation/runs/<time>/.",
)
@click.pass_context
def eval_command(
    ctx: click.Context,
    system_names: tuple[str, ...],
    set_names: tuple[str, ...],
    fast: bool,
    folds: int,
    reps: int,
    cache: Path | None,
    ocr_cache: Path | None,
    out: Path | None,
) -> None:
    """Evaluate systems side by side on the gold sets: the test split and grouped cross-validation.

    Per system and set: recall@5, MRR@10, facts@5/@10, all facts and key facts of the answers, citation
    support, abstention, false "not found" (each with a 95% bootstrap interval), answer length and latency.
    Indexes are cached between runs (keyed by code, inputs and settings); see evaluation/README.md.

    Example: arkiv eval --systems naive,v0.1.0,current --sets corpus,swefaq,real_pdfs
    """
    if ctx.invoked_subcommand is not None:
        return
    from evaluation.harness import default_cache_dir
    from evaluation.suite import markdown, results_table, run_suite

    systems = _split(system_names) or (["naive", "current"] if fast else list(DEFAULT_SYSTEMS))
    sets = _split(set_names) or (["corpus"] if fast else list(DEFAULT_SETS))
    for name in sets:
        if name not in DEFAULT_SETS:
            raise click.BadParameter(
                f"unknown set {name!r}; choose from {', '.join(DEFAULT_SETS)}", param_hint="--sets"
            )
    if folds < 2:
        raise click.BadParameter("at least 2", param_hint="--folds")
    try:
        corpora, skipped = _corpora(sets, fast)
        run = run_suite(
            corpora,
            systems,
            cache or default_cache_dir(),
            ocr_cache=ocr_cache,
            command=" ".join(["arkiv", "eval", *_argv_tail()]),
            skipped=skipped,
            folds=folds,
            reps=reps,
            progress=lambda line: click.echo(line, err=True),
        )
    except (EvaluationError, GoldSetError, IndexerError, AssistantError) as ex:
        raise click.ClickException(str(ex)) from ex
    folder = out or RUNS_DIR / _stamp()
    folder.mkdir(parents=True, exist_ok=True)
    summary = markdown(run)
    (folder / "suite.json").write_text(run.to_json(), encoding="utf-8")
    (folder / "summary.md").write_text(summary, encoding="utf-8")
    (folder / "results.md").write_text(results_table(run), encoding="utf-8")
    click.echo(summary)
    for line in skipped:
        click.echo(f"Hoppade över: {line}", err=True)
    click.echo(f"Resultat: {folder}", err=True)


def _argv_tail() -> list[str]:
    import sys

    argv = sys.argv[1:]
    return argv[argv.index("eval") + 1 :] if "eval" in argv else []


def _corpora(sets: Sequence[str], fast: bool) -> tuple[list[Any], list[str]]:
    """The corpora to index and the case lists asked against each; what had to be skipped, and why."""
    from evaluation.dataset import GOLD_SETS, load_gold_set, load_negatives
    from evaluation.run import fast_subset
    from evaluation.suite import CaseList, Corpus, negative_cases

    corpora: list[Any] = []
    skipped: list[str] = []
    lists: list[Any] = []
    if "corpus" in sets:
        cases = load_gold_set("corpus")
        if fast:
            cases = fast_subset(cases)
        lists.append(CaseList("corpus", "gold.yaml över corpus/", tuple(cases)))
    if "swefaq" in sets:
        negatives = negative_cases(load_negatives())
        lists.append(
            CaseList(
                "swefaq",
                "SweFAQ-frågor om andra myndigheters ärenden, som arkivet ska avböja (test: SweFAQ test, träning: dev)",
                tuple(negatives),
            )
        )
    if lists:
        corpora.append(Corpus("corpus", (GOLD_SETS["corpus"].root,), tuple(lists)))
    if "real_pdfs" in sets:
        real = GOLD_SETS["real_pdfs"]
        pdfs = sorted(real.root.glob("*.pdf")) if real.root.is_dir() else []
        if not pdfs:
            skipped.append(f"real_pdfs: inga PDF:er i {real.root} (sätt ARKIV_REAL_PDFS_DIR)")
        elif not real.file.is_file():
            skipped.append(f"real_pdfs: {real.file} finns inte")
        else:
            cases = load_gold_set("real_pdfs")
            corpora.append(
                Corpus(
                    "real_pdfs", tuple(pdfs), (CaseList("real_pdfs", f"real_pdfs.yaml över {real.root}", tuple(cases)),)
                )
            )
    return corpora, skipped


@eval_command.command("swequad")
@click.option("--split", type=click.Choice(["dev", "training"]), default="dev", show_default=True)
@click.option(
    "--systems",
    "system_names",
    multiple=True,
    help="Systems, comma-separated (as for `arkiv eval`). Default: current. --systems '' runs the anchors only.",
)
@click.option("--reps", default=1000, show_default=True, help="Bootstrap draws per interval.")
@click.option("--cache", type=click.Path(path_type=Path), help="As for `arkiv eval`.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Folder for swequad.json and swequad.md. Default: evaluation/runs/swequad-<time>/.",
)
def swequad_command(split: str, system_names: tuple[str, ...], reps: int, cache: Path | None, out: Path | None) -> None:
    """SweQUAD-MC's questions through the assistant over its own texts, scored by the answer spans.

    Reports, per system and beside two anchors (the right text whole; its 1 and 3 sentences with most
    question words in common): the share of answers holding the correct span, holding a distractor instead,
    citing the right text, declining, and the answer length.

    Example: arkiv eval swequad --split dev --systems naive,current
    """
    from evaluation.harness import default_cache_dir
    from evaluation.swequad import markdown, run_swequad

    systems = _split(system_names) if system_names else ["current"]
    try:
        run = run_swequad(
            systems, cache or default_cache_dir(), split=split, reps=reps, progress=lambda x: click.echo(x, err=True)
        )
    except (EvaluationError, IndexerError, AssistantError) as ex:
        raise click.ClickException(str(ex)) from ex
    folder = out or RUNS_DIR / f"swequad-{_stamp()}"
    folder.mkdir(parents=True, exist_ok=True)
    table = markdown(run)
    (folder / "swequad.json").write_text(run.to_json(), encoding="utf-8")
    (folder / "swequad.md").write_text(table, encoding="utf-8")
    click.echo(table)
    click.echo(f"Resultat: {folder}", err=True)


@eval_command.command("cases")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="An index's data dir (run `arkiv index` into it first). Default: ARKIV_DATA_DIR.",
)
def cases_command(data_dir: Path | None) -> None:
    """Case timelines against their pages: every case number on more than one page and the pages its timeline
    does not cover.

    Example: ARKIV_DATA_DIR=data-pdfs arkiv index ../shared/real-pdfs && arkiv eval cases --data-dir data-pdfs
    """
    from evaluation.casecheck import check_cases, markdown
    from indexer.cases import case_index_path

    if data_dir is None:
        from indexer.settings import IndexSettings

        data_dir = IndexSettings().data_dir
    if not case_index_path(data_dir).exists():
        raise click.ClickException(f"no case index in {data_dir}: run `arkiv index` with ARKIV_DATA_DIR={data_dir}")
    click.echo(markdown(check_cases(data_dir)), nl=False)


@eval_command.command("configs")
@click.option("--url", help="Evaluate a running Arkiv server (its /api/search and /api/ask) instead of in-process.")
@click.option(
    "--fast", is_flag=True, help="Only the fast subset (3 cases per category) and the configurations the CI gate uses."
)
@click.option(
    "--configs",
    "config_names",
    multiple=True,
    help="Retrieval configurations, comma-separated "
    "(bm25-plain, dense, sparse, hybrid, arkiv, llamaindex). Default: all; with --fast all but llamaindex.",
)
@click.option("--no-ask", is_flag=True, help="Measure retrieval only, not the answers.")
@click.option("--no-index", is_flag=True, help="Use the index as it is, without updating it from the corpus first.")
@click.option(
    "--cached-vectors",
    is_flag=True,
    help="Look up passage vectors the assistant embeds again in a cache "
    "under ARKIV_DATA_DIR/cache: same results, faster, but latencies understate production's.",
)
@click.option(
    "--gold", type=click.Path(exists=True, path_type=Path), help="Gold set file or folder. Default: evaluation/gold/."
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Folder for run.json, summary.md and report.html. Default: evaluation/runs/<time>/.",
)
@click.option("--previous", type=click.Path(exists=True, path_type=Path), help="An earlier run.json to compare with.")
@click.option(
    "--export-feedback",
    type=click.Path(path_type=Path),
    metavar="FILE.json",
    help="Only write the feedback collected on the web and in Slack as candidate gold cases, for review.",
)
@click.option(
    "--compare",
    nargs=2,
    type=click.Path(exists=True, path_type=Path),
    metavar="A.json B.json",
    help="Only compare two saved runs and list what got worse from A to B (exit 1 if anything did).",
)
def configs_command(
    url: str | None,
    fast: bool,
    config_names: tuple[str, ...],
    no_ask: bool,
    no_index: bool,
    cached_vectors: bool,
    gold: Path | None,
    out: Path | None,
    previous: Path | None,
    export_feedback: Path | None,
    compare: tuple[Path, Path] | None,
) -> None:
    """Retrieval configurations side by side on the whole gold set (bm25-plain, dense, sparse, hybrid, arkiv,
    llamaindex), with the assistant's answers; in-process over ARKIV_DATA_DIR, or a running server (--url).

    Example: arkiv eval configs --fast --previous evaluation/runs/20261206-040000/run.json
    """
    from evaluation.report import compare as compare_runs
    from evaluation.report import load_run, markdown, write_report

    if export_feedback:
        _export_feedback(export_feedback)
        return
    try:
        if compare:
            before, after = load_run(compare[0]), load_run(compare[1])
            regressions = compare_runs(before, after)
            for r in regressions:
                click.echo(r.describe())
            if regressions:
                raise click.ClickException(f"{len(regressions)} försämringar från {compare[0]} till {compare[1]}")
            click.echo("Inga försämringar.")
            return
        prior = load_run(previous) if previous else None
        run = _run(url, fast, _split(config_names), no_ask, no_index, cached_vectors, gold)
        paths = write_report(run, out or RUNS_DIR / _stamp(), prior)
    except (EvaluationError, GoldSetError, IndexerError, AssistantError) as ex:
        raise click.ClickException(str(ex)) from ex
    click.echo(markdown(run, prior))
    click.echo(f"Rapport: {paths.html}\nJSON: {paths.json}", err=True)


def _export_feedback(path: Path) -> None:
    from assistant.feedback import FeedbackStore
    from assistant.settings import AssistantSettings

    settings = AssistantSettings()
    db = settings.data_dir / settings.feedback_db
    if not db.exists():
        raise click.ClickException(f"Ingen återkoppling finns än ({db}).")
    store = FeedbackStore(db)
    try:
        cases = store.export_candidates()
    finally:
        store.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"version": 1, "count": len(cases), "cases": cases}, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    click.echo(f"{len(cases)} kandidatfall till {path}: granska dem och för in de goda i evaluation/gold/.")


def _run(
    url: str | None, fast: bool, names: list[str], no_ask: bool, no_index: bool, cached_vectors: bool, gold: Path | None
) -> Any:
    from evaluation.baselines import ALL_CONFIGS
    from evaluation.dataset import load_gold
    from evaluation.run import HttpAssistant, RunInfo, evaluate_in_process, fast_subset, machine_note, now, run_eval

    for name in names:
        if name not in ALL_CONFIGS:
            raise click.BadParameter(
                f"unknown configuration {name!r}; choose from {', '.join(ALL_CONFIGS)}", param_hint="--configs"
            )
    cases = load_gold(gold)
    if fast:
        cases = fast_subset(cases)
    if url:
        server = HttpAssistant(url)
        skipped = [n for n in (names or ALL_CONFIGS) if n != "arkiv"]
        notes: tuple[str, ...] = (machine_note(),)
        if skipped:
            notes += (f"Mot en server mäts bara arkiv; hoppade över {', '.join(skipped)}.",)
        info = RunInfo(created=now(), target=url, cases=len(cases), fast=fast, notes=notes)
        return run_eval(cases, [server], None if no_ask else server, info=info, progress=_progress)

    from assistant.settings import AssistantSettings
    from indexer.cli import _progress as index_progress

    return evaluate_in_process(
        AssistantSettings(),
        cases,
        names or None,
        ask=not no_ask,
        update_index=not no_index,
        fast=fast,
        progress=_progress,
        index_progress=index_progress,
        cached_vectors=cached_vectors,
    )


@click.group(invoke_without_command=True)  # a group only so that `arkiv bench speed` can live under it
@click.option(
    "--sets",
    "set_names",
    multiple=True,
    help="Benchmarks, comma-separated (default: SweFAQ test and dev, SweQUAD-MC test and all).",
)
@click.option(
    "--configs",
    "config_names",
    multiple=True,
    help="Configurations, comma-separated: bm25-passages, "
    "bm25-plain, dense, sparse, hybrid, arkiv, llamaindex. Default: all.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Folder for bench.json, bench.md and bench.png. Default: evaluation/runs/bench-<time>/.",
)
@click.option(
    "--gold",
    "gold_run",
    type=click.Path(exists=True, path_type=Path),
    help="A gold-set run.json to show beside the benchmarks (in results.md and the plot).",
)
@click.option(
    "--saved",
    type=click.Path(exists=True, path_type=Path),
    metavar="BENCH.json",
    help="Render the table and plot from saved results (a bench.json) instead of running the benchmarks.",
)
def bench(
    set_names: tuple[str, ...],
    config_names: tuple[str, ...],
    out: Path | None,
    gold_run: Path | None,
    saved: Path | None,
) -> None:
    """Run the public Swedish retrieval benchmarks (SweFAQ, SweQUAD-MC) through every configuration.

    Writes bench.json, bench.md and bench.png; with --gold also results.md, the README's table of every
    configuration on the gold set and the public sets. Passage vectors are cached under ARKIV_DATA_DIR/cache,
    so a second run embeds nothing again.

    Example: arkiv bench --sets swefaq_sl2_test_pooled --configs bm25-plain,hybrid,arkiv
    """
    if click.get_current_context().invoked_subcommand:  # `arkiv bench speed` (evaluation/speed.py)
        return
    from evaluation.benchmarks import BENCH_CONFIGS, DEFAULT_SETS, SETS
    from evaluation.report import bench_json, bench_plot, bench_table, load_bench, load_run, results_table

    sets = _split(set_names) or list(DEFAULT_SETS)
    configs = _split(config_names) or list(BENCH_CONFIGS)
    for s in sets:
        if s not in SETS:
            raise click.BadParameter(f"unknown set {s!r}; choose from {', '.join(SETS)}", param_hint="--sets")
    for c in configs:
        if c not in BENCH_CONFIGS:
            raise click.BadParameter(
                f"unknown configuration {c!r}; choose from {', '.join(BENCH_CONFIGS)}", param_hint="--configs"
            )
    try:
        gold = load_run(gold_run) if gold_run else None
        results = load_bench(saved) if saved else _run_bench(sets, configs)
    except (EvaluationError, IndexerError, AssistantError) as ex:
        raise click.ClickException(str(ex)) from ex
    folder = out or RUNS_DIR / f"bench-{_stamp()}"
    folder.mkdir(parents=True, exist_ok=True)
    table = bench_table(results)
    (folder / "bench.json").write_text(bench_json(results), encoding="utf-8")
    (folder / "bench.md").write_text(table, encoding="utf-8")
    (folder / "bench.png").write_bytes(bench_plot(results, gold))
    click.echo(table)
    if gold is not None:
        combined = results_table(results, gold)
        (folder / "results.md").write_text(combined, encoding="utf-8")
        click.echo(combined)
    click.echo(f"Resultat: {folder}", err=True)


def _run_bench(sets: Sequence[str], configs: Sequence[str]) -> list[Any]:
    from assistant.service import Assistant
    from assistant.settings import AssistantSettings
    from evaluation.benchmarks import load_set, run_set
    from evaluation.harness import CachedEmbedder
    from indexer.catalog import Catalog
    from indexer.embed import make_embedder
    from indexer.pipeline import IndexOptions
    from indexer.sparse import SparseEncoder

    settings = AssistantSettings()
    embedder = CachedEmbedder(make_embedder(settings), settings.cache_dir, memo_queries=True)
    sparse = SparseEncoder(cache_dir=settings.cache_dir)
    options = IndexOptions(settings.chunk_tokens, settings.chunk_overlap, settings.min_text_quality)
    results = []
    with tempfile.TemporaryDirectory(prefix="arkiv-bench-catalog-") as empty:

        def arkiv(store: Any, emb: Any, sp: Any) -> Any:
            return Assistant(settings=settings, store=store, embedder=emb, sparse=sp, catalog=Catalog(Path(empty)))

        for n, name in enumerate(sets, 1):
            click.echo(f"[{n}/{len(sets)}] {name}", err=True)
            results.append(
                run_set(load_set(name), configs, embedder=embedder, sparse=sparse, options=options, arkiv=arkiv)
            )
    return results


# -- `arkiv bench speed` (evaluation/speed.py, issue 14) --
from evaluation.speed import serve_latency as _serve_latency  # noqa: E402
from evaluation.speed import speed as _speed  # noqa: E402

bench.add_command(_speed)
bench.add_command(_serve_latency)
# -- end `arkiv bench speed` --
