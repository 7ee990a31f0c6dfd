"""Loaders: a file on disk becomes a tuple of pages (1-based), with how each page was read.

`load_pages` reads PDF (pypdf, page by page; OCR for scanned or garbled pages), plain text, Markdown,
HTML and Word (.docx) files. A file that cannot be read at all raises `UnreadableDocument` with a reason;
a single bad page becomes a skipped `Page` with its reason and the rest of the file is kept.

This module is the adapter for pypdf, beautifulsoup4 and python-docx.
"""

from __future__ import annotations

import io
import logging
import os
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from indexer.errors import UnreadableDocument
from indexer.language import INDEXED, clear_language, skip_note, unindexed_language
from indexer.ocr import Ocr, OcrFailed
from indexer.quality import TextQuality, measure_text
from indexer.schema import Page

logger = logging.getLogger(__name__)

__all__ = [
    "MIN_TEXT_CHARS",
    "SUPPORTED_SUFFIXES",
    "clean_text",
    "decode_text",
    "load_pages",
    "split_text_pages",
]

SUPPORTED_SUFFIXES = (".pdf", ".txt", ".md", ".markdown", ".html", ".htm", ".docx")

MIN_TEXT_CHARS = 20
"""A PDF page whose text layer has fewer non-space characters than this is treated as having none."""
SCAN_TEXT_CHARS = 200
"""A PDF page with fewer non-space characters than this and a large image is treated as a scan."""
SCAN_IMAGE_PIXELS = 1_000_000
"""An image of at least this many pixels (an A4 page at 150 dpi has 2.2 million) can be a scanned page."""
JUDGED_WORDS = 20
"""Pages with at least this many words count when judging whether a whole document's text layer is broken."""
GARBLED_DOCUMENT_SHARE = 0.25
"""When at least this share of a PDF's judged pages is garbled, its font map is taken to be broken ..."""
SUSPECT_QUALITY = 0.9
"""... and every page of it below this quality is OCR'd too (light garbling: "et" for "ett", "tll" for "till")."""
OCR_MARGIN = 1.05
"""OCR replaces a text layer only when it has this many times as many dictionary words (plus one)."""

_PAGE_START = re.compile(r"^ (?=\S)")


def split_text_pages(text: str) -> list[str]:
    """Split a plain-text export into pages.

    A line that starts with exactly one space followed by a non-space character starts a new page
    (the pattern the PDF-to-text exports in corpus/ follow). Text before the first such line is page 1.
    """
    pages: list[list[str]] = [[]]
    for line in text.splitlines():
        if _PAGE_START.match(line) and any(s.strip() for s in pages[-1]):
            pages.append([])
        pages[-1].append(line)
    return ["\n".join(p) for p in pages]


# -- text repair -------------------------------------------------------------------------------------

_CHAR_MAP = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
        "\u2010": "-",
        "\u2011": "-",
        "\u00a0": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u2007": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u202f": " ",
        "\u3000": " ",
        "\t": " ",
        "\r": "\n",
        "\f": "\n",
        "\v": "\n",
        "\u0085": "\n",
        "\u2028": "\n",
        "\u2029": "\n",
    }
)
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\x00-\x08\x0e-\x1f\x7f]")
_SOFT_HYPHEN_BREAK = re.compile("\u00ad *\n *")
_SPACES = re.compile(r" {2,}")
_LINE_EDGES = re.compile(r"^ +| +$", re.MULTILINE)
_HYPHEN_BREAK = re.compile(r"(\w*[^\W\d_])-\n\n?(?=([^\W\d_]+))")
_BLANK_LINES = re.compile(r"\n{3,}")
_KEEP_HYPHEN_BEFORE = frozenset(
    {"och", "eller", "samt", "resp", "respektive", "som", "men", "alternativt", "liksom", "till", "både"}
)
"""Words after a suspended-compound hyphen: "risk- och sårbarhetsanalys", "in- eller utbetalning"."""


def _join_hyphen_break(match: re.Match[str]) -> str:
    before, after = match.group(1), match.group(2)
    if after.lower() in _KEEP_HYPHEN_BEFORE:
        return f"{before}- "  # "risk-\noch" -> "risk- och"
    if len(before) > 1 and before[-1].islower() and after[0].islower():
        return before  # "beta-\nlas" -> "betalas"
    return f"{before}-"  # "EU-\nprojekt", "e-\npost", "Nykarleby-\nPedersöre": a real hyphen


