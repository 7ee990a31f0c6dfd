"""Reports of a run: JSON, a Markdown summary, an HTML page with plots; comparing two runs.

The only module that imports matplotlib (through its object API, no pyplot state). Plots are PNGs, embedded
in the HTML as base64.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaluation.errors import EvaluationError, RunFileError
from evaluation.run import AnswerScores, EvalRun, RetrievalScores

if TYPE_CHECKING:
    from evaluation.benchmarks import BenchResult

RETRIEVAL_METRICS = ("recall_at_1", "recall_at_5", "recall_at_10", "mrr_at_10", "ndcg_at_10")
METRIC_LABELS = {
    "recall_at_1": "recall@1",
    "recall_at_5": "recall@5",
    "recall_at_10": "recall@10",
    "hit_at_5": "träff@5",
    "mrr_at_10": "MRR@10",
    "ndcg_at_10": "nDCG@10",
    "key_fact_accuracy": "nyckelfakta",
    "all_facts": "alla fakta",
    "citation_support": "källstöd",
    "citation_precision": "källprecision",
    "abstention": "avstår (obesvarbara)",
    "false_not_found": "felaktigt ”hittades inte”",
    "search_p95": "sök p95 ms",
    "ask_p95": "fråga p95 ms",
}
ANSWER_METRICS = (
    "key_fact_accuracy",
    "all_facts",
    "citation_support",
    "citation_precision",
    "abstention",
    "false_not_found",
)
LOWER_IS_BETTER = frozenset({"false_not_found", "search_p95", "ask_p95"})
TOLERANCE = 0.005
"""A score may drop this much (rounding, ties) before it counts as a regression."""
LATENCY_TOLERANCE = 0.5
"""Latency may grow by this share (and at least 50 ms) before it counts: timings on a shared machine wobble."""
CATEGORY_MIN_CASES = 3
"""Per-category changes are listed only for categories with at least this many cases."""


# --- files --------------------------------------------------------------------------------------------------


def write_json(run: EvalRun, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(run.to_json(), encoding="utf-8")


def load_run(path: Path | str) -> EvalRun:
    """A run saved by `write_json`. Raises RunFileError."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as ex:
        raise RunFileError(f"{p}: cannot read: {ex}") from ex
    try:
        return EvalRun.from_json(text)
    except RunFileError as ex:
        raise RunFileError(f"{p}: {ex}") from ex


# --- comparing ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Regression:
    """A measure that got worse from run `a` to run `b`."""

    metric: str
    scope: str
    """The configuration (and category), "answers" or "latency"."""
    before: float
    after: float

    def describe(self) -> str:
        label = METRIC_LABELS.get(self.metric, self.metric)
        return f"{self.scope}: {label} {self.before:.3f} -> {self.after:.3f} ({self.after - self.before:+.3f})"


def _worse(metric: str, before: float | None, after: float | None) -> bool:
    if before is None or after is None:
        return False
    if metric in ("search_p95", "ask_p95"):
        return after > before * (1 + LATENCY_TOLERANCE) and after - before > 50.0
    if metric in LOWER_IS_BETTER:
        return after > before + TOLERANCE
    return after < before - TOLERANCE


def _retrieval_changes(scope: str, a: RetrievalScores, b: RetrievalScores) -> list[Regression]:
    return [
        Regression(m, scope, getattr(a, m), getattr(b, m))
        for m in RETRIEVAL_METRICS
        if _worse(m, getattr(a, m), getattr(b, m))
    ]


