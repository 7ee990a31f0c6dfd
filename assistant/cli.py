"""`arkiv serve`, `arkiv ask` and `arkiv train`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from assistant.errors import AssistantError
from indexer.errors import IndexerError


def _prepare(index_first: bool):  # type: ignore[no-untyped-def]
    """Settings and an Assistant over an index brought up to date with the corpus (only changes are embedded)."""
    from assistant.service import build_assistant
    from assistant.settings import AssistantSettings
    from indexer.cli import _progress, build_indexer, format_report

    settings = AssistantSettings()
    indexer = build_indexer(settings)
    if index_first and settings.corpus_dir.exists():
        report = indexer.run([settings.corpus_dir], progress=_progress)
        click.echo(format_report(report), err=True)
    return settings, build_assistant(settings, store=indexer.store, embedder=indexer.embedder)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-index", is_flag=True, help="Serve the index as it is, without updating it from the corpus first.")
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes answering at once. More than one needs a Qdrant server (ARKIV_QDRANT_URL): the "
    "embedded index belongs to one process.",
)
def serve(host: str, port: int, no_index: bool, processes: int) -> None:
    """Index the corpus if it changed, then serve the web page, the API and the Slack bot.

    Example: arkiv serve --host 127.0.0.1 --port 8000
    """
    import uvicorn

    from assistant.settings import AssistantSettings
    from assistant.web.app import create_app

    if processes > 1 and not AssistantSettings().qdrant_url:
        raise click.ClickException(SEVERAL_PROCESSES_NEED_A_SERVER)
    try:
        settings, assistant = _prepare(not no_index)
    except IndexerError as ex:
        raise click.ClickException(str(ex)) from ex
    click.echo(f"Arkiv: http://{host}:{port}/", err=True)
    if processes == 1:
        uvicorn.run(create_app(settings, assistant), host=host, port=port, log_level="info")
        return
    assistant.store.close()  # each process opens its own client to the server
    uvicorn.run("assistant.web.app:create_app", factory=True, workers=processes, host=host, port=port)


SEVERAL_PROCESSES_NEED_A_SERVER = (
    "Flera processer kräver en Qdrant-server (ARKIV_QDRANT_URL): det inbyggda indexet kan bara öppnas av en "
    "process. Flytta indexet dit med `arkiv migrate --to URL`.\n"
    "Several processes need a Qdrant server (ARKIV_QDRANT_URL): the embedded index can be opened by one process "
    "only. Copy it there with `arkiv migrate --to URL`."
)


@click.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON instead of text.")
@click.option("--no-index", is_flag=True, help="Do not update the index from the corpus first.")
def ask(question: str, as_json: bool, no_index: bool) -> None:
    """Ask the archive a question; prints the answer and its sources.

    Example: arkiv ask "Vad beslutade presidiet om RJL 2022/258?"
    """
    from assistant.serialize import answer_json

    try:
        _, assistant = _prepare(not no_index)
        answer = assistant.ask(question)
    except (AssistantError, IndexerError) as ex:
        raise click.ClickException(str(ex)) from ex
    if as_json:
        click.echo(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
        return
    click.echo(answer.text)
    if answer.notice:
        click.echo(f"\n({answer.notice})")
    if answer.citations:
        click.echo("\nKällor:" if answer.language == "sv" else "\nSources:")
    for c in answer.citations:
        ch = c.hit.chunk
        pages = f"s. {ch.page_start}" + (f"–{ch.page_end}" if ch.page_end != ch.page_start else "")
        bits = [ch.meta.title, pages]
        if ch.paragraph:
            bits.append(f"§ {ch.paragraph}")
        bits.extend(k for k in ch.case_numbers if not k[:1].isdigit())
        if ch.date:
            bits.append(ch.date)
        click.echo(f"  [{c.n}] " + ", ".join(bits))
        for quote in c.quotes[:2]:
            click.echo(f"      ”{quote}”")
    sys.stdout.flush()


@click.group()
def train() -> None:
    """Rebuild the learned models that ship in the package.

    Example: arkiv train selector
    """


@train.command("selector")
@click.option("--seed", default=13, show_default=True, type=int, help="Seed for the sampled negatives.")
@click.option(
    "--dense/--no-dense",
    default=True,
    show_default=True,
    help="Also train the model that reads each unit's stored vector (question–unit similarity), used whenever "
    "every passage's units carry one: embeds the units of 160 SweQUAD-MC texts (cached under "
    "ARKIV_DATA_DIR/cache/selector). --no-dense ships the lexical model alone.",
)
@click.option(
    "--archive/--no-archive",
    default=True,
    show_default=True,
    help="Add the gold set's training split and SweFAQ negatives over ARKIV_CORPUS_DIR.",
)
@click.option(
    "--hits",
    type=click.Choice(["index", "lexical"]),
    default="index",
    show_default=True,
    help="Passages of the archive's questions: what the assistant retrieves from the index under ARKIV_DATA_DIR "
    "(run `arkiv index` first; what the not-found gate meets when serving), or a lexical search over the chunks.",
)
@click.option(
    "--pdf-data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="An ARKIV_DATA_DIR holding an index of ../shared/real-pdfs (`ARKIV_DATA_DIR=data/pdfs arkiv index "
    "../shared/real-pdfs`): the real-PDF gold set's training split is added over what the assistant retrieves "
    "from it.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False), default=None, help="Where to write the model (default: the package's)."
)
def train_selector(seed: int, dense: bool, archive: bool, hits: str, pdf_data: Path | None, out: str | None) -> None:
    """Train the answer selector, its not-found gate and calibration from SweQUAD-MC and the gold set's training
    split.

    Example: arkiv index && arkiv train selector --seed 13 --pdf-data data/pdfs
    """
    from assistant.select import model_path
    from assistant.selector_data import PDF_GOLD_FILE, EmbeddingCache, lexical_search, load_archive_examples
    from assistant.settings import AssistantSettings
    from assistant.train import train as train_model
    from indexer.embed import make_embedder

    settings = AssistantSettings()
    cache = embedder = None
    if dense:
        embedder = make_embedder(settings)
        cache = EmbeddingCache(settings.cache_dir / "selector" / "units.npz", embedder.model_id)
    examples: list[object] = []
    if archive and settings.corpus_dir.exists():
        if hits == "index":
            with _assistant_search(settings) as search:
                examples = list(load_archive_examples(search, "train"))
        else:
            counter = embedder or make_embedder(settings)
            examples = list(load_archive_examples(lexical_search(settings.corpus_dir, counter.count_tokens), "train"))
    if pdf_data is not None:
        with _assistant_search(settings.model_copy(update={"data_dir": pdf_data})) as search:
            examples += load_archive_examples(search, "train", PDF_GOLD_FILE, negatives=False)
    selector, report = train_model(cache, seed=seed, embed=embedder, archive=examples)
    path = Path(out) if out else model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(selector.to_json(), encoding="utf-8")
    for key, value in sorted(report.items()):
        click.echo(f"{key}: {value:.4f}")
    click.echo(f"wrote {path}")


@contextmanager
def _assistant_search(settings: Any) -> Iterator[Callable[[str], list[Any]]]:
    """The passages the assistant gives its answerer for a question, from the index under ARKIV_DATA_DIR."""
    from assistant.service import build_assistant

    assistant = build_assistant(settings)
    try:
        if assistant.store.count() == 0:
            raise click.ClickException("the index is empty: run `arkiv index` first (or --hits lexical)")
        yield lambda question: assistant.retrieve(assistant.plan(question))[0]
    finally:
        assistant.store.close()


# --- `arkiv train reranker` (retrieval): the command lives in assistant/rerank_train.py ---
from assistant.rerank_train import reranker_command as _reranker_command  # noqa: E402

train.add_command(_reranker_command)
