"""`arkiv bench speed`: how fast Arkiv indexes, searches and answers, beside a plain llama-index pipeline.

One run measures, each phase in a fresh process (so that its peak memory is its own):
- end-to-end indexing of a corpus folder in pages/s and chunks/s: Arkiv as shipped (answer units with their own
  vectors), Arkiv "chunks only" (IndexOptions.unit_dense off: units are still stored, with their chunk's vector;
  the pipeline has no switch that drops units altogether), and a plain llama-index ingestion
  (SimpleDirectoryReader, SentenceSplitter, VectorStoreIndex) with the same embedder;
- the real PDFs (--pdfs): wall time, pages OCR'd, CPU use (user+system of the process and its children / wall);
- search and ask latency p50/p95 over the corpus index and over a synthetic archive of N chunks (the corpus'
  stored points replicated with varied metadata, their vectors reused with small seeded perturbations: nothing
  is embedded again), the time to reopen that archive and the peak memory of the process serving it;
- the embedder's throughput beside this CPU's measured float32 matmul rate for the model's shapes.

Timings depend on the machine and its load; the table says what was measured, nothing is extrapolated.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import click

QUERIES = (
    "Vad beslutade kommunstyrelsen om budgeten?",
    "Hur stort var årets resultat?",
    "Vilka risker finns i internkontrollplanen?",
    "Vem är ordförande i nämnden?",
    "Hur många anställda har kommunen?",
    "Vad kostar investeringarna i skolan?",
    "När ska budgetanvisningarna vara klara?",
    "Vilka mål har socialnämnden för äldreomsorgen?",
    "Hur hanteras sjukfrånvaron bland personalen?",
    "Vad sägs om kollektivtrafiken?",
    "Vilka åtgärder föreslås för att minska kostnaderna?",
    "Hur ser likviditeten ut vid årets slut?",
)
"""Questions of the kinds people ask the archive; latency is measured over them (the answers are not judged)."""

# multilingual-e5-small: 12 encoder layers, hidden 384, intermediate 1536.
E5_LAYERS, E5_HIDDEN, E5_INTERMEDIATE = 12, 384, 1536


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _in_child(fn: Any, *args: Any) -> Any:
    """Run `fn(*args)` in a fresh process and return its result (its peak memory is its own)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    i = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[i]


# -- the corpus, cut to a page limit ----------------------------------------------------------------------------


def limited_corpus(corpus: Path, limit_pages: int | None, into: Path) -> Path:
    """`corpus`, or a copy of its first files holding at most `limit_pages` pages (the last file cut short)."""
    from indexer.load import split_text_pages
    from indexer.pipeline import iter_files
    from indexer.sidecar import is_sidecar

    if limit_pages is None:
        return corpus
    into.mkdir(parents=True, exist_ok=True)
    left = limit_pages
    for path in iter_files(corpus):
        if left <= 0:
            break
        target = into / path.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        suffix = path.suffix.lower()
        if suffix == ".txt":
            pages = split_text_pages(path.read_text(encoding="utf-8", errors="replace"))[:left]
            target.write_text("\n".join(pages) + "\n", encoding="utf-8")
            left -= len(pages)
        elif suffix == ".pdf":
            from pypdf import PdfReader, PdfWriter

            reader, writer = PdfReader(path), PdfWriter()
            for page in reader.pages[:left]:
                writer.add_page(page)
            with target.open("wb") as f:
                writer.write(f)
            left -= min(left, len(reader.pages))
        else:
            shutil.copy2(path, target)
            left -= 1
        for sidecar in path.parent.glob(path.stem + ".*"):
            if sidecar != path and is_sidecar(sidecar):
                shutil.copy2(sidecar, into / sidecar.relative_to(corpus))
    return into


# -- phases (each runs in its own process) ----------------------------------------------------------------------


