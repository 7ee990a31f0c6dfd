"""Indexes for evaluation runs, cached between runs, and a worker that serves another checkout of Arkiv.

An evaluation indexes the same material again and again: corpus/, the real PDFs in ../shared/real-pdfs
(about 120 pages of them need OCR, some 5 s a page), the SweQUAD-MC texts. Three caches make a second run
cheap, all under one folder (ARKIV_EVAL_CACHE, default ~/.cache/arkiv-eval), OCR aside:

- `index/<label>-<key>/`: a whole ARKIV_DATA_DIR (store and catalog), keyed by a hash of the indexing code
  (every file under the checkout's indexer/), of the input files' bytes and of the settings that shape the
  index. Any change to one of them makes a new key; older keys of the same label are removed.
- OCR: the text tesseract read from each PDF page, keyed by the PDF's bytes, the page and the language, in
  the gold set's OCR cache (evaluation.dataset.OCR_CACHE_DIR, ARKIV_GOLD_OCR_CACHE), so a changed indexer
  re-chunks without OCR'ing again and validating the gold set fills the same cache.
- `embeddings/`: passage vectors keyed by model and text (`CachedEmbedder`), so unchanged chunks are not
  embedded again either.
- `words/`: the Swedish analyser's word cache (compound splits), copied into each new index's data dir.
- `pages/`: each document's pages as the checkout's loader read them (`PageCache`), keyed by the file's bytes
  and the loader's code, so a change to chunking or search does not read every PDF page again.

The same module runs as a script (`python evaluation/harness.py --root CHECKOUT ...`) to evaluate another
checkout, such as the last release in a git worktree: with the checkout first on PYTHONPATH it imports that
checkout's `indexer` and `assistant`, indexes with the caches above and then answers one JSON request per
line on stdin (`search`, `ask`) with one JSON line on stdout. It therefore imports nothing from `evaluation`
and only the stable entry points of the checkout: `indexer.cli.build_indexer`, `assistant.settings.
AssistantSettings`, `assistant.service.build_assistant`, `Assistant.search` and `Assistant.ask`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import threading
import time
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CACHE_ENV = "ARKIV_EVAL_CACHE"
INDEX_SETTINGS = (
    "embed_backend",
    "embed_model",
    "chunk_tokens",
    "chunk_overlap",
    "ocr",
    "ocr_lang",
    "min_text_quality",
    "collection",
)
"""Settings that shape an index: part of its cache key."""
QUERY_MEMO = 20_000
"""Query vectors kept in memory by a CachedEmbedder."""


def default_cache_dir() -> Path:
    """ARKIV_EVAL_CACHE, else ~/.cache/arkiv-eval."""
    given = os.environ.get(CACHE_ENV)
    return Path(given) if given else Path.home() / ".cache" / "arkiv-eval"


# --- content hashes -----------------------------------------------------------------------------------------


def _files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        elif path.is_file():
            out.append(path)
    return sorted(set(out))


def tree_hash(paths: Iterable[Path], *, base: Path | None = None) -> str:
    """A hash of the files under `paths` (names relative to `base` or their own folder, and bytes)."""
    digest = hashlib.sha256()
    for file in _files(paths):
        name = file.relative_to(base).as_posix() if base is not None else file.name
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def index_key(code_root: Path, inputs: Sequence[Path], settings: Any) -> str:
    """The cache key of an index: the checkout's indexing code, the inputs' bytes, the index settings."""
    shaping = {name: str(getattr(settings, name, None)) for name in INDEX_SETTINGS}
    digest = hashlib.sha256()
    digest.update(tree_hash([code_root / "indexer"], base=code_root).encode())
    for root in inputs:
        digest.update(tree_hash([root], base=root if root.is_dir() else root.parent).encode())
    digest.update(json.dumps(shaping, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def index_dir(cache: Path, label: str, key: str) -> Path:
    """`cache/index/<label>-<key>`, created; other keys of the same label are removed."""
    root = cache / "index"
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob(f"{label}-*"):
        if old.name != f"{label}-{key}" and old.name[len(label) + 1 :].isalnum():
            logger.info("removing stale evaluation index %s", old)
            shutil.rmtree(old, ignore_errors=True)
    target = root / f"{label}-{key}"
    target.mkdir(exist_ok=True)
    return target


# --- caches -------------------------------------------------------------------------------------------------


class CachedEmbedder:
    """An embedder that remembers passage vectors on disk, keyed by model and text.

    Evaluations embed the same passages on every run; at about 5 passages a second that is minutes. With
    `memo_queries`, query vectors are also remembered in memory (every configuration of a benchmark asks for
    the same ones); search timings then leave out embedding the query.
    """

    def __init__(self, inner: Any, cache_dir: Path, *, memo_queries: bool = False) -> None:
        self._inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", inner.model_id)
        self._path = Path(cache_dir) / "eval-embeddings" / f"{slug}.tsv"
        self._lock = threading.Lock()
        self._vectors: dict[str, list[float]] = {}
        self._queries: dict[str, list[float]] = {}
        self._memo_queries = memo_queries
        if self._path.exists():
            for line in self._path.read_text(encoding="ascii").splitlines():
                key, _, packed = line.partition("\t")
                vec = array("f")
                try:
                    vec.frombytes(base64.b64decode(packed))
                except ValueError:  # a line cut short by a killed run: that vector is embedded again
                    continue
                if len(vec) == self.dimension:
                    self._vectors[key] = vec.tolist()

    @property
    def inner(self) -> Any:
        return self._inner

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        keys = [self._key(t) for t in texts]
        todo = [i for i, key in enumerate(keys) if key not in self._vectors]
        if todo:
            fresh = self._inner.embed_documents([texts[i] for i in todo])
            with self._lock:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                with self._path.open("a", encoding="ascii") as fh:
                    for i, vec in zip(todo, fresh, strict=True):
                        self._vectors[keys[i]] = list(vec)
                        packed = base64.b64encode(array("f", vec).tobytes()).decode("ascii")
                        fh.write(f"{keys[i]}\t{packed}\n")
        return [self._vectors[key] for key in keys]

    def embed_query(self, text: str) -> list[float]:
        vector = self._queries.get(text)
        if vector is None:
            vector = self._inner.embed_query(text)
            if self._memo_queries and len(self._queries) < QUERY_MEMO:
                self._queries[text] = vector
        return list(vector)

    def count_tokens(self, text: str) -> int:
        return int(self._inner.count_tokens(text))


class CachedOcr:
    """An OCR engine that remembers each page's text on disk, keyed by the PDF's bytes, the page and the OCR
    language: `<dir>/<pdf stem>.<sha256 of the PDF, 16 hex>.p<page>.<lang>.txt`, the layout of the gold set's
    OCR cache (evaluation.dataset.CachedOcr), so validation and evaluation share one cache. Safe to call from
    several threads, as the loader does."""

    def __init__(self, inner: Any, cache_dir: Path) -> None:
        self._inner = inner
        self._dir = Path(cache_dir)
        self._lang = str(getattr(inner, "lang", "swe"))
        self._digests: dict[Path, str] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __getattr__(self, name: str) -> Any:  # lang, dpi, ... of the engine
        return getattr(self._inner, name)

    def file_for(self, pdf_path: Path, page_number: int) -> Path:
        with self._lock:
            if pdf_path not in self._digests:
                self._digests[pdf_path] = hashlib.sha256(pdf_path.read_bytes()).hexdigest()[:16]
            digest = self._digests[pdf_path]
        return self._dir / f"{pdf_path.stem}.{digest}.p{page_number}.{self._lang}.txt"

    def ocr_pdf_page(self, pdf_path: Path, page_number: int) -> str:
        file = self.file_for(Path(pdf_path), page_number)
        if file.is_file():
            self.hits += 1
            return file.read_text(encoding="utf-8")
        text = str(self._inner.ocr_pdf_page(pdf_path, page_number))
        self.misses += 1
        file.parent.mkdir(parents=True, exist_ok=True)
        partial = file.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(file)
        return text


LOADER_FILES = ("load.py", "quality.py", "language.py", "dictionary.py", "ocr.py", "schema.py", "errors.py")
"""The checkout's indexer modules that decide what a file's pages say: part of the page cache's key."""