def compare(a: EvalRun, b: EvalRun) -> list[Regression]:
    """What got worse from `a` (before) to `b` (after): retrieval per configuration and category, answers,
    latency. Only what both runs measured is compared."""
    out: list[Regression] = []
    for cb in b.configs:
        ca = a.config(cb.config)
        if ca is None:
            continue
        out.extend(_retrieval_changes(cb.config, ca.overall, cb.overall))
        before = {c.category: c.scores for c in ca.by_category}
        for cat in cb.by_category:
            if cat.category in before and min(cat.scores.cases, before[cat.category].cases) >= CATEGORY_MIN_CASES:
                out.extend(_retrieval_changes(f"{cb.config}/{cat.category}", before[cat.category], cat.scores))
    if a.answers is not None and b.answers is not None:
        for m in ANSWER_METRICS:
            x, y = getattr(a.answers, m), getattr(b.answers, m)
            if _worse(m, x, y):
                out.append(Regression(m, "answers", x, y))
    for m, x, y in (
        ("search_p95", a.latency.search_p95 if a.latency.search_ms else None, b.latency.search_p95),
        ("ask_p95", a.latency.ask_p95 if a.latency.ask_ms else None, b.latency.ask_p95),
    ):
        if _worse(m, x, y if y else None):
            out.append(Regression(m, "latency", float(x or 0.0), float(y)))
    return out


# --- Markdown -----------------------------------------------------------------------------------------------


