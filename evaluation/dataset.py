"""The gold set: questions about the archive, with the evidence and key facts a correct answer carries.

The file format (evaluation/gold/gold.yaml) is checked with pydantic at load time; the cases then travel
as frozen dataclasses. `validate_gold` checks the set against the corpus: every quote must stand, verbatim
up to whitespace, on the stated page as the indexer splits the document into pages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from evaluation.errors import EvaluationError
from indexer.load import split_text_pages
from indexer.schema import DOC_TYPES

logger = logging.getLogger(__name__)

Language = Literal["sv", "en"]
Category = Literal[
    "fact",
    "decision",
    "process",
    "list",
    "cross_document",
    "ocr",
    "table",
    "unanswerable",
    "follow_up",
]
UserGroup = Literal["politician", "staff", "new_employee"]

LANGUAGES: tuple[str, ...] = get_args(Language)
CATEGORIES: tuple[str, ...] = get_args(Category)
USER_GROUPS: tuple[str, ...] = get_args(UserGroup)

GOLD_DIR = Path(__file__).resolve().parent / "gold"
DEFAULT_CORPUS_DIR = Path(__file__).resolve().parents[1] / "corpus"

MIN_QUOTE_WORDS = 5
MAX_QUOTE_WORDS = 25
MAX_EVIDENCE = 3

PageLoader = Callable[[Path], Sequence[str]]


class GoldSetError(EvaluationError):
    """The gold-set file cannot be read or does not follow the format."""


@dataclass(frozen=True)
class Evidence:
    """A verbatim passage that supports the answer: a file in corpus/, a 1-based page, a quote."""

    document: str
    page: int
    quote: str


@dataclass(frozen=True)
class EvalFilters:
    """Filters a user would set with the question (all optional)."""

    doc_type: str | None = None
    year: int | None = None
    body: str | None = None
    source: str | None = None
    """A file in corpus/, when the question is about one document."""


@dataclass(frozen=True)
class EvalCase:
    """One gold question with what a correct answer must show."""

    id: str
    question: str
    language: str
    category: str
    user_group: str
    answerable: bool
    evidence: tuple[Evidence, ...]
    must_contain: tuple[str, ...]
    """Short key facts (an amount, a date, a §, a case number, a name) a correct answer contains."""
    reference_answer: str
    follow_up_of: str | None = None
    """The id of the earlier case this question depends on ("Och hur mycket fick de?")."""
    filters: EvalFilters | None = None

    @property
    def relevant_documents(self) -> tuple[str, ...]:
        """The evidence documents, each once, in order of first mention."""
        return tuple(dict.fromkeys(e.document for e in self.evidence))

    @property
    def relevant_pages(self) -> tuple[tuple[str, int], ...]:
        """The (document, page) pairs of the evidence, each once."""
        return tuple(dict.fromkeys((e.document, e.page) for e in self.evidence))


class _EvidenceModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document: str = Field(min_length=1)
    page: int = Field(ge=1)
    quote: str = Field(min_length=1)


class _FiltersModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_type: str | None = None
    year: int | None = None
    body: str | None = None
    source: str | None = None

    @field_validator("doc_type")
    @classmethod
    def _known_doc_type(cls, value: str | None) -> str | None:
        if value is not None and value not in DOC_TYPES:
            raise ValueError(f"doc_type must be one of {', '.join(DOC_TYPES)}")
        return value


class _CaseModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    question: str = Field(min_length=1)
    language: Language
    category: Category
    user_group: UserGroup
    answerable: bool
    evidence: list[_EvidenceModel] = Field(default_factory=list)
    must_contain: list[str] = Field(default_factory=list)
    reference_answer: str = Field(min_length=1)
    follow_up_of: str | None = None
    filters: _FiltersModel | None = None


class _GoldFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    cases: list[_CaseModel]


def _to_case(model: _CaseModel) -> EvalCase:
    filters = None
    if model.filters is not None:
        filters = EvalFilters(**model.filters.model_dump())
    return EvalCase(
        id=model.id,
        question=model.question,
        language=model.language,
        category=model.category,
        user_group=model.user_group,
        answerable=model.answerable,
        evidence=tuple(Evidence(e.document, e.page, e.quote) for e in model.evidence),
        must_contain=tuple(model.must_contain),
        reference_answer=model.reference_answer,
        follow_up_of=model.follow_up_of,
        filters=filters,
    )


def _gold_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        if not files:
            raise GoldSetError(f"{path}: no .yaml files")
        return files
    if not path.is_file():
        raise GoldSetError(f"{path}: no such file")
    return [path]


def load_gold(path: Path | str | None = None) -> list[EvalCase]:
    """Read the gold set: one YAML file, or every .yaml file of a folder in name order.

    Without a path, reads evaluation/gold/. Raises GoldSetError when a file does not follow the format.
    """
    root = GOLD_DIR if path is None else Path(path)
    cases: list[EvalCase] = []
    for file in _gold_files(root):
        try:
            raw: Any = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as ex:
            raise GoldSetError(f"{file}: cannot read: {ex}") from ex
        try:
            parsed = _GoldFileModel.model_validate(raw)
        except ValidationError as ex:
            raise GoldSetError(f"{file}: not a gold-set file: {ex}") from ex
        cases.extend(_to_case(c) for c in parsed.cases)
    logger.info("loaded gold set %s: %d cases", root, len(cases))
    return cases


_SPACES = re.compile(r"\s+")
_DASHES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2011": "-", "\u2212": "-"})
_THOUSANDS = re.compile(r"(?<=\d)[ ,](?=\d{3}(?!\d))")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_PERCENT = re.compile(r"(?<=\d) (?=%)")
_SECTION = re.compile(r"§ (?=[\d§])")
_NUMBER_WORDS = {
    word: str(number)
    for number, words in enumerate(
        (
            "två two",
            "tre three",
            "fyra four",
            "fem five",
            "sex six",
            "sju seven",
            "åtta eight",
            "nio nine",
            "tio ten",
            "elva eleven",
            "tolv twelve",
        ),
        start=2,
    )
    for word in words.split()
}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b")


def normalise_fact(s: str) -> str:
    """Fold a fact or an answer for comparison.

    Case-folded; whitespace (non-breaking and thin spaces too) collapsed; thousands separators removed
    ("1 934" == "1934" == "1,934"); decimal comma read as a point ("24,3" == "24.3"); "90 %" == "90%";
    "§ 23" == "§23"; en and em dashes read as hyphens; number words two to twelve read as digits
    ("fem" == "five" == "5").
    """
    text = _SPACES.sub(" ", s.casefold().translate(_DASHES)).strip()
    text = _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(1)], text)
    text = _THOUSANDS.sub("", text)
    text = _DECIMAL_COMMA.sub(".", text)
    text = _PERCENT.sub("", text)
    return _SECTION.sub("§", text)


def contains_fact(text: str, fact: str) -> bool:
    """Whether the text states the fact, after normalise_fact on both.

    A fact that starts or ends with a digit must not continue a longer number ("600" is not in "1600").
    """
    needle = normalise_fact(fact)
    if not needle:
        return False
    haystack = normalise_fact(text)
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        clean_start = not (needle[0].isdigit() and start > 0 and haystack[start - 1].isdigit())
        clean_end = not (needle[-1].isdigit() and end < len(haystack) and haystack[end].isdigit())
        if clean_start and clean_end:
            return True
        start = haystack.find(needle, start + 1)
    return False


def load_text_pages(path: Path) -> list[str]:
    """The pages of a .txt file in corpus/, split exactly as the indexer splits them."""
    if path.suffix.lower() != ".txt":
        raise GoldSetError(f"{path}: only .txt documents can be checked here; pass a page_loader")
    return split_text_pages(path.read_text(encoding="utf-8"))


def _collapse(s: str) -> str:
    return " ".join(s.split())


_LINE_END_HYPHEN = re.compile(r"[^\W\d_]-[^\S\n]*\n\s*[^\W\d_]")


def _spans_line_end_hyphen(page: str, quote: str) -> bool:
    pattern = r"\s+".join(re.escape(token) for token in quote.split())
    match = re.search(pattern, page)
    return bool(match and _LINE_END_HYPHEN.search(match.group(0)))


def validate_gold(
    cases: Sequence[EvalCase],
    corpus_dir: Path | str | None = None,
    *,
    page_loader: PageLoader | None = None,
) -> list[str]:
    """Problems in the gold set, one line each; an empty list means the set holds.

    Checks unique ids; follow-ups point to an earlier case; answerable cases carry 1-3 evidence quotes of
    5-25 words and key facts, unanswerable ones carry neither; every quote stands on its page (whitespace
    aside, and not across a line-end hyphen); every key fact appears in a quote or the reference answer.
    """
    corpus = DEFAULT_CORPUS_DIR if corpus_dir is None else Path(corpus_dir)
    loader = page_loader or load_text_pages
    pages_cache: dict[str, Sequence[str] | None] = {}
    problems: list[str] = []

    def pages_of(document: str) -> Sequence[str] | None:
        if document not in pages_cache:
            path = corpus / document
            if not path.is_file():
                problems.append(f"{document}: not in {corpus}")
                pages_cache[document] = None
            else:
                try:
                    pages_cache[document] = loader(path)
                except (GoldSetError, OSError, UnicodeDecodeError) as ex:
                    problems.append(f"{document}: cannot read pages: {ex}")
                    pages_cache[document] = None
        return pages_cache[document]

    seen: set[str] = set()
    for case in cases:
        problems.extend(_check_case(case, seen, corpus, pages_of))
        seen.add(case.id)
    return problems


def _check_case(
    case: EvalCase,
    earlier: set[str],
    corpus: Path,
    pages_of: Callable[[str], Sequence[str] | None],
) -> Iterable[str]:
    cid = case.id
    if cid in earlier:
        yield f"{cid}: duplicate id"
    if case.language not in LANGUAGES:
        yield f"{cid}: unknown language {case.language!r}"
    if case.category not in CATEGORIES:
        yield f"{cid}: unknown category {case.category!r}"
    if case.user_group not in USER_GROUPS:
        yield f"{cid}: unknown user group {case.user_group!r}"
    if case.follow_up_of is not None and case.follow_up_of not in earlier:
        yield f"{cid}: follow_up_of {case.follow_up_of!r} is not an earlier case"
    if (case.category == "follow_up") != (case.follow_up_of is not None):
        yield f"{cid}: a follow_up case needs follow_up_of, and only a follow_up case has one"
    if case.category == "unanswerable" and case.answerable:
        yield f"{cid}: category unanswerable but answerable is true"
    if not case.answerable and case.category not in ("unanswerable", "follow_up"):
        yield f"{cid}: not answerable but category is {case.category}"
    if case.filters is not None and case.filters.source is not None:
        if not (corpus / case.filters.source).is_file():
            yield f"{cid}: filter source {case.filters.source!r} is not in {corpus}"

    if not case.answerable:
        if case.evidence:
            yield f"{cid}: unanswerable but has evidence"
        if case.must_contain:
            yield f"{cid}: unanswerable but has must_contain"
        return

    if not case.evidence:
        yield f"{cid}: answerable but has no evidence"
    elif len(case.evidence) > MAX_EVIDENCE:
        yield f"{cid}: {len(case.evidence)} evidence quotes, at most {MAX_EVIDENCE}"
    if not case.must_contain:
        yield f"{cid}: answerable but has no must_contain"

    for ev in case.evidence:
        yield from _check_evidence(cid, ev, pages_of)

    sources = [ev.quote for ev in case.evidence] + [case.reference_answer]
    for fact in case.must_contain:
        if not any(contains_fact(s, fact) for s in sources):
            yield f"{cid}: fact {fact!r} is neither in a quote nor in the reference answer"


def _check_evidence(cid: str, ev: Evidence, pages_of: Callable[[str], Sequence[str] | None]) -> Iterable[str]:
    words = len(ev.quote.split())
    if not MIN_QUOTE_WORDS <= words <= MAX_QUOTE_WORDS:
        yield f"{cid}: quote of {words} words, want {MIN_QUOTE_WORDS}-{MAX_QUOTE_WORDS}: {ev.quote!r}"
    pages = pages_of(ev.document)
    if pages is None:
        yield f"{cid}: cannot check quote in {ev.document}"
        return
    if not 1 <= ev.page <= len(pages):
        yield f"{cid}: {ev.document} has {len(pages)} pages, not page {ev.page}"
        return
    page = pages[ev.page - 1]
    if _collapse(ev.quote) not in _collapse(page):
        found = [n for n, p in enumerate(pages, 1) if _collapse(ev.quote) in _collapse(p)]
        where = f" (found on page {', '.join(map(str, found))})" if found else ""
        yield f"{cid}: quote not on {ev.document} page {ev.page}{where}: {ev.quote!r}"
    elif _spans_line_end_hyphen(page, ev.quote):
        yield f"{cid}: quote spans a line-end hyphen, which the indexer rejoins: {ev.quote!r}"