class PageCache:
    """Pages as the checkout's loader reads them (`indexer.load.load_pages`), kept on disk per file content.

    Reading a PDF means text-quality checks against the Swedish dictionary on every page and OCR where the
    text layer fails; pages do not change when only chunking, structure or search do. Keyed by the file's
    bytes, the loader's code (LOADER_FILES) and the call's settings (minimum quality, OCR on or off).
    """

    def __init__(self, load_pages: Any, code_root: Path, cache_dir: Path) -> None:
        import pickle

        self._pickle = pickle
        self._load_pages = load_pages
        code = tree_hash([code_root / "indexer" / name for name in LOADER_FILES], base=code_root)
        self._dir = Path(cache_dir) / "pages" / code[:16]
        self.hits = 0
        self.misses = 0

    def __call__(self, path: Path, *, ocr: Any, min_quality: float, **kw: Any) -> Any:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:32]
        file = self._dir / f"{digest}-{min_quality}-{'ocr' if ocr is not None else 'no-ocr'}.pickle"
        if file.is_file():
            try:
                pages = self._pickle.loads(file.read_bytes())
                self.hits += 1
                return pages
            except Exception as ex:  # noqa: BLE001 - a stale or cut file is read again from the document
                logger.warning("page cache %s unreadable (%s): reading the document again", file, ex)
        pages = self._load_pages(path, ocr=ocr, min_quality=min_quality, **kw)
        self.misses += 1
        file.parent.mkdir(parents=True, exist_ok=True)
        partial = file.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(self._pickle.dumps(pages))
        partial.replace(file)
        return pages


