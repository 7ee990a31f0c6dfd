"""`arkiv eval` and `arkiv bench`."""

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


@click.command("eval")
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
def eval_command(
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
    """Run the gold set and report retrieval, answer and latency measures, side by side with the baselines.

    Example: arkiv eval --fast --previous evaluation/results/gold/run.json
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


@click.command()
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
    from evaluation.baselines import CachedEmbedder
    from evaluation.benchmarks import load_set, run_set
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