class _Recording:
    """A store that keeps what is upserted (for the synthetic archive) and passes everything on."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.points: list[Any] = []

    def upsert(self, points: Any) -> None:
        self.points.extend(points)
        self._inner.upsert(points)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def phase_arkiv(corpus: str, data_dir: str, unit_dense: bool, record: str | None) -> dict[str, Any]:
    """Index `corpus` into a fresh `data_dir` as `arkiv index` does; unit_dense off gives "chunks only"."""
    from indexer.catalog import Catalog
    from indexer.embed import make_embedder
    from indexer.ocr import make_ocr
    from indexer.pipeline import Indexer, IndexOptions
    from indexer.settings import IndexSettings
    from indexer.sparse import SparseEncoder
    from indexer.store import Manifest, make_store

    settings = IndexSettings(data_dir=Path(data_dir), qdrant_url=None)
    embedder = make_embedder(settings)
    store = make_store(settings)
    store.open(Manifest(embedder.model_id, embedder.dimension))
    recording = _Recording(store)
    indexer = Indexer(
        store=recording,
        embedder=embedder,
        sparse=SparseEncoder(cache_dir=settings.cache_dir),
        catalog=Catalog(settings.data_dir / "catalog"),
        ocr=make_ocr(settings),
        options=IndexOptions(
            settings.chunk_tokens, settings.chunk_overlap, settings.min_text_quality, unit_dense=unit_dense
        ),
    )
    cpu0, t0 = _cpu_s(), time.perf_counter()
    report = indexer.run([Path(corpus)])
    seconds = time.perf_counter() - t0
    cpu = _cpu_s() - cpu0
    store.close()
    if record:
        Path(record).write_bytes(pickle.dumps(recording.points))
    pages = report.pages_text + report.pages_ocr + report.pages_skipped
    return {
        "seconds": seconds,
        "pages": pages,
        "pages_ocr": report.pages_ocr,
        "chunks": report.chunks_embedded,
        "units": report.units,
        "units_embedded": report.units_embedded,
        "pages_per_s": pages / seconds if seconds else None,
        "chunks_per_s": report.chunks_embedded / seconds if seconds else None,
        "cpu_percent": 100.0 * cpu / seconds if seconds else None,
        "peak_rss_mb": _peak_rss_mb(),
    }


def phase_llamaindex(corpus: str, pages: int) -> dict[str, Any]:
    """A plain llama-index ingestion of the same files with the same embedder and chunk size."""
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter

    from evaluation.baselines import _llama_embedding
    from indexer.embed import make_embedder
    from indexer.pipeline import iter_files
    from indexer.settings import IndexSettings

    settings = IndexSettings(qdrant_url=None)
    embed_model = _llama_embedding(make_embedder(settings))
    files = [str(p) for p in iter_files(Path(corpus))]
    cpu0, t0 = _cpu_s(), time.perf_counter()
    docs = SimpleDirectoryReader(input_files=files).load_data()
    splitter = SentenceSplitter(chunk_size=settings.chunk_tokens, chunk_overlap=settings.chunk_overlap)
    nodes = splitter.get_nodes_from_documents(docs)
    VectorStoreIndex(nodes, embed_model=embed_model)
    seconds = time.perf_counter() - t0
    cpu = _cpu_s() - cpu0
    return {
        "seconds": seconds,
        "pages": pages,
        "chunks": len(nodes),
        "pages_per_s": pages / seconds if seconds else None,
        "chunks_per_s": len(nodes) / seconds if seconds else None,
        "cpu_percent": 100.0 * cpu / seconds if seconds else None,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _perturbed(vector: Any, rng: Any, sigma: float) -> list[float]:
    import numpy as np

    v = np.asarray(vector, dtype=np.float32)
    v = v + rng.normal(0.0, sigma, size=v.shape).astype(np.float32)
    return [float(x) for x in v / (np.linalg.norm(v) or 1.0)]


def phase_synthetic_build(record: str, data_dir: str, n_chunks: int, seed: int, sigma: float) -> dict[str, Any]:
    """A synthetic archive of `n_chunks` chunks (with their units) from the recorded corpus points."""
    import numpy as np

    from indexer.settings import IndexSettings
    from indexer.store import Manifest, StoredPoint, StoredUnit, make_store

    base = pickle.loads(Path(record).read_bytes())
    if not base:
        raise click.ClickException("korpusen gav inga textstycken att kopiera")
    settings = IndexSettings(data_dir=Path(data_dir), qdrant_url=None)
    store = make_store(settings)
    manifest = Manifest(**json.loads(Path(record).with_suffix(".manifest.json").read_text(encoding="utf-8")))
    store.open(manifest)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    batch: list[Any] = []
    points = made = 0
    replica = 0
    while made < n_chunks:
        replica += 1
        for p in base:
            if made >= n_chunks:
                break
            c = p.chunk
            doc_id = f"{c.doc_id}-s{replica}"
            year = c.meta.year + (replica % 11) - 5 if c.meta.year is not None else 2000 + replica % 25
            meta = replace(c.meta, title=f"{c.meta.title} ({replica})", year=year)
            chunk = replace(c, doc_id=doc_id, source=f"syntetisk/{replica:05d}/{c.source}", meta=meta)
            units = tuple(
                StoredUnit(
                    replace(u.unit, doc_id=doc_id, chunk_id=chunk.chunk_id), _perturbed(u.dense, rng, sigma), u.sparse
                )
                for u in p.units
            )
            batch.append(StoredPoint(chunk, _perturbed(p.dense, rng, sigma), p.sparse, p.doc_chunks, units))
            made += 1
            points += 1 + len(units)
            if len(batch) >= 256:
                store.upsert(batch)
                batch = []
    if batch:
        store.upsert(batch)
    store.flush()
    upsert_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    store.optimize()
    optimize_s = time.perf_counter() - t1
    store.close()
    return {
        "chunks": made,
        "points": points,
        "upsert_s": upsert_s,
        "optimize_s": optimize_s,
        "peak_rss_mb": _peak_rss_mb(),
    }


def phase_serve(data_dir: str, repeat: int) -> dict[str, Any]:
    """Open an index as `arkiv serve` does, then time search and ask over QUERIES."""
    from assistant.service import build_assistant
    from assistant.settings import AssistantSettings
    from indexer.embed import make_embedder
    from indexer.store import Manifest, make_store

    settings = AssistantSettings(data_dir=Path(data_dir), qdrant_url=None, llm_base_url=None)
    embedder = make_embedder(settings)  # model load is not part of reopening the index
    embedder.embed_query("uppvärmning")
    t0 = time.perf_counter()
    store = make_store(settings)
    store.open(Manifest(embedder.model_id, embedder.dimension))
    chunks = store.count()
    reopen_s = time.perf_counter() - t0
    if settings.warm_index:
        store.warm()  # as `arkiv serve` does (build_assistant), in the background
    t1 = time.perf_counter()
    assistant = build_assistant(settings, store=store, embedder=embedder)
    assistant_s = time.perf_counter() - t1
    assistant.search(QUERIES[0])  # first query: lazy model files and caches
    assistant.ask(QUERIES[0])
    search_ms: list[float] = []
    ask_ms: list[float] = []
    for _ in range(repeat):
        for q in QUERIES:
            t = time.perf_counter()
            assistant.search(q)
            search_ms.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            assistant.ask(q)
            ask_ms.append(1000 * (time.perf_counter() - t))
    assistant.store.close()
    return {
        "chunks": chunks,
        "reopen_s": reopen_s,
        "assistant_s": assistant_s,
        "search_p50_ms": statistics.median(search_ms),
        "search_p95_ms": _percentile(search_ms, 0.95),
        "ask_p50_ms": statistics.median(ask_ms),
        "ask_p95_ms": _percentile(ask_ms, 0.95),
        "reranker": bool(settings.reranker_model),
        "peak_rss_mb": _peak_rss_mb(),
    }


def phase_compute(record: str, threads: int) -> dict[str, Any]:
    """The embedder's tokens/s on corpus chunks beside a float32 matmul of e5-small's shapes on this CPU."""
    import numpy as np

    from indexer.embed import make_embedder
    from indexer.settings import IndexSettings

    points = pickle.loads(Path(record).read_bytes())
    texts = [p.chunk.embed_text for p in points][:48]
    embedder = make_embedder(IndexSettings(qdrant_url=None))
    tokens = sum(embedder.count_tokens(t) for t in texts)
    embedder.embed_documents(texts[:2])
    t0 = time.perf_counter()
    embedder.embed_documents(texts)
    embed_s = time.perf_counter() - t0
    seq = max(1, round(tokens / max(1, len(texts))))
    # FLOPs per token: 2 x the encoder's weights per token, plus attention over the sequence (QK^T and AV).
    weights = E5_LAYERS * (4 * E5_HIDDEN * E5_HIDDEN + 2 * E5_HIDDEN * E5_INTERMEDIATE)
    flops_per_token = 2 * weights + E5_LAYERS * 4 * seq * E5_HIDDEN
    rows = 16 * seq
    a = np.random.default_rng(0).standard_normal((rows, E5_HIDDEN), dtype=np.float32)
    w1 = np.random.default_rng(1).standard_normal((E5_HIDDEN, E5_INTERMEDIATE), dtype=np.float32)
    w2 = np.random.default_rng(2).standard_normal((E5_INTERMEDIATE, E5_HIDDEN), dtype=np.float32)
    (a @ w1) @ w2
    reps, t1 = 0, time.perf_counter()
    while reps < 3 or time.perf_counter() - t1 < 1.0:
        (a @ w1) @ w2
        reps += 1
    mm_s = time.perf_counter() - t1
    gflops = reps * 2 * 2 * rows * E5_HIDDEN * E5_INTERMEDIATE / mm_s / 1e9
    limit = gflops * 1e9 / flops_per_token
    measured = tokens / embed_s if embed_s else None
    return {
        "texts": len(texts),
        "tokens": tokens,
        "embed_tokens_per_s": measured,
        "matmul_gflops": gflops,
        "flops_per_token": flops_per_token,
        "limit_tokens_per_s": limit,
        "share_of_limit": measured / limit if measured and limit else None,
        "threads": threads,
    }


# -- the command ------------------------------------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def run_speed(
    corpus: Path,
    *,
    pdfs: Path | None,
    limit_pages: int | None,
    synthetic: int,
    repeat: int,
    seed: int,
    echo: Any = print,
) -> dict[str, Any]:
    """Every phase in turn; returns the results (the JSON's content)."""
    from indexer.embed import make_embedder
    from indexer.settings import IndexSettings

    out: dict[str, Any] = {
        "corpus": str(corpus),
        "limit_pages": limit_pages,
        "synthetic_chunks": synthetic,
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()),
    }
    with tempfile.TemporaryDirectory(prefix="arkiv-speed-") as tmp_name:
        tmp = Path(tmp_name)
        source = limited_corpus(corpus, limit_pages, tmp / "corpus")
        record = tmp / "points.pkl"
        echo("indexerar korpusen (Arkiv, med svarsenheter) …")
        arkiv = _in_child(phase_arkiv, str(source), str(tmp / "arkiv"), True, str(record))
        embedder = make_embedder(IndexSettings(qdrant_url=None))
        record.with_suffix(".manifest.json").write_text(
            json.dumps({"model_id": embedder.model_id, "dimension": embedder.dimension}), encoding="utf-8"
        )
        del embedder
        echo("indexerar korpusen (Arkiv, bara textstycken) …")
        chunks_only = _in_child(phase_arkiv, str(source), str(tmp / "chunks"), False, None)
        echo("indexerar korpusen (llama-index) …")
        llama = _in_child(phase_llamaindex, str(source), arkiv["pages"])
        out["indexing"] = {"arkiv": arkiv, "arkiv_chunks_only": chunks_only, "llamaindex": llama}
        out["pages_per_s"] = {
            "arkiv": arkiv["pages_per_s"],
            "arkiv_chunks_only": chunks_only["pages_per_s"],
            "llamaindex": llama["pages_per_s"],
        }
        out["ratio_vs_llamaindex"] = _ratio(arkiv["pages_per_s"], llama["pages_per_s"])
        out["chunks_only_ratio_vs_llamaindex"] = _ratio(chunks_only["pages_per_s"], llama["pages_per_s"])
        if pdfs is not None:
            echo(f"indexerar {pdfs} …")
            pdf = _in_child(phase_arkiv, str(pdfs), str(tmp / "pdfs"), True, None)
            out["pdfs"] = pdf
            out["pdfs_index_s"] = pdf["seconds"]
        echo("söker och svarar i korpusens index …")
        out["corpus_latency"] = _in_child(phase_serve, str(tmp / "arkiv"), repeat)
        echo(f"bygger ett syntetiskt arkiv med {synthetic} textstycken …")
        shutil.copytree(tmp / "arkiv" / "catalog", tmp / "synthetic" / "catalog")
        out["synthetic_build"] = _in_child(
            phase_synthetic_build, str(record), str(tmp / "synthetic"), synthetic, seed, 0.01
        )
        echo("öppnar det syntetiska arkivet, söker och svarar …")
        big = _in_child(phase_serve, str(tmp / "synthetic"), repeat)
        out["synthetic_latency"] = big
        # The contract's key names; "synthetic_chunks" says the archive's actual size (100,000 by default).
        out["search_p50_ms_100k"] = big["search_p50_ms"]
        out["ask_p50_ms_100k"] = big["ask_p50_ms"]
        out["reopen_s_100k"] = big["reopen_s"]
        out["peak_rss_mb_100k"] = big["peak_rss_mb"]
        echo("mäter inbäddarens takt mot processorns gräns …")
        out["embedder"] = _in_child(phase_compute, str(record), IndexSettings(qdrant_url=None).embed_threads)
    out["load_average_after"] = list(os.getloadavg())
    return out