def clean_text(text: str) -> str:
    """Repair extracted text so that it reads well and searches well.

    Unicode NFC, ligatures ("ﬁ") spelt out, no-break and odd spaces made plain, soft hyphens and
    invisible characters removed, words hyphenated across a line break joined ("beta-\\nlas" ->
    "betalas") while real hyphens stay ("risk- och", "EU-projekt", "2022-02-10"), runs of spaces
    collapsed, lines stripped, and at most one blank line in a row. Line breaks are kept.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").translate(_CHAR_MAP)
    text = _SOFT_HYPHEN_BREAK.sub("", text).replace("\u00ad", "")
    text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _LINE_EDGES.sub("", text)
    text = _HYPHEN_BREAK.sub(_join_hyphen_break, text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def decode_text(data: bytes, path: Path) -> str:
    """Bytes of a text file as str: UTF-8 (with or without BOM), UTF-16 with BOM, or else cp1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise UnreadableDocument(str(path), "okänd teckenkodning eller binärfil (inte UTF-8, UTF-16 eller cp1252)")


def _non_space(text: str) -> int:
    return sum(1 for c in text if not c.isspace())


# -- entry point -------------------------------------------------------------------------------------


def load_pages(path: Path, *, ocr: Ocr | None, min_quality: float, ocr_workers: int | None = None) -> tuple[Page, ...]:
    """Read a file as pages, 1-based, each saying how it was read (text, OCR or skipped) and how well.

    PDF pages whose text layer is missing, a scan, or garbled (dictionary share below `min_quality`)
    are OCR'd when `ocr` is given, and kept with a note or skipped with a reason when not.
    Pages are OCR'd `ocr_workers` at a time (default: the number of CPUs).
    Raises UnreadableDocument when the file as a whole cannot be read or holds no text.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableDocument(
            str(path), f"filtypen {suffix or '(ingen)'} stöds inte (stöds: {', '.join(SUPPORTED_SUFFIXES)})"
        )
    try:
        data = path.read_bytes()
    except OSError as ex:
        raise UnreadableDocument(str(path), f"filen kunde inte läsas: {ex.strerror or ex}") from ex
    if not data.strip():
        raise UnreadableDocument(str(path), "tom fil")
    started = time.perf_counter()
    if suffix == ".pdf":
        workers = ocr_workers if ocr_workers is not None else (os.cpu_count() or 1)
        pages = _load_pdf(path, data, ocr, min_quality, workers)
    else:
        pages = _TEXT_READERS[suffix](path, data)
    if not any(p.text.strip() for p in pages):
        reasons = sorted({p.note for p in pages if p.note})
        detail = f" ({'; '.join(reasons)})" if reasons else ""
        raise UnreadableDocument(str(path), f"ingen text på någon sida{detail}")
    methods = [p.method for p in pages]
    logger.info(
        "loaded %s: %d pages (text %d, ocr %d, skipped %d) in %.1f s",
        path.name,
        len(pages),
        methods.count("text"),
        methods.count("ocr"),
        methods.count("skipped"),
        time.perf_counter() - started,
    )
    return pages


# -- plain formats -----------------------------------------------------------------------------------


def _text_page(number: int, text: str) -> Page:
    text = clean_text(text)
    if not text:
        return Page(number=number, text="", method="skipped", quality=0.0, note="tom sida")
    return Page(number=number, text=text, method="text", quality=measure_text(text).quality)


def _load_txt(path: Path, data: bytes) -> tuple[Page, ...]:
    parts = split_text_pages(decode_text(data, path))
    return tuple(_text_page(i, part) for i, part in enumerate(parts, start=1))


def _load_markdown(path: Path, data: bytes) -> tuple[Page, ...]:
    return (_text_page(1, decode_text(data, path)),)


_HTML_DROP = ("script", "style", "noscript", "template", "head", "svg", "iframe", "object")
_HTML_BLOCKS = (
    "address", "article", "aside", "blockquote", "caption", "details", "div", "dl", "fieldset", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "nav", "ol", "p",
    "pre", "section", "summary", "table", "ul",
)  # fmt: skip
"""Elements that stand apart as paragraphs (a blank line before and after)."""
_HTML_LINES = ("li", "tr", "dt", "dd")
"""Elements that end a line."""
_HTML_CELLS = ("td", "th")
_HTML_SPACE = re.compile(r"[ \t\r\n\f]+")


def _load_html(path: Path, data: bytes) -> tuple[Page, ...]:
    from bs4 import BeautifulSoup
    from bs4.element import NavigableString, PreformattedString

    try:
        soup = BeautifulSoup(data, "html.parser")
    except (ValueError, TypeError, AssertionError) as ex:
        raise UnreadableDocument(str(path), f"trasig HTML: {ex}") from ex
    for tag in soup.find_all(_HTML_DROP):
        tag.decompose()
    for string in list(soup.find_all(string=True)):
        if isinstance(string, PreformattedString):  # doctype, comments, CDATA, processing instructions
            string.extract()
        elif isinstance(string, NavigableString) and string.find_parent("pre") is None:
            string.replace_with(_HTML_SPACE.sub(" ", str(string)))
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(_HTML_CELLS):
        tag.insert_after(" | ")
    for tag in soup.find_all(_HTML_LINES):
        tag.insert_after("\n")
    for tag in soup.find_all(_HTML_BLOCKS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    text = "\n".join(line.strip().removesuffix(" |").removesuffix("|") for line in soup.get_text().splitlines())
    return (_text_page(1, text),)


def _load_docx(path: Path, data: bytes) -> tuple[Page, ...]:
    import docx
    from docx.oxml.ns import qn

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as ex:  # python-docx raises zipfile, lxml and its own errors for a bad file
        raise UnreadableDocument(str(path), f"trasig Word-fil: {type(ex).__name__}: {ex}") from ex
    t, tab, br, cr, tbl, p_tag = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr"), qn("w:tbl"), qn("w:p")
    br_type, page_break_before = qn("w:type"), qn("w:pageBreakBefore")

    pages: list[list[str]] = [[]]

    def paragraph(element: Any) -> None:
        if element.find(f"{qn('w:pPr')}/{page_break_before}") is not None and any(pages[-1]):
            pages.append([])
        line: list[str] = []
        for node in element.iter(t, tab, br, cr):
            if node.tag == t:
                line.append(node.text or "")
            elif node.tag == tab:
                line.append(" ")
            elif node.tag == br and node.get(br_type) == "page":
                pages[-1].append("".join(line))
                pages.append([])
                line = []
            else:
                line.append("\n")
        pages[-1].append("".join(line))

    def table(element: Any) -> None:
        for row in element.iter(qn("w:tr")):
            cells: list[str] = []
            for cell in row.iter(qn("w:tc")):
                text = " ".join("".join(n.text or "" for n in p.iter(t)) for p in cell.iter(p_tag)).strip()
                if text and (not cells or cells[-1] != text):
                    cells.append(text)
            pages[-1].append(" | ".join(cells))

    for element in document.element.body.iterchildren():
        if element.tag == p_tag:
            paragraph(element)
        elif element.tag == tbl:
            table(element)
    return tuple(_text_page(i, "\n".join(lines)) for i, lines in enumerate(pages, start=1))


# -- PDF ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layer:
    """The text layer of one PDF page as extracted, cleaned and judged; or why it could not be read."""

    text: str = ""
    chars: int = 0
    measure: TextQuality = TextQuality(words=0, known=0, total_words=0)
    largest_image: int = 0
    error: str | None = None


@dataclass(frozen=True)
class _OcrText:
    """What OCR made of one page, or why it failed."""

    text: str = ""
    measure: TextQuality = TextQuality(words=0, known=0, total_words=0)
    error: str | None = None


def _load_pdf(path: Path, data: bytes, ocr: Ocr | None, min_quality: float, ocr_workers: int) -> tuple[Page, ...]:
    reader = _open_pdf(path, data)
    layers = [_read_layer(path, reader, number) for number in range(1, len(reader.pages) + 1)]
    # A text layer that clearly reads as another language than Swedish is readable, not garbled: not OCR'd.
    languages = [clear_language(layer.text) for layer in layers]
    reasons = [
        None if lang not in (None, "sv") else r
        for r, lang in zip(_ocr_reasons(layers, min_quality), languages, strict=True)
    ]
    ocr_texts: dict[int, _OcrText] = {}
    if ocr is not None:
        todo = [number for number, reason in enumerate(reasons, start=1) if reason is not None]
        ocr_texts = _run_ocr(path, todo, ocr, ocr_workers)
    pages = []
    for number, (layer, reason, language) in enumerate(zip(layers, reasons, languages, strict=True), start=1):
        page = _choose(number, layer, reason, ocr_texts.get(number), ocr is not None)
        language = unindexed_language(page.text) if page.method == "ocr" else language
        if language is not None and language not in INDEXED:  # a Finnish page is not indexed
            page = Page(number=number, text="", method="skipped", quality=0.0, note=skip_note(language))
        pages.append(page)
    return tuple(pages)


def _open_pdf(path: Path, data: bytes) -> Any:
    from pypdf import PasswordType, PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception as ex:  # pypdf raises many types for a broken file; all mean the same here
        raise UnreadableDocument(str(path), f"trasig PDF: {type(ex).__name__}: {ex}") from ex
    if encrypted:
        try:
            decrypted = reader.decrypt("")
        except Exception as ex:  # unknown algorithm, missing crypto library, broken encryption dictionary
            raise UnreadableDocument(str(path), f"krypterad PDF som inte kan öppnas: {ex}") from ex
        if decrypted == PasswordType.NOT_DECRYPTED:
            raise UnreadableDocument(str(path), "krypterad PDF (lösenordsskyddad)")
    try:
        count = len(reader.pages)
    except Exception as ex:  # a broken page tree
        raise UnreadableDocument(str(path), f"trasig PDF: sidorna kunde inte läsas: {ex}") from ex
    if count == 0:
        raise UnreadableDocument(str(path), "PDF utan sidor")
    return reader


def _read_layer(path: Path, reader: Any, number: int) -> _Layer:
    try:
        page = reader.pages[number - 1]
        raw = page.extract_text() or ""
        if _fragmented(raw):
            # Some producers (Google Docs' Skia) place every word apart; layout mode puts them back on lines.
            layout = page.extract_text(extraction_mode="layout") or ""
            if _non_space(layout) >= 0.95 * _non_space(raw):
                raw = layout
    except Exception as ex:  # one page pypdf cannot parse must not cost the others
        reason = f"sidan kunde inte läsas: {type(ex).__name__}: {ex}"
        logger.warning("%s page %d: %s", path.name, number, reason)
        return _Layer(error=reason)
    text = clean_text(raw)
    return _Layer(text=text, chars=_non_space(text), measure=measure_text(text), largest_image=_largest_image(page))


def _ocr_reasons(layers: list[_Layer], min_quality: float) -> list[str | None]:
    """Why each page should be OCR'd, or None to keep its text layer."""
    judged = [layer for layer in layers if layer.measure.words >= JUDGED_WORDS]
    garbled = sum(1 for layer in judged if layer.measure.quality < min_quality)
    broken_font = bool(judged) and garbled / len(judged) >= GARBLED_DOCUMENT_SHARE
    reasons: list[str | None] = []
    for layer in layers:
        quality = layer.measure.quality
        if layer.error is not None:
            reason: str | None = layer.error
        elif layer.chars == 0:
            reason = "inget textlager"
        elif layer.chars < MIN_TEXT_CHARS:
            reason = "nästan inget textlager"
        elif layer.chars < SCAN_TEXT_CHARS and layer.largest_image >= SCAN_IMAGE_PIXELS:
            reason = "inskannad sida"
        elif quality < min_quality:
            reason = f"textlager oläsbart (kvalitet {quality:.2f})"
        elif broken_font and quality < SUSPECT_QUALITY:
            reason = f"textlager troligen felkodat (kvalitet {quality:.2f}; {garbled} av {len(judged)} sidor oläsbara)"
        else:
            reason = None
        reasons.append(reason)
    return reasons