def cache_pages(code_root: Path, cache: Path) -> PageCache | None:
    """Route the checkout's indexer through a PageCache (its pipeline calls `load_pages` by module name);
    None when the checkout's pipeline has no such function."""
    import indexer.pipeline as pipeline

    current = getattr(pipeline, "load_pages", None)
    if current is None:
        return None
    if isinstance(current, PageCache):
        return current
    wrapped = PageCache(current, code_root, cache)
    pipeline.load_pages = wrapped  # type: ignore[attr-defined]
    return wrapped


WORDS_FILE = "compounds.json"
"""The Swedish analyser's word cache (compound splits, base forms) in a data dir's cache folder: slow to
compute, the same for every index, and stamped with its dictionary's version, which the indexer checks."""


def _share_words(settings: Any, cache: Path, *, seed: bool) -> None:
    """Seed a new index's word cache from the evaluation's shared copy, or keep the larger one afterwards."""
    shared = cache / "words" / WORDS_FILE
    own = Path(getattr(settings, "cache_dir", Path(settings.data_dir) / "cache")) / WORDS_FILE
    source, target = (shared, own) if seed else (own, shared)
    if not source.is_file() or (target.is_file() and target.stat().st_size >= source.stat().st_size):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    shutil.copyfile(source, partial)
    partial.replace(target)


# --- building an index --------------------------------------------------------------------------------------


def make_settings(settings_cls: Any, data_dir: Path, corpus_dir: Path) -> Any:
    """Settings for an evaluation index: the environment's, with this data dir, the embedded store, no .env."""
    return settings_cls(_env_file=None, data_dir=data_dir, corpus_dir=corpus_dir, qdrant_url=None)


def prepare_index(
    label: str,
    code_root: Path,
    inputs: Sequence[Path],
    cache: Path,
    *,
    ocr_cache: Path,
    settings_cls: Any,
    build_indexer: Any,
) -> tuple[Any, Any, Any]:
    """Open (and bring up to date) the cached index of `inputs` made by the checkout at `code_root`.

    Returns (settings, indexer, raw embedder): the indexer's store stays open; the caller closes it. The
    assistant should get the raw embedder, so that its query-time work is timed as in production.
    """
    corpus = inputs[0] if len(inputs) == 1 and inputs[0].is_dir() else inputs[0].parent
    probe = make_settings(settings_cls, cache / "probe", corpus)
    data_dir = index_dir(cache, label, index_key(code_root, inputs, probe))
    settings = make_settings(settings_cls, data_dir, corpus)
    pages = cache_pages(code_root, cache)
    _share_words(settings, cache, seed=True)
    indexer = build_indexer(settings)
    raw = indexer.embedder
    indexer.embedder = CachedEmbedder(raw, cache / "embeddings")
    if getattr(indexer, "ocr", None) is not None:
        indexer.ocr = CachedOcr(indexer.ocr, ocr_cache)
    started = time.perf_counter()
    report = indexer.run(list(inputs))
    _share_words(settings, cache, seed=False)
    ocr = indexer.ocr if isinstance(indexer.ocr, CachedOcr) else None
    logger.info(
        "index %s: %d chunks in %.1f s (documents' pages cached %d, read %d; OCR pages cached %d, read %d)",
        label,
        report.chunks,
        time.perf_counter() - started,
        pages.hits if pages else 0,
        pages.misses if pages else 0,
        ocr.hits if ocr else 0,
        ocr.misses if ocr else 0,
    )
    return settings, indexer, raw


