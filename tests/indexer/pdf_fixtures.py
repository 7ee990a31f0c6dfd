"""Makers of small test documents, built at test time: text PDFs, scanned (image-only) PDFs, PDFs with
a broken font map, encrypted PDFs and Word files. reportlab, Pillow, pypdf and python-docx are test
dependencies here."""

from __future__ import annotations

import string
import textwrap
from pathlib import Path

import reportlab
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

VERA_TTF = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
"""Bitstream Vera, shipped with reportlab: covers å, ä, ö and §."""


def text_pdf(path: Path, pages: list[str], *, font_size: int = 12) -> Path:
    """A PDF with a real text layer (Helvetica), one string per page, wrapped at 80 characters."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    for text in pages:
        lines = pdf.beginText(72, height - 72)
        lines.setFont("Helvetica", font_size)
        for paragraph in text.split("\n"):
            for line in textwrap.wrap(paragraph, 80) or [""]:
                lines.textLine(line)
        pdf.drawText(lines)
        pdf.showPage()
    pdf.save()
    return path


def scanned_pdf(path: Path, pages: list[str], *, dpi: int = 200, font_size_pt: int = 14) -> Path:
    """An image-only PDF, as a scanner makes it: each page's text is drawn into a greyscale image."""
    images = [_page_image(text, dpi=dpi, font_size_pt=font_size_pt) for text in pages]
    images[0].save(path, "PDF", resolution=float(dpi), save_all=True, append_images=images[1:])
    return path


def _page_image(text: str, *, dpi: int, font_size_pt: int) -> Image.Image:
    width, height = int(8.27 * dpi), int(11.69 * dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(VERA_TTF), size=round(font_size_pt * dpi / 72))
    y = dpi  # one inch margin
    line_height = round(font_size_pt * 1.5 * dpi / 72)
    for paragraph in text.split("\n"):
        for line in textwrap.wrap(paragraph, 60) or [""]:
            draw.text((dpi, y), line, fill=0, font=font)
            y += line_height
    return image


_SCRAMBLE = str.maketrans(
    string.ascii_lowercase + string.ascii_uppercase,
    string.ascii_lowercase[13:]
    + string.ascii_lowercase[:13]
    + string.ascii_uppercase[13:]
    + string.ascii_uppercase[:13],
)
"""rot13: how the broken font map reports each letter."""


def garbled_pdf(path: Path, pages: list[str]) -> Path:
    """A PDF that looks right on screen (and to OCR) but whose text layer reads as garbage.

    The text is drawn in Helvetica; every font then gets a ToUnicode map that reports each letter as
    another one (rot13), as a broken font map in a real PDF does ("protokollet" -> "cebgbxbyyrg").
    """
    plain = path.with_suffix(".plain.pdf")
    text_pdf(plain, pages)
    writer = PdfWriter(clone_from=PdfReader(plain))
    cmap = DecodedStreamObject()
    cmap.set_data(_scrambling_cmap().encode("ascii"))
    cmap_ref = writer._add_object(cmap)
    for page in writer.pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        fonts = resources["/Font"].get_object()
        assert isinstance(fonts, DictionaryObject)
        for name in fonts:
            font = fonts[name].get_object()
            assert isinstance(font, DictionaryObject)
            font[NameObject("/ToUnicode")] = cmap_ref
    writer.write(path)
    plain.unlink()
    return path


def _scrambling_cmap() -> str:
    win_ansi_latin1 = {code: chr(code) for code in range(0xA0, 0x100)}
    entries = []
    for code in range(0x20, 0x100):
        char = chr(code) if code < 0x7F else win_ansi_latin1.get(code)
        if char is None:
            continue
        entries.append(f"<{code:02X}> <{ord(char.translate(_SCRAMBLE)):04X}>")
    chunks = [entries[i : i + 100] for i in range(0, len(entries), 100)]
    body = "\n".join(f"{len(c)} beginbfchar\n" + "\n".join(c) + "\nendbfchar" for c in chunks)
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
        f"{body}\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )


def encrypted_pdf(path: Path, pages: list[str], *, user_password: str, algorithm: str = "AES-128") -> Path:
    """A text PDF encrypted with pypdf; an empty user password opens without asking (owner password set)."""
    plain = path.with_suffix(".plain.pdf")
    text_pdf(plain, pages)
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=user_password, owner_password="ägarlösen", algorithm=algorithm)
    writer.write(path)
    plain.unlink()
    return path


def docx_file(path: Path, pages: list[list[str]]) -> Path:
    """A Word file: each inner list is the paragraphs of one page; pages end with an explicit page break."""
    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    for index, paragraphs in enumerate(pages):
        for text in paragraphs:
            paragraph = document.add_paragraph(text)
        if index < len(pages) - 1:
            paragraph.add_run().add_break(WD_BREAK.PAGE)
    document.save(str(path))
    return path
