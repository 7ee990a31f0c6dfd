"""Document metadata: what a sidecar gives, with the rest read from the text."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from indexer.schema import DOC_TYPES, DocumentMeta, Page
from indexer.structure import detect_doc_type, find_dates, is_furniture_line, meeting_date
from indexer.swedish.stopwords import SWEDISH_STOP_WORDS

__all__ = ["infer_body", "infer_date", "infer_metadata", "infer_title", "infer_year"]

logger = logging.getLogger(__name__)

_FIELDS = ("title", "doc_type", "publisher", "body", "date", "year", "language", "access_groups")
_BODY_ENDINGS = (
    "nämnd",
    "nämnden",
    "styrelse",
    "styrelsen",
    "presidium",
    "presidiet",
    "direktion",
    "direktionen",
    "fullmäktige",
    "utskott",
    "utskottet",
    "sektion",
    "sektionen",
    "rådet",
    "beredning",
    "beredningen",
)
_DOC_WORD = re.compile(
    r"^(?:kallelse|protokoll|protokollsutdrag|tjänsteskrivelse|missiv|föredragningslista|dagordning)"
    r"(?:\s*\d+\s*\(\s*\d+\s*\))?$",
    re.IGNORECASE,
)
_ORGAN = re.compile(r"^(?:organ|instans)\s*:?\s+(?P<body>\S.{2,80})$", re.IGNORECASE)
_LEADER = re.compile(r"(?:\.\s?){4,}|…{2,}")
_BULLET = re.compile(r"^[•·▪*\-–]\s")
_DATED_TYPES = frozenset({"protokoll", "kallelse", "tjansteskrivelse"})
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def _lines(pages: Sequence[Page], max_pages: int = 3) -> list[str]:
    out: list[str] = []
    for p in pages[:max_pages]:
        for raw in p.text.splitlines():
            t = " ".join(raw.split())
            if t and not is_furniture_line(t):
                out.append(t)
    return out


def infer_date(pages: Sequence[Page], doc_type: str = "ovrigt") -> str | None:
    """The meeting or document date: a 'Tid:'/'Sammanträdestid'/'Datum' line first, else (for protocols,
    notices and memos) the first date on the first page."""
    lines = _lines(pages, 2)
    for t in lines[:80]:
        d = meeting_date(t)
        if d:
            return d
    if doc_type not in _DATED_TYPES:
        return None
    for t in lines[:30]:
        dates = find_dates(t)
        if dates:
            return dates[0]
    return None


def infer_body(pages: Sequence[Page]) -> str | None:
    """The body behind the document: 'Organ Personalsektionen', a header line naming a nämnd or styrelse."""
    lines = _lines(pages, 1)[:25]
    for t in lines:
        m = _ORGAN.match(t)
        if m:
            return m.group("body").strip()
    for k, t in enumerate(lines):
        if len(t.split()) > 10 or t.endswith((".", ":")) or _BULLET.match(t) or "•" in t or _LEADER.search(t):
            continue
        if not t[:1].isupper():  # a heading names its body with a capital; a lower-case line is running text
            continue
        tokens = t.split()
        words = [w.strip(",.;:()").lower() for w in tokens]
        at = next((i for i, w in enumerate(words[:3]) if w.endswith(_BODY_ENDINGS)), None)
        if at is None or any(w.endswith(":") for w in tokens[:at]):  # "Inbjudna: budgetberedningen, …"
            continue
        if at and words[at - 1] == "av":  # "Beslutad av Kommunstyrelsen, 2023-08-29": the body that decided
            return " ".join(tokens[at:]).split(",")[0].strip()
        if not any(w in SWEDISH_STOP_WORDS and w != "och" for w in words[:at]):
            # not "Rapporterad till kommunstyrelsen": a body after a preposition is the addressee, not the author
            body = t
            # "Nämnd för arbetsmarknad, näringsliv och" + "attraktivitet"
            if k + 1 < len(lines) and lines[k + 1][:1].islower() and len(lines[k + 1].split()) <= 4:
                body = f"{body} {lines[k + 1]}"
            body = re.sub(r"\s*§§?\s*\d+(?:\s*[-–]\s*\d+)?\s*$", "", body)
            body = re.sub(r"^(?:presidium|protokoll)\s*[-–]\s*", "", body, flags=re.IGNORECASE)
            return body.strip()
    return None


def _composed(word: str, body: str | None, date: str | None) -> str:
    title = " – ".join([word] + ([body] if body else []))
    return f"{title} {date}" if date else title


def infer_title(pages: Sequence[Page], source: str, doc_type: str, body: str | None, date: str | None) -> str:
    """The first heading-like line; for notices and protocols 'Kallelse – <body> <date>'."""
    if doc_type in {"protokoll", "kallelse"} and body:
        return _composed("Protokoll" if doc_type == "protokoll" else "Kallelse", body, date)
    for t in _lines(pages, 1)[:12]:
        if _DOC_WORD.match(t):
            word = re.sub(r"\s*\d+\s*\(\s*\d+\s*\)", "", t).strip().capitalize()
            return _composed(word, body, date)
        if meeting_date(t) or _LEADER.search(t) or _BULLET.match(t):
            continue
        words = t.split()
        if not 1 <= len(words) <= 14 or len(t) > 120 or t.endswith((".", ",", ":", ";")):
            continue
        if sum(c.isalpha() for c in t) < 4 or "http" in t:
            continue
        if re.match(r"^(?:organ|tid|plats|datum)\b", t, re.IGNORECASE):
            continue
        title = re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", t)
        if title.isupper():
            title = title.capitalize()
        return title
    stem = source.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return re.sub(r"[_-]+", " ", stem).strip() or source


def infer_year(pages: Sequence[Page], title: str, date: str | None) -> int | None:
    """The date's year, else a year in the title, else the commonest year on the first pages."""
    if date:
        return int(date[:4])
    m = _YEAR.search(title)
    if m:
        return int(m.group(1))
    counts = Counter(int(y) for t in _lines(pages, 3) for y in _YEAR.findall(t))
    if not counts:
        return None
    return counts.most_common(1)[0][0]


def infer_metadata(pages: Sequence[Page], source: str, given: Mapping[str, Any]) -> DocumentMeta:
    """Metadata of a document: the fields in ``given`` (a sidecar) win; the rest is read from the text."""
    unknown = set(given) - set(_FIELDS)
    if unknown:
        logger.debug("%s: metadata fields not kept: %s", source, ", ".join(sorted(unknown)))
    text = "\n".join(p.text for p in pages[:3])
    doc_type = given.get("doc_type") or detect_doc_type(text, source)
    if doc_type not in DOC_TYPES:
        logger.warning("%s: doc_type %r is not one of %s; using 'ovrigt'", source, doc_type, DOC_TYPES)
        doc_type = "ovrigt"
    date = given.get("date") or infer_date(pages, doc_type)
    if date is not None:
        date = str(date)
    body = given.get("body") or infer_body(pages)
    title = given.get("title") or infer_title(pages, source, doc_type, body, date)
    year_given = given.get("year")
    year = int(year_given) if year_given is not None else infer_year(pages, title, date)
    access = given.get("access_groups") or ("public",)
    if isinstance(access, str):
        access = (access,)
    return DocumentMeta(
        title=str(title),
        doc_type=doc_type,
        publisher=given.get("publisher"),
        body=body,
        date=date,
        year=year,
        language=str(given.get("language") or "sv"),
        access_groups=tuple(str(a) for a in access),
    )