# --- the worker ---------------------------------------------------------------------------------------------


def chunk_json(chunk: Any) -> dict[str, Any]:
    """What the evaluation needs of a chunk, as JSON."""
    return {
        "key": chunk.chunk_id,
        "doc_id": chunk.doc_id,
        "source": chunk.source,
        "page_start": chunk.page_start,
        "page_end": chunk.page_end,
        "text": chunk.text,
        "paragraph": getattr(chunk, "paragraph", None),
        "section": getattr(chunk, "section", None),
    }


def _serve(assistant: Any, filters_cls: Any, requests: Iterable[str], reply: Any) -> None:
    for line in requests:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            filters = filters_cls(**req["filters"]) if req.get("filters") else None
            started = time.perf_counter()
            if req["op"] == "search":
                hits = assistant.search(req["query"], int(req["k"]), filters)
                ms = (time.perf_counter() - started) * 1000
                out: dict[str, Any] = {"ok": True, "ms": ms, "passages": [chunk_json(h.chunk) for h in hits]}
            elif req["op"] == "ask":
                history = [(str(r), str(c)) for r, c in req.get("history") or []]
                answer = assistant.ask(req["question"], history, filters)
                ms = (time.perf_counter() - started) * 1000
                out = {
                    "ok": True,
                    "ms": ms,
                    "status": answer.status,
                    "text": answer.text,
                    "query": getattr(answer, "query", ""),
                    "citations": [chunk_json(c.hit.chunk) for c in answer.citations],
                }
            else:
                out = {"ok": False, "error": f"unknown op {req['op']!r}"}
        except Exception as ex:  # noqa: BLE001 - reported to the parent, which records the case as failed
            logger.exception("request failed")
            out = {"ok": False, "error": f"{type(ex).__name__}: {ex}"}
        reply.write(json.dumps(out, ensure_ascii=False) + "\n")
        reply.flush()


def worker_main(argv: Sequence[str] | None = None) -> int:
    """Index with the checkout at --root, then serve search and ask requests (see the module docstring)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="the checkout to evaluate")
    parser.add_argument("--label", required=True, help="names the cached index")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--ocr-cache", type=Path, required=True)
    parser.add_argument("--path", type=Path, action="append", required=True, help="a folder or file to index")
    args = parser.parse_args(argv)
    # The protocol owns the real stdout; anything a library prints goes to stderr.
    reply = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = args.root.resolve()
    import indexer

    if Path(indexer.__file__).resolve().parents[1] != root:
        reply.write(json.dumps({"ok": False, "error": f"imported {indexer.__file__}, not {root}"}) + "\n")
        return 2
    from assistant.service import build_assistant
    from assistant.settings import AssistantSettings
    from assistant.types import Filters
    from indexer.cli import build_indexer

    started = time.perf_counter()
    settings, idx, raw = prepare_index(
        args.label,
        root,
        args.path,
        args.cache,
        ocr_cache=args.ocr_cache,
        settings_cls=AssistantSettings,
        build_indexer=build_indexer,
    )
    try:
        assistant = build_assistant(settings, store=idx.store, embedder=raw)
        ready = {"ok": True, "ready": True, "chunks": idx.store.count(), "seconds": time.perf_counter() - started}
        reply.write(json.dumps(ready) + "\n")
        reply.flush()
        _serve(assistant, Filters, sys.stdin, reply)
    finally:
        idx.store.close()
    return 0


if __name__ == "__main__":
    # Run as a script: this folder must not shadow top-level modules of the checkout under test.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    raise SystemExit(worker_main())