def _run_ocr(path: Path, numbers: list[int], ocr: Ocr, workers: int) -> dict[int, _OcrText]:
    """OCR the given pages, `workers` at a time (the OCR engine runs in subprocesses)."""
    if not numbers:
        return {}
    started = time.perf_counter()

    def one(number: int) -> tuple[int, str | None, str | None]:
        try:
            return number, clean_text(ocr.ocr_pdf_page(path, number)), None
        except OcrFailed as ex:
            logger.warning("%s page %d: OCR failed: %s", path.name, number, ex)
            return number, None, str(ex)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(numbers)))) as pool:
        done = list(pool.map(one, numbers))
    results = {
        number: _OcrText(error=error) if text is None else _OcrText(text=text, measure=measure_text(text))
        for number, text, error in done
    }
    logger.info(
        "%s: OCR of %d pages in %.1f s (%d at a time)", path.name, len(numbers), time.perf_counter() - started, workers
    )
    return results


def _choose(number: int, layer: _Layer, reason: str | None, ocr_text: _OcrText | None, ocr_on: bool) -> Page:
    """The page as a person should see it: the text layer, or OCR where that reads clearly better."""
    kept = Page(number=number, text=layer.text, method="text", quality=layer.measure.quality)
    if reason is None:
        return kept
    if not ocr_on:
        if not layer.text:
            note = reason if layer.error is not None else "ingen textlager och OCR saknas"
            return Page(number=number, text="", method="skipped", quality=0.0, note=note)
        return replace(kept, note=f"{reason}; OCR saknas")
    assert ocr_text is not None
    if ocr_text.error is not None:
        note = f"{reason}; OCR misslyckades: {ocr_text.error}"
        if not layer.text:
            return Page(number=number, text="", method="skipped", quality=0.0, note=note)
        return replace(kept, note=note)
    if _ocr_is_better(layer.measure, ocr_text.measure, layer.text, ocr_text.text):
        return Page(
            number=number, text=ocr_text.text, method="ocr", quality=ocr_text.measure.quality, note=f"{reason}; OCR"
        )
    if not layer.text:
        return Page(number=number, text="", method="skipped", quality=0.0, note=f"{reason}; OCR fann ingen text")
    return replace(kept, note=f"{reason}; OCR gav inte bättre text (kvalitet {ocr_text.measure.quality:.2f})")


