"""OCR of single PDF pages: poppler's pdftoppm renders the page, the tesseract CLI reads it.

Both tools are called as subprocesses (no pytesseract): the rendered page goes from pdftoppm to
tesseract through memory as a raw greyscale image, and the child gets its own environment
(OMP_THREAD_LIMIT=1, which makes tesseract about three times faster on few cores).

Tesseract reads "§" as "$", "8" or "&"; this module does not correct that (the § parser expects it).
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from indexer.errors import IndexerError

if TYPE_CHECKING:
    from indexer.settings import IndexSettings

logger = logging.getLogger(__name__)

__all__ = ["Ocr", "OcrFailed", "TesseractOcr", "make_ocr"]


class OcrFailed(IndexerError):
    """One page could not be OCR'd; the message says why. The loader skips that page."""


class Ocr(Protocol):
    """Reads the text of one page of a PDF from its rendered image.

    The loader calls it from several threads at once, one page each; implementations must allow that.
    """

    def ocr_pdf_page(self, pdf_path: Path, page_number: int) -> str:
        """The text of page `page_number` (1-based). Raises OcrFailed for that page."""
        ...


class TesseractOcr:
    """OCR with Debian's pdftoppm (poppler-utils) and tesseract (tesseract-ocr + a language pack)."""

    def __init__(self, lang: str = "swe", dpi: int = 300, timeout_s: float = 120.0) -> None:
        self.lang = lang
        self.dpi = dpi
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"TesseractOcr(lang={self.lang!r}, dpi={self.dpi})"

    @staticmethod
    def available(lang: str = "swe") -> bool:
        """Whether pdftoppm and tesseract are installed and tesseract knows `lang`."""
        return _tools_available(lang)

    def ocr_pdf_page(self, pdf_path: Path, page_number: int) -> str:
        image = self._render(pdf_path, page_number)
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        cmd = ["tesseract", "stdin", "stdout", "-l", self.lang, "--dpi", str(self.dpi)]
        try:
            done = subprocess.run(cmd, input=image, capture_output=True, env=env, timeout=self.timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as ex:
            raise OcrFailed(f"tesseract misslyckades: {ex}") from ex
        if done.returncode != 0:
            raise OcrFailed(f"tesseract misslyckades (kod {done.returncode}): {_tail(done.stderr)}")
        return done.stdout.decode("utf-8", errors="replace")

    def _render(self, pdf_path: Path, page_number: int) -> bytes:
        cmd = [
            "pdftoppm",
            "-r",
            str(self.dpi),
            "-gray",
            "-f",
            str(page_number),
            "-l",
            str(page_number),
            "-singlefile",
            str(pdf_path),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=self.timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as ex:
            raise OcrFailed(f"sidan kunde inte renderas: {ex}") from ex
        if done.returncode != 0 or not done.stdout:
            raise OcrFailed(f"sidan kunde inte renderas (pdftoppm kod {done.returncode}): {_tail(done.stderr)}")
        return done.stdout


@functools.lru_cache(maxsize=8)
def _tools_available(lang: str) -> bool:
    missing = [tool for tool in ("pdftoppm", "tesseract") if shutil.which(tool) is None]
    if missing:
        logger.info("OCR unavailable: %s not found", ", ".join(missing))
        return False
    try:
        done = subprocess.run(["tesseract", "--list-langs"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as ex:
        logger.info("OCR unavailable: tesseract --list-langs failed: %s", ex)
        return False
    langs = {line.strip() for line in done.stdout.decode("utf-8", errors="replace").splitlines()[1:]}
    if lang not in langs:
        logger.info("OCR unavailable: tesseract has no %r language data (has %s)", lang, sorted(langs))
        return False
    return True


def make_ocr(settings: IndexSettings) -> Ocr | None:
    """The OCR engine the settings ask for, or None when OCR is off or tesseract is missing."""
    if not settings.ocr:
        return None
    if not TesseractOcr.available(settings.ocr_lang):
        logger.warning(
            "OCR is on but tesseract with %r is not available; pages without text will be skipped", settings.ocr_lang
        )
        return None
    return TesseractOcr(lang=settings.ocr_lang)


def _tail(stderr: bytes, limit: int = 300) -> str:
    return stderr.decode("utf-8", errors="replace").strip()[-limit:]