LATENCY_HEADER = (
    "| Sökning och svar (latency) | textstycken | öppna index s | starta assistenten s | sök p50 ms | sök p95 ms "
    "| fråga p50 ms | fråga p95 ms | topp-minne MB |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
)


def latency_row(label: str, s: dict[str, Any]) -> str:
    """One row of LATENCY_HEADER's table from `phase_serve`'s results."""
    return (
        f"| {label} | {s['chunks']} | {_f(s['reopen_s'], 2)} | {_f(s['assistant_s'], 2)} | {_f(s['search_p50_ms'])} | "
        f"{_f(s['search_p95_ms'])} | {_f(s['ask_p50_ms'])} | {_f(s['ask_p95_ms'])} | {_f(s['peak_rss_mb'], 0)} |"
    )


def speed_table(r: dict[str, Any]) -> str:
    """The results as a Markdown table (Swedish first, English in brackets)."""
    ix = r["indexing"]
    lines = [
        f"Korpus {r['corpus']}"
        + (f" (första {r['limit_pages']} sidorna)" if r.get("limit_pages") else "")
        + f"; {r['cpus']} kärnor; belastning (load average) före {r['load_average'][0]:.1f}, "
        f"efter {r['load_average_after'][0]:.1f}",
        "",
        "| Indexering (indexing) | sidor | textstycken | s | sidor/s | textstycken/s | CPU % | topp-minne MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, label in (
        ("arkiv", "Arkiv (med svarsenheter)"),
        ("arkiv_chunks_only", "Arkiv, bara textstycken (unit_dense av)"),
        ("llamaindex", "llama-index (samma inbäddare)"),
    ):
        d = ix[name]
        lines.append(
            f"| {label} | {d['pages']} | {d['chunks']} | {_f(d['seconds'])} | {_f(d['pages_per_s'], 2)} | "
            f"{_f(d['chunks_per_s'], 2)} | {_f(d.get('cpu_percent'), 0)} | {_f(d['peak_rss_mb'], 0)} |"
        )
    lines += [
        "",
        f"Arkiv / llama-index, sidor/s: {_f(r['ratio_vs_llamaindex'], 2)} (med svarsenheter), "
        f"{_f(r['chunks_only_ratio_vs_llamaindex'], 2)} (bara textstycken)",
    ]
    if "pdfs" in r:
        p = r["pdfs"]
        lines.append(
            f"Riktiga PDF:er: {_f(p['seconds'])} s, {p['pages']} sidor varav {p['pages_ocr']} OCR, "
            f"CPU {_f(p['cpu_percent'], 0)} %, topp-minne {_f(p['peak_rss_mb'], 0)} MB"
        )
    else:
        lines.append("Riktiga PDF:er: inte mätta (ingen --pdfs)")
    sb, c, s = r["synthetic_build"], r["corpus_latency"], r["synthetic_latency"]
    lines += [
        "",
        *LATENCY_HEADER,
        latency_row("korpusen", c),
        latency_row(f"syntetiskt, {sb['chunks']} textstycken", s),
        "",
        f"Syntetiskt arkiv: {sb['points']} punkter (textstycken och svarsenheter) skrivna på {_f(sb['upsert_s'])} s, "
        f"HNSW-index byggt på {_f(sb['optimize_s'])} s; omrankare: {'ja' if s['reranker'] else 'nej'}",
    ]
    e = r["embedder"]
    lines.append(
        f"Inbäddaren: {_f(e['embed_tokens_per_s'], 0)} token/s på {e['texts']} textstycken; processorns gräns "
        f"(float32-matmul, {_f(e['matmul_gflops'], 1)} GFLOP/s, {e['flops_per_token'] / 1e6:.1f} MFLOP/token): "
        f"{_f(e['limit_tokens_per_s'], 0)} token/s; andel av gränsen {_f(e['share_of_limit'], 2)}"
    )
    return "\n".join(lines) + "\n"