def _f(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def retrieval_table(run: EvalRun) -> str:
    """Configurations side by side on the gold set."""
    head = (
        "| konfiguration | " + " | ".join(METRIC_LABELS[m] for m in RETRIEVAL_METRICS) + " | sök p50 ms | sök p95 ms |"
    )
    lines = [head, "|---" * (len(RETRIEVAL_METRICS) + 3) + "|"]
    for c in run.configs:
        values = " | ".join(_f(getattr(c.overall, m)) for m in RETRIEVAL_METRICS)
        lines.append(f"| {c.config} | {values} | {c.search_ms_p50:.0f} | {c.search_ms_p95:.0f} |")
    return "\n".join(lines)


def category_table(run: EvalRun, metric: str = "recall_at_5") -> str:
    categories = sorted({cat.category for c in run.configs for cat in c.by_category})
    lines = [
        f"| {METRIC_LABELS[metric]} | " + " | ".join(categories) + " |",
        "|---" * (len(categories) + 1) + "|",
    ]
    counts = {cat.category: cat.scores.cases for c in run.configs for cat in c.by_category}
    lines.append("| (fall) | " + " | ".join(str(counts[c]) for c in categories) + " |")
    for c in run.configs:
        got = {cat.category: getattr(cat.scores, metric) for cat in c.by_category}
        lines.append(f"| {c.config} | " + " | ".join(_f(got.get(cat)) for cat in categories) + " |")
    return "\n".join(lines)


def answer_table(answers: AnswerScores) -> str:
    lines = ["| mått | värde |", "|---|---|"]
    for m in ANSWER_METRICS:
        lines.append(f"| {METRIC_LABELS[m]} | {_f(getattr(answers, m))} |")
    lines.append(f"| fall (besvarbara / obesvarbara) | {answers.answerable} / {answers.unanswerable} |")
    return "\n".join(lines)


def markdown(run: EvalRun, previous: EvalRun | None = None) -> str:
    """A summary for a terminal, a pull request or the README."""
    info = run.info
    parts = [
        "# Utvärdering av Arkiv",
        "",
        f"{info.created} · {info.target} · {info.cases} fall{' (snabb delmängd)' if info.fast else ''}"
        + (f" · {info.model_id}" if info.model_id else "")
        + (f" · {info.chunks} chunkar" if info.chunks else ""),
        "",
        f"## Sökning (top {info.k}, besvarbara fall)",
        "",
        retrieval_table(run),
        "",
        "### Per kategori",
        "",
        category_table(run),
    ]
    if run.answers is not None:
        parts += ["", "## Svar", "", answer_table(run.answers)]
    lat = run.latency
    if lat.search_ms or lat.ask_ms:
        parts += [
            "",
            "## Svarstider",
            "",
            "| | p50 ms | p95 ms | anrop |",
            "|---|---|---|---|",
        ]
        if lat.search_ms:
            parts.append(f"| sök (arkiv) | {lat.search_p50:.0f} | {lat.search_p95:.0f} | {len(lat.search_ms)} |")
        if lat.ask_ms:
            parts.append(f"| fråga | {lat.ask_p50:.0f} | {lat.ask_p95:.0f} | {len(lat.ask_ms)} |")
    failures = [
        c
        for c in run.cases
        if c.status is not None and (c.facts_missing or (not c.answerable and c.status != "not_found"))
    ]
    if failures:
        parts += ["", "## Fall att titta på", ""]
        for c in failures:
            why = f"saknar {', '.join(c.facts_missing)}" if c.facts_missing else "svarade på en obesvarbar fråga"
            parts.append(f"- `{c.id}` ({c.category}, {c.status}): {why}")
    if previous is not None:
        regressions = compare(previous, run)
        parts += ["", f"## Jämfört med {previous.info.created}", ""]
        parts += [f"- {r.describe()}" for r in regressions] or ["Inga försämringar."]
    for note in info.notes:
        parts += ["", f"> {note}"]
    return "\n".join(parts) + "\n"


def bench_table(results: Sequence[BenchResult]) -> str:
    """Configurations against the public benchmarks: nDCG@10 / recall@10 / MRR@10 per set."""
    configs: list[str] = []
    for r in results:
        for row in r.rows:
            if row.config not in configs:
                configs.append(row.config)
    head = "| konfiguration | " + " | ".join(f"{r.set_name} ({r.queries} fr.)" for r in results) + " |"
    lines = [head, "|---" * (len(results) + 1) + "|"]
    for config in configs:
        cells = []
        for r in results:
            got = r.row(config)
            cells.append("–" if got is None else f"{got.ndcg_at_10:.3f} / {got.recall_at_10:.3f} / {got.mrr_at_10:.3f}")
        lines.append(f"| {config} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\nVärden: nDCG@10 / recall@10 / MRR@10.\n"


def results_table(results: Sequence[BenchResult], gold: EvalRun | None = None) -> str:
    """The README table: every configuration on the gold set and on each public set, with the ratios that
    back a claim of "better" (measured in the same run, on the same chunks)."""
    configs: list[str] = []
    if gold is not None:
        configs.extend(c.config for c in gold.configs)
    for r in results:
        configs.extend(row.config for row in r.rows if row.config not in configs)
    columns: list[tuple[str, dict[str, float]]] = []
    if gold is not None:
        columns.append(("guld recall@5", {c.config: c.overall.recall_at_5 for c in gold.configs}))
        columns.append(("guld nDCG@10", {c.config: c.overall.ndcg_at_10 for c in gold.configs}))
    for r in results:
        columns.append((f"{r.set_name} nDCG@10", {row.config: row.ndcg_at_10 for row in r.rows}))
    lines = [
        "| konfiguration | " + " | ".join(name for name, _ in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for config in configs:
        lines.append(f"| {config} | " + " | ".join(_f(values.get(config)) for _, values in columns) + " |")

    def ratio(top: str, bottom: Sequence[str]) -> list[str]:
        cells = []
        for _, values in columns:
            parts = [values[b] for b in bottom if b in values]
            cells.append(f"{values[top] / max(parts):.2f}×" if top in values and parts and max(parts) > 0 else "–")
        return cells

    lines.append("| arkiv ÷ bm25-plain | " + " | ".join(ratio("arkiv", ["bm25-plain"])) + " |")
    lines.append("| hybrid ÷ bästa av dense, sparse | " + " | ".join(ratio("hybrid", ["dense", "sparse"])) + " |")
    lines.append("| arkiv ÷ llamaindex | " + " | ".join(ratio("arkiv", ["llamaindex"])) + " |")
    return "\n".join(lines) + "\n"


def bench_json(results: Sequence[BenchResult]) -> str:
    return json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=1)


def load_bench(path: Path | str) -> list[BenchResult]:
    """Benchmark results saved by `arkiv bench` (bench.json)."""
    from evaluation.benchmarks import BenchResult, BenchRow

    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        return [
            BenchResult(
                set_name=r["set_name"],
                queries=int(r["queries"]),
                passages=int(r["passages"]),
                chunks=int(r["chunks"]),
                rows=tuple(BenchRow(**row) for row in r["rows"]),
            )
            for r in data
        ]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as ex:
        raise RunFileError(f"{p}: not a benchmark result file: {ex}") from ex


# --- plots --------------------------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as ex:  # an optional extra: say how to get it
        raise EvaluationError("the report's plots need matplotlib: pip install 'arkiv[eval]'") from ex

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _grouped_bars(ax: Any, groups: Sequence[str], series: Sequence[tuple[str, Sequence[float]]]) -> None:
    n = max(len(series), 1)
    width = 0.8 / n
    for i, (label, values) in enumerate(series):
        xs = [g + (i - (n - 1) / 2) * width for g in range(len(groups))]
        ax.bar(xs, values, width, label=label)
    ax.set_xticks(range(len(groups)), groups, rotation=20, ha="right")
    ax.set_ylim(0, 1.05)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def category_plot(run: EvalRun, metric: str = "recall_at_5") -> bytes:
    """Per-category bars of one retrieval measure, one bar per configuration."""
    categories = sorted({cat.category for c in run.configs for cat in c.by_category})
    fig = _figure(9, 4)
    ax = fig.subplots()
    series = []
    for c in run.configs:
        got = {cat.category: getattr(cat.scores, metric) for cat in c.by_category}
        series.append((c.config, [got.get(cat, 0.0) for cat in categories]))
    _grouped_bars(ax, categories, series)
    ax.set_title(f"{METRIC_LABELS[metric]} per kategori")
    return _png(fig)


def latency_plot(run: EvalRun) -> bytes:
    """Histograms of search and ask times."""
    fig = _figure(9, 3.5)
    axes = fig.subplots(1, 2)
    for ax, values, title in (
        (axes[0], run.latency.search_ms, "sök (ms)"),
        (axes[1], run.latency.ask_ms, "fråga (ms)"),
    ):
        if values:
            ax.hist(values, bins=20, color="#4c72b0")
            ax.axvline(run.latency.search_p95 if ax is axes[0] else run.latency.ask_p95, color="#c44e52", ls="--")
        ax.set_title(title + " – streck: p95")
        ax.set_ylabel("anrop")
    return _png(fig)


def diff_plot(run: EvalRun, previous: EvalRun, metric: str = "recall_at_5") -> bytes:
    """Change of each configuration's retrieval measures, and of the answer measures, since `previous`."""
    labels: list[str] = []
    deltas: list[float] = []
    for c in run.configs:
        p = previous.config(c.config)
        if p is not None:
            for m in ("recall_at_5", "ndcg_at_10"):
                labels.append(f"{c.config} {METRIC_LABELS[m]}")
                deltas.append(getattr(c.overall, m) - getattr(p.overall, m))
    if run.answers is not None and previous.answers is not None:
        for m in ANSWER_METRICS:
            x, y = getattr(previous.answers, m), getattr(run.answers, m)
            if x is not None and y is not None:
                labels.append(METRIC_LABELS[m])
                deltas.append((x - y) if m in LOWER_IS_BETTER else (y - x))
    fig = _figure(9, max(2.5, 0.28 * len(labels) + 1))
    ax = fig.subplots()
    colors = ["#55a868" if d >= 0 else "#c44e52" for d in deltas]
    ax.barh(range(len(labels)), deltas, color=colors)
    for i, d in enumerate(deltas):
        ax.annotate(f"{d:+.3f}", (d, i), fontsize=7, va="center", ha="left" if d >= 0 else "right")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.invert_yaxis()
    ax.set_title(f"Förändring sedan {previous.info.created} (grönt = bättre)")
    return _png(fig)


def bench_plot(results: Sequence[BenchResult], gold: EvalRun | None = None) -> bytes:
    """nDCG@10 per configuration on each public set (and on the gold set, when given)."""
    configs: list[str] = []
    for r in results:
        configs.extend(row.config for row in r.rows if row.config not in configs)
    if gold is not None:
        configs.extend(c.config for c in gold.configs if c.config not in configs)
    groups = [r.set_name for r in results] + (["guldset"] if gold is not None else [])
    series = []
    for config in configs:
        values = []
        for r in results:
            row = r.row(config)
            values.append(row.ndcg_at_10 if row else 0.0)
        if gold is not None:
            g = gold.config(config)
            values.append(g.overall.ndcg_at_10 if g else 0.0)
        series.append((config, values))
    fig = _figure(10, 4.2)
    ax = fig.subplots()
    _grouped_bars(ax, groups, series)
    ax.set_title("nDCG@10 per konfiguration")
    return _png(fig)


# --- HTML ---------------------------------------------------------------------------------------------------


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _md_table_html(table: str) -> str:
    rows = [r.strip().strip("|").split("|") for r in table.strip().splitlines()]
    head, body = rows[0], [r for r in rows[2:]]
    out = ["<table><thead><tr>"] + [f"<th>{html.escape(c.strip())}</th>" for c in head] + ["</tr></thead><tbody>"]
    for r in body:
        out.append("<tr>" + "".join(f"<td>{html.escape(c.strip())}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def html_report(run: EvalRun, previous: EvalRun | None = None) -> str:
    """One self-contained HTML page: tables, plots, regressions and the cases to look at."""
    info = run.info
    sections = [
        f"<h1>Utvärdering av Arkiv</h1><p>{html.escape(info.created)} · {html.escape(info.target)} · "
        f"{info.cases} fall{' (snabb delmängd)' if info.fast else ''} · {html.escape(info.model_id)}</p>",
        "<h2>Sökning</h2>",
        _md_table_html(retrieval_table(run)),
        "<h3>Per kategori</h3>",
        _md_table_html(category_table(run)),
        _img(category_plot(run), "recall@5 per kategori"),
    ]
    if run.answers is not None:
        sections += ["<h2>Svar</h2>", _md_table_html(answer_table(run.answers))]
    if run.latency.search_ms or run.latency.ask_ms:
        sections += ["<h2>Svarstider</h2>", _img(latency_plot(run), "svarstider")]
    if previous is not None:
        regressions = compare(previous, run)
        items = "".join(f"<li>{html.escape(r.describe())}</li>" for r in regressions) or "<li>Inga försämringar.</li>"
        sections += [
            f"<h2>Jämfört med {html.escape(previous.info.created)}</h2>",
            f"<ul>{items}</ul>",
            _img(diff_plot(run, previous), "förändring"),
        ]
    rows = []
    for c in run.cases:
        firsts = ", ".join(f"{r.config}: {r.first_relevant or '–'}" for r in c.retrieval)
        rows.append(
            "<tr>"
            f"<td>{html.escape(c.id)}</td><td>{html.escape(c.category)}</td><td>{html.escape(c.status or '')}</td>"
            f"<td>{html.escape(', '.join(c.facts_missing))}</td><td>{c.citations_relevant}/{c.citations}</td>"
            f"<td>{html.escape(firsts)}</td>"
            "</tr>"
        )
    sections += [
        "<h2>Fall</h2><table><thead><tr><th>id</th><th>kategori</th><th>status</th><th>saknade fakta</th>"
        "<th>relevanta källor</th><th>första relevanta rang</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    ]
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px}"
        "th{background:#f3f3f3}img{max-width:100%}"
    )
    return (
        '<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Utvärdering av Arkiv</title>'
        f"<style>{style}</style></head><body>" + "".join(sections) + "</body></html>\n"
    )


@dataclass(frozen=True)
class WrittenReport:
    json: Path
    markdown: Path
    html: Path


def write_report(run: EvalRun, out_dir: Path, previous: EvalRun | None = None) -> WrittenReport:
    """run.json, summary.md and report.html in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = WrittenReport(out_dir / "run.json", out_dir / "summary.md", out_dir / "report.html")
    write_json(run, paths.json)
    paths.markdown.write_text(markdown(run, previous), encoding="utf-8")
    paths.html.write_text(html_report(run, previous), encoding="utf-8")
    return paths