def _ocr_is_better(layer: TextQuality, ocr: TextQuality, layer_text: str, ocr_text: str) -> bool:
    """Whether OCR reads clearly better than the text layer.

    OCR must find more dictionary words (by OCR_MARGIN); where the layer has enough words to judge, its
    share of dictionary words must not be lower either (OCR of dot leaders yields many short junk words).
    """
    if not ocr_text:
        return False
    if not layer_text or layer.total_words == 0:
        return True
    more_words = ocr.known_words > layer.known_words * OCR_MARGIN + 1
    if layer.words < JUDGED_WORDS:
        return more_words
    return more_words and ocr.quality >= layer.quality


_FRAGMENTED_MIN_LINES = 20
_FRAGMENTED_WORDS_PER_LINE = 1.5


def _fragmented(raw: str) -> bool:
    lines = [line for line in raw.splitlines() if line.strip()]
    return len(lines) >= _FRAGMENTED_MIN_LINES and len(raw.split()) / len(lines) < _FRAGMENTED_WORDS_PER_LINE


def _largest_image(page: Any) -> int:
    """Pixels of the largest image the page draws (looking one level into form XObjects); 0 if unknown."""
    try:
        return max(_image_sizes(page.get("/Resources"), depth=2), default=0)
    except Exception as ex:  # a broken resource dictionary only means no image is known
        logger.debug("image sizes unreadable: %s", ex)
        return 0


def _image_sizes(resources: Any, depth: int) -> Iterator[int]:
    if resources is None or depth == 0:
        return
    resources = resources.get_object()
    xobjects = resources.get("/XObject")
    if xobjects is None:
        return
    for ref in xobjects.get_object().values():
        xobject = ref.get_object()
        subtype = xobject.get("/Subtype")
        if subtype == "/Image":
            yield int(xobject.get("/Width", 0)) * int(xobject.get("/Height", 0))
        elif subtype == "/Form":
            yield from _image_sizes(xobject.get("/Resources"), depth - 1)


_TEXT_READERS: dict[str, Callable[[Path, bytes], tuple[Page, ...]]] = {
    ".txt": _load_txt,
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".html": _load_html,
    ".htm": _load_html,
    ".docx": _load_docx,
}