_JSON_OPTION = click.option(
    "--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the results here."
)


def _repeat_option(default: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--repeat",
        type=click.IntRange(min=1),
        default=default,
        show_default=True,
        help="Rounds of the questions for the latency figures.",
    )


def _write_json(path: Path | None, results: dict[str, Any]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


@click.command("speed")
@click.option(
    "--corpus",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("corpus"),
    show_default=True,
    help="Folder to index.",
)
@click.option("--pdfs", type=click.Path(exists=True, file_okay=False, path_type=Path), help="The real PDFs to index.")
@click.option("--limit-pages", type=click.IntRange(min=1), help="Index only the corpus' first N pages.")
@click.option(
    "--synthetic",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Chunks in the synthetic archive.",
)
@_repeat_option(2)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the vector perturbations.")
@_JSON_OPTION
def speed(
    corpus: Path,
    pdfs: Path | None,
    limit_pages: int | None,
    synthetic: int,
    repeat: int,
    seed: int,
    json_out: Path | None,
) -> None:
    """Measure indexing, OCR, search and answer speed against a plain llama-index pipeline.

    Example: arkiv bench speed --corpus corpus --limit-pages 60 --synthetic 20000 --json speed.json
    """
    results = run_speed(
        corpus,
        pdfs=pdfs,
        limit_pages=limit_pages,
        synthetic=synthetic,
        repeat=repeat,
        seed=seed,
        echo=lambda m: click.echo(m, err=True),
    )
    _write_json(json_out, results)
    click.echo(speed_table(results))


@click.command("serve")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="An index folder (what ARKIV_DATA_DIR names) to open.",
)
@_repeat_option(3)
@_JSON_OPTION
def serve_latency(data: Path, repeat: int, json_out: Path | None) -> None:
    """Open an existing index as `arkiv serve` does and time search and ask (the speed benchmark's latency phase).

    For an archive of one's own, or for the same index measured before and after a change.
    Example: arkiv bench serve --data data --repeat 3
    """
    results = _in_child(phase_serve, str(data), repeat)
    _write_json(json_out, results)
    click.echo("\n".join([*LATENCY_HEADER, latency_row(str(data), results)]))
