"""The `arkiv` command. Subcommands live beside the package they drive and are loaded when used."""

from __future__ import annotations

import importlib
import logging
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from indexer.errors import IndexerError

LAZY_COMMANDS = {
    "index": "indexer.cli:index",
    "serve": "assistant.cli:serve",
    "ask": "assistant.cli:ask",
    "eval": "evaluation.cli:eval_command",
    "bench": "evaluation.cli:bench",
    "train": "assistant.cli:train",
    "load": "assistant.load:load",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when invoked, so `indexer` never imports `assistant`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | {n for n in LAZY_COMMANDS if self._available(n)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and self._available(cmd_name):
            module, attr = LAZY_COMMANDS[cmd_name].split(":")
            command = getattr(importlib.import_module(module), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    @staticmethod
    def _available(name: str) -> bool:
        module, attr = LAZY_COMMANDS[name].split(":")
        try:
            return hasattr(importlib.import_module(module), attr)
        except ImportError:
            return False


@click.group(cls=LazyGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log every document (INFO) instead of warnings only.")
def main(verbose: bool) -> None:
    """Arkiv: search and ask the municipal archive, with citations you can check."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def build_indexer(settings: Any) -> Any:
    """The Indexer the settings describe, with its store opened."""
    from indexer.catalog import Catalog
    from indexer.embed import make_embedder
    from indexer.ocr import make_ocr
    from indexer.pipeline import Indexer, IndexOptions
    from indexer.rebuild import finish_switch
    from indexer.sparse import SparseEncoder
    from indexer.store import Manifest, make_store

    if not settings.qdrant_url:
        finish_switch(settings.data_dir)  # a rebuild's switch that was cut short is completed first
    embedder = make_embedder(settings)
    store = make_store(settings)
    store.open(Manifest(embedder.model_id, embedder.dimension))
    return Indexer(
        store=store,
        embedder=embedder,
        sparse=SparseEncoder(cache_dir=settings.cache_dir),
        catalog=Catalog(settings.data_dir / "catalog"),
        ocr=make_ocr(settings),
        options=IndexOptions(settings.chunk_tokens, settings.chunk_overlap, settings.min_text_quality),
    )


def _progress(items: Iterable[tuple[Path, Path]], total: int) -> Iterable[tuple[Path, Path]]:
    with click.progressbar(
        items,
        length=total,
        label="Indexerar",
        item_show_func=lambda item: item[0].name if item else "",
        file=click.get_text_stream("stderr"),  # type: ignore[operator]
    ) as bar:
        yield from bar


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--strict", is_flag=True, help="Exit non-zero if any file or page was skipped.")
@click.option(
    "--rebuild",
    is_flag=True,
    help="Build the whole index anew beside the live one and switch to it when complete (e.g. after changing "
    "model); a running `arkiv serve` keeps answering and then switches.",
)
def index(paths: tuple[Path, ...], strict: bool, rebuild: bool) -> None:
    """Index the archive (default: ARKIV_CORPUS_DIR) into Qdrant.

    Unchanged documents are not embedded again; removed ones leave the index.

    Example: arkiv index corpus/ ../shared/real-pdfs --strict
    """
    from indexer.errors import StoreLocked
    from indexer.settings import IndexSettings

    settings = IndexSettings()
    if rebuild and not settings.qdrant_url:
        report = _rebuild_beside(settings, paths)
        click.echo(format_report(report))
        if strict and (report.skipped or report.pages_skipped):
            raise click.ClickException("skipped files or pages (--strict)")
        return
    try:
        try:
            indexer = build_indexer(settings)
        except StoreLocked as ex:
            raise click.ClickException(LOCKED_MESSAGE.format(path=settings.store_dir / settings.collection)) from ex
        if rebuild and settings.qdrant_url:
            for doc_id in indexer.store.documents():
                indexer.store.delete_document(doc_id)
        try:
            report = indexer.run(list(paths) or [settings.corpus_dir], progress=_progress)
        finally:
            indexer.store.close()
    except IndexerError as ex:
        raise click.ClickException(str(ex)) from ex
    click.echo(format_report(report))
    if strict and (report.skipped or report.pages_skipped):
        raise click.ClickException("skipped files or pages (--strict)")


@main.command()
@click.argument("name")
@click.option("--group", "groups", multiple=True, help="An access group the token gives (repeat for several).")
def token(name: str, groups: tuple[str, ...]) -> None:
    """Make an API token for a script: prints the token once, and the entry to add to ARKIV_TOKENS_FILE (which
    stores only its SHA-256).

    Example: arkiv token rapportskript --group hr >> tokens.toml
    """
    import hashlib
    import re
    import secrets

    bad = [g for g in groups if not re.fullmatch(r"[\w.@/+-]{1,100}", g)]
    if bad or not re.fullmatch(r"[\w.@ -]{1,100}", name):
        raise click.ClickException(f"ogiltigt namn eller grupp / invalid name or group: {', '.join(bad) or name}")
    value = secrets.token_urlsafe(32)
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
    listed = ", ".join(f'"{g}"' for g in groups)
    click.echo(f"Token (visas bara nu / shown only now): {value}", err=True)
    click.echo(f'[[token]]\nname = "{name}"\nsha256 = "{digest}"\ngroups = [{listed}]')


@main.command()
@click.option(
    "--to",
    "target",
    required=True,
    help="The Qdrant server to copy to (http://host:6333), or a folder for qdrant-client's local mode.",
)
@click.option("--api-key", envvar="ARKIV_MIGRATE_API_KEY", help="API key of that server (or ARKIV_MIGRATE_API_KEY).")
@click.option("--collection", default=None, help="Collection name there (default: ARKIV_COLLECTION).")
@click.option("--replace", is_flag=True, help="Delete that collection first if it exists.")
@click.option("--sample", default=20, show_default=True, help="Chunks whose searches are compared after the copy.")
def migrate(target: str, api_key: str | None, collection: str | None, replace: bool, sample: int) -> None:
    """Copy the index (ARKIV_DATA_DIR, or the server at ARKIV_QDRANT_URL) into a Qdrant server collection, vectors
    and payload as they are, and verify the copy by counts and a sample of searches.

    A new collection is laid out by ARKIV_QDRANT_SHARDS, _REPLICAS, _ON_DISK and _QUANTIZATION. Then point the
    service at it with ARKIV_QDRANT_URL; the catalog (ARKIV_DATA_DIR/catalog) stays where it is.

    Example: arkiv migrate --to http://qdrant.internal:6333
    """
    from qdrant_client import QdrantClient

    from indexer.errors import StoreLocked
    from indexer.migrate import migrate as copy_index
    from indexer.settings import IndexSettings
    from indexer.store import ClientStore, layout, make_store

    settings = IndexSettings()
    remote = target.startswith(("http://", "https://"))
    client = QdrantClient(url=target, api_key=api_key) if remote else QdrantClient(path=target)
    dest = ClientStore(client, collection or settings.collection, layout(settings))
    source = make_store(settings)
    try:
        manifest = source.manifest()
        if manifest is None:
            raise click.ClickException(f"inget index att kopiera / no index to copy in {settings.data_dir}")
        try:
            source.open(manifest)
        except StoreLocked as ex:
            raise click.ClickException(LOCKED_MESSAGE.format(path=settings.store_dir / settings.collection)) from ex
        if replace:
            dest.drop()
        report = copy_index(
            source, dest, sample=sample, progress=lambda n: click.echo(f"  {n} punkter kopierade", err=True)
        )
    except IndexerError as ex:
        raise click.ClickException(str(ex)) from ex
    finally:
        source.close()
        dest.close()
    click.echo(
        f"Kopierat / copied: {report.chunks} chunks, {report.units} units in {report.seconds:.1f} s; "
        f"{report.searches} searches compared"
    )
    if not report.verified:
        raise click.ClickException("kopian stämmer inte / the copy does not match:\n" + "\n".join(report.mismatches))
    click.echo("Kopian stämmer / the copy matches its source.")


LOCKED_MESSAGE = (
    "Indexet i {path} används av en annan Arkiv-process, troligen `arkiv serve`, och kan inte uppdateras "
    "samtidigt. Kör `arkiv index --rebuild`: det bygger ett nytt index bredvid och servern byter till det när "
    "det är klart. Eller stoppa servern, kör `arkiv index` och starta den igen.\n"
    "The index in {path} is in use by another Arkiv process, probably `arkiv serve`. Run `arkiv index "
    "--rebuild` to build a new index beside it (the server switches when it is complete), or stop the server, "
    "run `arkiv index` and start it again."
)


def _rebuild_beside(settings: Any, paths: tuple[Path, ...]) -> Any:
    """Build the whole index in a staging folder and switch to it (indexer/rebuild.py); the live index is not
    touched until the new one is complete."""
    from indexer.rebuild import finish_switch, prepare_staging, remove_retired, switch

    finish_switch(settings.data_dir)
    remove_retired(settings.data_dir, keep_newest=1)  # the newest may still be open in a running server
    stage = prepare_staging(settings.data_dir)
    staged = settings.model_copy(update={"data_dir": stage})
    try:
        indexer = build_indexer(staged)
        try:
            report = indexer.run(list(paths) or [settings.corpus_dir], progress=_progress)
        finally:
            indexer.store.close()
    except IndexerError as ex:
        shutil.rmtree(stage, ignore_errors=True)
        raise click.ClickException(str(ex)) from ex
    switch(settings.data_dir, stage, settings.collection)
    return report


def format_report(report: Any) -> str:
    lines = [
        "",
        "Indexering klar",
        f"  dokument:      {report.documents} ({report.indexed} indexerade, {report.unchanged} oförändrade, "
        f"{report.removed} borttagna, {len(report.skipped)} överhoppade)",
        f"  sidor:         {report.pages_text} textlager, {report.pages_ocr} OCR, {report.pages_skipped} överhoppade",
        f"  chunkar:       {report.chunks} i indexet ({report.chunks_embedded} inbäddade nu)",
        f"  svarsenheter:  {report.units} ({report.units_embedded} med egen inbäddning)",
        f"  tabellrader:   {report.table_rows} återskapade, {len(report.untrusted_table_rows)} osäkra (kvar som text)",
        f"  tid:           {report.seconds:.1f} s",
    ]
    if report.skipped:
        lines.append("  överhoppade filer:")
        lines.extend(f"    {s.path}: {s.reason}" for s in report.skipped)
    if report.skipped_pages:
        lines.append("  överhoppade sidor:")
        lines.extend(f"    {src} s. {n}: {why}" for src, n, why in report.skipped_pages)
    if report.untrusted_table_rows:
        lines.append("  tabellrader vars kolumner inte gick att lita på (texten är kvar):")
        lines.extend(f"    {src} s. {n}: {label}" for src, n, label in report.untrusted_table_rows[:20])
        if len(report.untrusted_table_rows) > 20:
            lines.append(f"    … och {len(report.untrusted_table_rows) - 20} till")
    return "\n".join(lines)
