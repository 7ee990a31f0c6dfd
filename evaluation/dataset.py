"""The gold set: questions about the archive, with the evidence and key facts a correct answer carries.

The file format (evaluation/gold/*.yaml) is checked with pydantic at load time; the cases then travel
as frozen dataclasses. `validate_gold` checks the set against its documents: every quote must stand,
verbatim up to whitespace, on the stated page as the indexer reads the document into pages.

Gold sets: a file says which documents its cases are about with `set:` (default `corpus`, the bundled
corpus/; `real_pdfs`, the PDFs in ../shared/real-pdfs, read where they lie). PDF pages are 1-based PDF
pages with the text Arkiv extracts: the text layer (pypdf) or, for scanned and garbled pages, tesseract's
OCR, cached under ARKIV_GOLD_OCR_CACHE (default data/gold-ocr-cache) for validation.

Splits: every case carries `split: train | test`. The test split is chosen by a seeded hash of the case's
section (see `split_key`), the seed written in the file as `split_seed`; `assign_splits` recomputes it and
a test keeps the files in step. Test cases are never used to train, tune a threshold or choose a feature.
`EvalCase.group` (the document, unless the file says otherwise) is for cross-validation grouped by document.

Conversations: a case that depends on earlier turns names the previous case (`follow_up_of`) or carries
the earlier turns itself (`history`); `EvalCase.history` is the full ordered list of earlier turns.

Negatives at scale: evaluation/gold/swefaq_negatives.yaml names SweFAQ questions (other authorities'
matters) that the archive does not answer; `load_negatives` reads them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
Split = Literal["train", "test"]
Tag = Literal["scanned", "broken_text_layer", "tempting", "opinion"]
"""scanned: the evidence is on pages without a text layer (read by OCR); broken_text_layer: on pages whose
text layer is garbled and replaced by OCR; tempting: an unanswerable question on a topic the archive holds
(wrong year, body or figure); opinion: asks for a person's opinion, which no record states."""

LANGUAGES: tuple[str, ...] = get_args(Language)
CATEGORIES: tuple[str, ...] = get_args(Category)
USER_GROUPS: tuple[str, ...] = get_args(UserGroup)
SPLITS: tuple[str, ...] = get_args(Split)
TAGS: tuple[str, ...] = get_args(Tag)

REPO_ROOT = Path(__file__).resolve().parents[1]
GOLD_DIR = REPO_ROOT / "evaluation" / "gold"
DEFAULT_CORPUS_DIR = REPO_ROOT / "corpus"
REAL_PDFS_DIR = Path(os.environ.get("ARKIV_REAL_PDFS_DIR") or REPO_ROOT.parent / "shared" / "real-pdfs")
OCR_CACHE_DIR = Path(os.environ.get("ARKIV_GOLD_OCR_CACHE") or REPO_ROOT / "data" / "gold-ocr-cache")
BENCHMARKS_DIR = REPO_ROOT / "evaluation" / "benchmarks"
NEGATIVES_FILE = GOLD_DIR / "swefaq_negatives.yaml"

MIN_QUOTE_WORDS = 5
MAX_QUOTE_WORDS = 25
MAX_EVIDENCE = 3
TEST_SHARE = 0.35
"""The share of sections hashed into the test split; with whole conversations and twins kept together, the
share of cases lands near it (at least MIN_TEST_SHARE, checked)."""
MIN_TEST_SHARE = 0.30

PageLoader = Callable[[Path], Sequence[str | None]]
"""The pages of a document, 1-based as a list; None for a page whose text cannot be had here (an OCR page
not in the cache), whose quotes are then reported as unchecked."""


class GoldSetError(EvaluationError):
    """The gold-set file cannot be read or does not follow the format."""


@dataclass(frozen=True)
class GoldSet:
    """A named set of gold cases over one folder of documents."""

    name: str
    file: Path
    root: Path


GOLD_SETS: dict[str, GoldSet] = {
    "corpus": GoldSet("corpus", GOLD_DIR / "gold.yaml", DEFAULT_CORPUS_DIR),
    "real_pdfs": GoldSet("real_pdfs", GOLD_DIR / "real_pdfs.yaml", REAL_PDFS_DIR),
}


@dataclass(frozen=True)
class Evidence:
    """A verbatim passage that supports the answer: a file in the set's folder, a 1-based page, a quote."""

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
class Turn:
    """An earlier turn of a conversation: the user's question and, where known, the reference answer."""

    question: str
    answer: str | None = None
    case_id: str | None = None
    """The gold case this turn is, when it is one."""


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
    split: str = "train"
    """train or test; test cases are only ever scored, never learned or tuned from."""
    group_id: str | None = None
    """The cross-validation group when the file names one (`group:`); see `group`."""
    history: tuple[Turn, ...] = ()
    """The earlier turns of the conversation, oldest first (empty for a first question)."""
    english_twin_of: str | None = None
    """For an English question: the id of the Swedish case it translates (the pair should score alike)."""
    tags: tuple[str, ...] = ()
    gold_set: str = "corpus"
    """Which documents the case is about (a key of GOLD_SETS)."""
    section: str | None = None
    """The section the split is drawn by; derived from the first evidence page when not given."""

    @property
    def group(self) -> str:
        """The unit of grouped cross-validation: the file's `group:`, else the first evidence document (for
        a follow-up, its conversation's), else the filter source, else the case itself."""
        return self.group_id or _derived_group(self)

    @property
    def relevant_documents(self) -> tuple[str, ...]:
        """The evidence documents, each once, in order of first mention."""
        return tuple(dict.fromkeys(e.document for e in self.evidence))

    @property
    def relevant_pages(self) -> tuple[tuple[str, int], ...]:
        """The (document, page) pairs of the evidence, each once."""
        return tuple(dict.fromkeys((e.document, e.page) for e in self.evidence))

    @property
    def turns(self) -> int:
        """How many turns the conversation has up to and including this question."""
        return len(self.history) + 1

    @property
    def is_test(self) -> bool:
        return self.split == "test"


def _derived_group(case: EvalCase) -> str:
    if case.evidence:
        return case.evidence[0].document
    if case.filters is not None and case.filters.source:
        return case.filters.source
    return f"case:{case.id}"


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


class _TurnModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1)
    answer: str | None = None


class _CaseModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    split: Split | None = None
    question: str = Field(min_length=1)
    language: Language
    category: Category
    user_group: UserGroup
    answerable: bool
    evidence: list[_EvidenceModel] = Field(default_factory=list)
    must_contain: list[str] = Field(default_factory=list)
    reference_answer: str = Field(min_length=1)
    follow_up_of: str | None = None
    history: list[_TurnModel] = Field(default_factory=list)
    english_twin_of: str | None = None
    tags: list[Tag] = Field(default_factory=list)
    group: str | None = Field(None, min_length=1)
    section: str | None = Field(None, min_length=1)
    filters: _FiltersModel | None = None


class _GoldFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    set: str = Field("corpus", pattern=r"^[a-z0-9_]+$")
    split_seed: int | None = None
    """The seed of the split hash (assign_splits); when given, every case must carry its split."""
    cases: list[_CaseModel]


def _to_case(model: _CaseModel, gold_set: str) -> EvalCase:
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
        split=model.split or "train",
        group_id=model.group,
        history=tuple(Turn(t.question, t.answer) for t in model.history),
        english_twin_of=model.english_twin_of,
        tags=tuple(model.tags),
        gold_set=gold_set,
        section=model.section,
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


@dataclass(frozen=True)
class GoldFile:
    """One gold file as read: its set, its split seed and its cases (conversations resolved)."""

    path: Path
    gold_set: str
    split_seed: int | None
    cases: tuple[EvalCase, ...]


def read_gold_file(file: Path | str, *, require_splits: bool = True) -> GoldFile | None:
    """Read one gold file; None for a YAML file in the folder that holds no cases (the negatives list).

    A file with a split_seed must give every case its split (unless require_splits is False, for writing them).
    """
    file = Path(file)
    try:
        raw: Any = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as ex:
        raise GoldSetError(f"{file}: cannot read: {ex}") from ex
    if isinstance(raw, dict) and "negatives" in raw and "cases" not in raw:
        return None
    try:
        parsed = _GoldFileModel.model_validate(raw)
    except ValidationError as ex:
        raise GoldSetError(f"{file}: not a gold-set file: {ex}") from ex
    if parsed.split_seed is not None and require_splits:
        unsplit = [c.id for c in parsed.cases if c.split is None]
        if unsplit:
            raise GoldSetError(f"{file}: cases without split: {', '.join(unsplit[:5])}")
    cases = resolve_conversations([_to_case(c, parsed.set) for c in parsed.cases])
    return GoldFile(file, parsed.set, parsed.split_seed, tuple(cases))


def load_gold(path: Path | str | None = None, *, gold_set: str | None = None) -> list[EvalCase]:
    """Read the gold set: one YAML file, or the gold files of a folder in name order.

    Without a path, reads evaluation/gold/. From a folder only the cases of `gold_set` are kept (default
    "corpus", the bundled corpus/; "all" keeps every set); a single file is read whole unless `gold_set`
    is given. Conversations are resolved: each case's `history` holds its earlier turns in order.
    Raises GoldSetError when a file does not follow the format.
    """
    root = GOLD_DIR if path is None else Path(path)
    wanted = gold_set
    if wanted is None and root.is_dir():
        wanted = "corpus"
    cases: list[EvalCase] = []
    for file in _gold_files(root):
        read = read_gold_file(file)
        if read is None:
            continue
        cases.extend(c for c in read.cases if wanted in (None, "all") or c.gold_set == wanted)
    logger.info("loaded gold set %s (%s): %d cases", root, wanted or "all", len(cases))
    return cases


def load_gold_set(name: str) -> list[EvalCase]:
    """The cases of one named gold set (a key of GOLD_SETS), from its file."""
    if name not in GOLD_SETS:
        raise GoldSetError(f"unknown gold set {name!r}; known: {', '.join(GOLD_SETS)}")
    return load_gold(GOLD_SETS[name].file, gold_set=name)


def gold_set_root(name: str, corpus_dir: Path | str | None = None) -> Path:
    """The folder a gold set's documents live in (corpus_dir, when given, for the corpus set)."""
    if name == "corpus" and corpus_dir is not None:
        return Path(corpus_dir)
    if name in GOLD_SETS:
        return GOLD_SETS[name].root
    if corpus_dir is not None:
        return Path(corpus_dir)
    raise GoldSetError(f"unknown gold set {name!r}")


# -- conversations -----------------------------------------------------------------------------------


def resolve_conversations(cases: Sequence[EvalCase]) -> list[EvalCase]:
    """Fill each follow-up's history from the case it follows (and that one's history), in file order.

    A follow-up also takes the group, section and split key of its conversation's first question, so a
    conversation is never split between train and test. A case whose follow_up_of names no earlier case is
    left as it is (validate_gold reports it).
    """
    done: dict[str, EvalCase] = {}
    out: list[EvalCase] = []
    for case in cases:
        parent = done.get(case.follow_up_of) if case.follow_up_of else None
        if parent is not None and not case.history:
            history = (*parent.history, Turn(parent.question, parent.reference_answer, parent.id))
            case = dataclasses.replace(
                case,
                history=history,
                group_id=case.group_id or parent.group,
                section=case.section or split_key(parent),
            )
        out.append(case)
        done.setdefault(case.id, case)
    return out


def conversation(case: EvalCase, cases: Sequence[EvalCase]) -> list[EvalCase]:
    """The cases of a conversation up to and including `case`, oldest first (earlier turns that are cases)."""
    by_id = {c.id: c for c in cases}
    chain = [case]
    seen = {case.id}
    while chain[0].follow_up_of and chain[0].follow_up_of in by_id and chain[0].follow_up_of not in seen:
        chain.insert(0, by_id[chain[0].follow_up_of])
        seen.add(chain[0].id)
    return chain


# -- splits ------------------------------------------------------------------------------------------


def split_key(case: EvalCase) -> str:
    """The section a case is split by: given, or the document and page of its first evidence, or its
    filter source, or its own id. Follow-ups carry their conversation's key (resolve_conversations);
    English twins are keyed by the Swedish case they translate."""
    if case.section:
        return case.section
    if case.english_twin_of:
        return f"twin:{case.english_twin_of}"
    if case.evidence:
        first = case.evidence[0]
        return f"{first.document}#{first.page}"
    if case.filters is not None and case.filters.source:
        return case.filters.source
    return f"case:{case.id}"


def hashed_split(key: str, seed: int, test_share: float = TEST_SHARE) -> str:
    """train or test, by a seeded SHA-256 of the key (stable: adding cases never moves another)."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return "test" if int.from_bytes(digest[:8], "big") / 2**64 < test_share else "train"


def assign_splits(cases: Sequence[EvalCase], seed: int, test_share: float = TEST_SHARE) -> dict[str, str]:
    """The split of every case by id: hashed by section; twins follow the case they translate."""
    by_id = {c.id: c for c in cases}

    def key(case: EvalCase) -> str:
        seen: set[str] = set()
        while case.english_twin_of and case.english_twin_of in by_id and case.id not in seen:
            seen.add(case.id)
            case = by_id[case.english_twin_of]
        return case.section or split_key(dataclasses.replace(case, english_twin_of=None))

    return {c.id: hashed_split(key(c), seed, test_share) for c in cases}


def split_problems(cases: Sequence[EvalCase], min_share: float = MIN_TEST_SHARE) -> list[str]:
    """Why a split would not do: the test share below min_share, or a category or language missing from the
    test split, or from the train split where it has more than one case."""
    problems: list[str] = []
    if not cases:
        return ["no cases"]
    test = [c for c in cases if c.split == "test"]
    share = len(test) / len(cases)
    if share < min_share:
        problems.append(f"test share {share:.2f} < {min_share:.2f}")
    for attr in ("category", "language"):
        counts = Counter(getattr(c, attr) for c in cases)
        for value in sorted(counts):
            for split in SPLITS if counts[value] > 1 else ("test",):
                if not any(getattr(c, attr) == value and c.split == split for c in cases):
                    problems.append(f"no {attr} {value!r} in the {split} split")
    return problems


def choose_split_seed(
    cases: Sequence[EvalCase], *, seeds: Iterable[int] = range(1000), test_share: float = TEST_SHARE
) -> int:
    """The first seed whose hashed split passes split_problems (how a file's split_seed was chosen)."""
    for seed in seeds:
        splits = assign_splits(cases, seed, test_share)
        if not split_problems([dataclasses.replace(c, split=splits[c.id]) for c in cases]):
            return seed
    raise GoldSetError("no seed gives a split with every category in test and train")


# -- negatives ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Negative:
    """A question the archive does not answer (from a public benchmark about other authorities' matters)."""

    id: str
    """The benchmark set and its query id, e.g. 'swefaq_sl2_test_pooled:q12'."""
    question: str
    benchmark: str
    checked: bool
    """Whether a person read the question and confirmed the archive does not answer it."""
    split: str = "train"
    """train (to calibrate abstention on) or test (only to measure it)."""


class _DroppedModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    reason: str = Field(min_length=1)


class _NegativeSetModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    benchmark: str = Field(pattern=r"^[a-z0-9_]+$")
    split: Split
    checked: list[str] | Literal["all"] = Field(default_factory=list)
    dropped: list[_DroppedModel] = Field(default_factory=list)


class _NegativesFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    negatives: list[_NegativeSetModel]


def load_negatives(
    path: Path | str | None = None, benchmarks_dir: Path | str | None = None, *, checked_only: bool = False
) -> list[Negative]:
    """The unanswerable benchmark questions: every query of each listed set but the dropped ones (and a
    question already listed, word for word), each with its split.

    Questions are read from evaluation/benchmarks/<set>/queries.jsonl (or benchmarks_dir).
    """
    file = NEGATIVES_FILE if path is None else Path(path)
    base = BENCHMARKS_DIR if benchmarks_dir is None else Path(benchmarks_dir)
    try:
        parsed = _NegativesFileModel.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValidationError) as ex:
        raise GoldSetError(f"{file}: not a negatives file: {ex}") from ex
    out: list[Negative] = []
    seen: set[str] = set()
    for entry in parsed.negatives:
        queries = _read_queries(base / entry.benchmark / "queries.jsonl")
        dropped = {d.id for d in entry.dropped}
        unknown = (dropped | set(entry.checked if entry.checked != "all" else ())) - set(queries)
        if unknown:
            raise GoldSetError(f"{file}: {entry.benchmark} has no queries {sorted(unknown)[:5]}")
        for qid, text in queries.items():
            if qid in dropped or _collapse(text).casefold() in seen:
                continue
            seen.add(_collapse(text).casefold())
            checked = entry.checked == "all" or qid in entry.checked
            if checked_only and not checked:
                continue
            out.append(Negative(f"{entry.benchmark}:{qid}", text, entry.benchmark, checked, entry.split))
    return out


def _read_queries(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as ex:
        raise GoldSetError(f"{path}: cannot read queries: {ex}") from ex
    return {str(r["_id"]): str(r["text"]) for r in rows}


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


# -- PDF pages as Arkiv reads them -------------------------------------------------------------------


class CachedOcr:
    """OCR with a page cache: each page's text is kept in `cache_dir`, keyed by the PDF's bytes.

    On a miss it runs `ocr` and stores the text; without `ocr` (cache only) the page fails, is remembered
    in `misses`, and the loader keeps the text layer or skips the page. Safe to call from several threads.
    """

    def __init__(self, cache_dir: Path | str, ocr: Any | None = None, lang: str = "swe") -> None:
        self.cache_dir = Path(cache_dir)
        self.ocr = ocr
        self.lang = lang
        self.misses: set[tuple[str, int]] = set()
        self._digests: dict[str, str] = {}

    def _file(self, pdf_path: Path, page_number: int) -> Path:
        key = str(pdf_path)
        if key not in self._digests:
            self._digests[key] = hashlib.sha256(pdf_path.read_bytes()).hexdigest()[:16]
        return self.cache_dir / f"{pdf_path.stem}.{self._digests[key]}.p{page_number}.{self.lang}.txt"

    def ocr_pdf_page(self, pdf_path: Path, page_number: int) -> str:
        from indexer.ocr import OcrFailed

        cached = self._file(Path(pdf_path), page_number)
        if cached.is_file():
            return cached.read_text(encoding="utf-8")
        if self.ocr is None:
            self.misses.add((str(pdf_path), page_number))
            raise OcrFailed("sidan finns inte i OCR-cachen")
        text = str(self.ocr.ocr_pdf_page(pdf_path, page_number))
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(cached)
        return text


@dataclass(frozen=True)
class PageText:
    """One page as Arkiv reads it: its text (None when it needs OCR that is not cached) and how it was read."""

    number: int
    text: str | None
    method: str
    """text, ocr or skipped (as indexer.schema.Page), or uncached."""


_PDF_PAGES: dict[tuple[str, bool, str], tuple[PageText, ...]] = {}


def read_pdf_pages(
    path: Path | str, *, run_ocr: bool = False, cache_dir: Path | str | None = None
) -> tuple[PageText, ...]:
    """The pages of a PDF as the indexer reads them (indexer.load.load_pages), OCR from the cache.

    With run_ocr, pages missing from the cache are OCR'd (tesseract, ~5 s a page) and cached; without,
    they come back with text None and method "uncached". Results are kept for the process.
    """
    from indexer.load import load_pages
    from indexer.ocr import TesseractOcr
    from indexer.settings import IndexSettings

    path = Path(path)
    cache = Path(cache_dir) if cache_dir is not None else OCR_CACHE_DIR
    memo = (str(path.resolve()), run_ocr, str(cache))
    if memo in _PDF_PAGES:
        return _PDF_PAGES[memo]
    settings = IndexSettings()
    engine = TesseractOcr(lang=settings.ocr_lang) if run_ocr and TesseractOcr.available(settings.ocr_lang) else None
    if run_ocr and engine is None:
        raise GoldSetError(f"OCR of {path.name} asked for but tesseract ({settings.ocr_lang}) is not available")
    ocr = CachedOcr(cache, engine, lang=settings.ocr_lang)
    pages = load_pages(path, ocr=ocr, min_quality=settings.min_text_quality)
    out = tuple(
        PageText(p.number, None, "uncached")
        if (str(path), p.number) in ocr.misses
        else PageText(p.number, p.text, p.method)
        for p in pages
    )
    _PDF_PAGES[memo] = out
    return out


class _TextLayer(Sequence[str]):
    """A PDF's pages as pypdf's text layer, each extracted (and cleaned as the indexer cleans it) when asked."""

    def __init__(self, path: Path) -> None:
        from pypdf import PdfReader

        self._reader = PdfReader(path, strict=False)
        self._pages: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._reader.pages)

    def __getitem__(self, index: Any) -> Any:
        from indexer.load import clean_text

        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        number = range(len(self))[index]
        if number not in self._pages:
            page = self._reader.pages[number]
            raw = page.extract_text() or ""
            lines = [line for line in raw.splitlines() if line.strip()]
            if len(lines) >= 20 and len(raw.split()) / len(lines) < 1.5:
                # As indexer.load reads a page whose words stand one per line: in layout mode, if that keeps the text.
                layout = page.extract_text(extraction_mode="layout") or ""
                if len("".join(layout.split())) >= 0.95 * len("".join(raw.split())):
                    raw = layout
            self._pages[number] = clean_text(raw)
        return self._pages[number]


def pdf_text_layer(path: Path) -> Sequence[str]:
    """A page loader for validate_gold: a PDF's text layer only (pypdf, cleaned as indexer.load cleans it),
    page by page on demand. Fast, but blind to OCR: use it for quotes on pages Arkiv reads from the text layer."""
    if path.suffix.lower() != ".pdf":
        return load_text_pages(path)
    return _TextLayer(path)


def _collapse(s: str) -> str:
    return " ".join(s.split())


_LINE_END_HYPHEN = re.compile(r"[^\W\d_]-[^\S\n]*\n\s*[^\W\d_]")


def _spans_line_end_hyphen(page: str, quote: str) -> bool:
    pattern = r"\s+".join(re.escape(token) for token in quote.split())
    match = re.search(pattern, page)
    return bool(match and _LINE_END_HYPHEN.search(match.group(0)))


@dataclass
class _Pages:
    texts: Sequence[str | None]
    methods: Sequence[str] | None = None


@dataclass
class _Context:
    roots: Callable[[EvalCase], Path]
    pages_of: Callable[[Path], _Pages | None]
    unchecked: list[str] | None
    by_id: dict[str, EvalCase] = field(default_factory=dict)


def validate_gold(
    cases: Sequence[EvalCase],
    corpus_dir: Path | str | None = None,
    *,
    page_loader: PageLoader | None = None,
    roots: Mapping[str, Path | str] | None = None,
    run_ocr: bool = False,
    ocr_cache: Path | str | None = None,
    unchecked: list[str] | None = None,
) -> list[str]:
    """Problems in the gold set, one line each; an empty list means the set holds.

    Checks unique ids; follow-ups point to an earlier case in the same split; English twins point to a
    Swedish case with the same documents and split; answerable cases carry 1-3 evidence quotes of 5-25
    words and key facts, unanswerable ones carry neither; every quote stands on its page (whitespace
    aside, and not across a line-end hyphen); every key fact appears in a quote or the reference answer;
    cases tagged scanned have all their evidence, and cases tagged broken_text_layer some of it, on pages Arkiv
    reads by OCR.

    Documents are looked up in their gold set's folder (`roots` by set name; corpus_dir for the corpus
    set). PDF pages are read as the indexer reads them, OCR'd pages from the cache (`run_ocr` fills it).
    A quote on an OCR page missing from the cache is a problem, unless an `unchecked` list is passed:
    then it is added there instead.
    """
    root_map = {k: Path(v) for k, v in (roots or {}).items()}

    def root_of(case: EvalCase) -> Path:
        if case.gold_set in root_map:
            return root_map[case.gold_set]
        return gold_set_root(case.gold_set, corpus_dir if corpus_dir is not None else DEFAULT_CORPUS_DIR)

    cache: dict[Path, _Pages | None] = {}
    problems: list[str] = []

    def pages_of(path: Path) -> _Pages | None:
        if path not in cache:
            if not path.is_file():
                problems.append(f"{path.name}: not in {path.parent}")
                cache[path] = None
            else:
                try:
                    if page_loader is not None:
                        cache[path] = _Pages(page_loader(path))
                    elif path.suffix.lower() == ".pdf":
                        pdf = read_pdf_pages(path, run_ocr=run_ocr, cache_dir=ocr_cache)
                        cache[path] = _Pages([p.text for p in pdf], [p.method for p in pdf])
                    else:
                        cache[path] = _Pages(load_text_pages(path))
                except (GoldSetError, EvaluationError, OSError, UnicodeDecodeError) as ex:
                    problems.append(f"{path.name}: cannot read pages: {ex}")
                    cache[path] = None
                except Exception as ex:  # the indexer's loader raises its own errors for unreadable files
                    problems.append(f"{path.name}: cannot read pages: {type(ex).__name__}: {ex}")
                    cache[path] = None
        return cache[path]

    ctx = _Context(root_of, pages_of, unchecked, {c.id: c for c in cases})
    seen: set[str] = set()
    for case in cases:
        problems.extend(_check_case(case, seen, ctx))
        seen.add(case.id)
    return problems


def _check_case(case: EvalCase, earlier: set[str], ctx: _Context) -> Iterable[str]:
    cid = case.id
    root = ctx.roots(case)
    if cid in earlier:
        yield f"{cid}: duplicate id"
    if case.language not in LANGUAGES:
        yield f"{cid}: unknown language {case.language!r}"
    if case.category not in CATEGORIES:
        yield f"{cid}: unknown category {case.category!r}"
    if case.user_group not in USER_GROUPS:
        yield f"{cid}: unknown user group {case.user_group!r}"
    if case.split not in SPLITS:
        yield f"{cid}: unknown split {case.split!r}"
    for tag in case.tags:
        if tag not in TAGS:
            yield f"{cid}: unknown tag {tag!r}"
    if case.follow_up_of is not None:
        if case.follow_up_of not in earlier:
            yield f"{cid}: follow_up_of {case.follow_up_of!r} is not an earlier case"
        elif ctx.by_id[case.follow_up_of].split != case.split:
            yield f"{cid}: in the {case.split} split but follows {case.follow_up_of!r} in another"
    if (case.category == "follow_up") != (case.follow_up_of is not None or bool(case.history)):
        yield f"{cid}: a follow_up case needs follow_up_of or history, and only a follow_up case has one"
    if case.english_twin_of is not None:
        yield from _check_twin(case, ctx.by_id.get(case.english_twin_of))
    if case.category == "unanswerable" and case.answerable:
        yield f"{cid}: category unanswerable but answerable is true"
    if not case.answerable and case.category not in ("unanswerable", "follow_up"):
        yield f"{cid}: not answerable but category is {case.category}"
    if case.answerable and {"tempting", "opinion"} & set(case.tags):
        yield f"{cid}: tags tempting and opinion are for unanswerable cases"
    if not case.answerable and {"scanned", "broken_text_layer"} & set(case.tags):
        yield f"{cid}: tags scanned and broken_text_layer are for answerable cases"
    if case.filters is not None and case.filters.source is not None:
        if not (root / case.filters.source).is_file():
            yield f"{cid}: filter source {case.filters.source!r} is not in {root}"

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
        yield from _check_evidence(case, ev, root, ctx)
    yield from _check_ocr_tags(case, root, ctx)

    sources = [ev.quote for ev in case.evidence] + [case.reference_answer]
    for fact in case.must_contain:
        if not any(contains_fact(s, fact) for s in sources):
            yield f"{cid}: fact {fact!r} is neither in a quote nor in the reference answer"


def _check_ocr_tags(case: EvalCase, root: Path, ctx: _Context) -> Iterable[str]:
    """A scanned case's evidence is all on pages Arkiv reads by OCR; a broken_text_layer case's at least partly."""
    methods: list[str] = []
    for ev in case.evidence:
        pages = ctx.pages_of(root / ev.document)
        if pages is None or pages.methods is None or not 1 <= ev.page <= len(pages.methods):
            return
        if pages.texts[ev.page - 1] is None:
            return
        methods.append(pages.methods[ev.page - 1])
    if "scanned" in case.tags and any(m != "ocr" for m in methods):
        yield f"{case.id}: tagged scanned but some evidence is on pages read from the text layer"
    if "broken_text_layer" in case.tags and methods and "ocr" not in methods:
        yield f"{case.id}: tagged broken_text_layer but no evidence is on a page read by OCR"


def _check_twin(case: EvalCase, twin: EvalCase | None) -> Iterable[str]:
    cid = case.id
    if twin is None:
        yield f"{cid}: english_twin_of {case.english_twin_of!r} is not a case"
        return
    if case.language != "en" or twin.language != "sv":
        yield f"{cid}: an English twin must be in English and translate a Swedish case"
    if case.answerable != twin.answerable:
        yield f"{cid}: answerable differs from its twin {twin.id!r}"
    if set(case.relevant_documents) != set(twin.relevant_documents):
        yield f"{cid}: evidence documents differ from its twin {twin.id!r}"
    if case.split != twin.split:
        yield f"{cid}: in the {case.split} split but its twin {twin.id!r} is not"


def _check_evidence(case: EvalCase, ev: Evidence, root: Path, ctx: _Context) -> Iterable[str]:
    cid = case.id
    words = len(ev.quote.split())
    if not MIN_QUOTE_WORDS <= words <= MAX_QUOTE_WORDS:
        yield f"{cid}: quote of {words} words, want {MIN_QUOTE_WORDS}-{MAX_QUOTE_WORDS}: {ev.quote!r}"
    pages = ctx.pages_of(root / ev.document)
    if pages is None:
        yield f"{cid}: cannot check quote in {ev.document}"
        return
    texts = pages.texts
    if not 1 <= ev.page <= len(texts):
        yield f"{cid}: {ev.document} has {len(texts)} pages, not page {ev.page}"
        return
    page = texts[ev.page - 1]
    if page is None:
        line = f"{cid}: {ev.document} page {ev.page} needs OCR that is not cached: {ev.quote!r}"
        if ctx.unchecked is None:
            yield line
        else:
            ctx.unchecked.append(line)
        return
    if _collapse(ev.quote) not in _collapse(page):
        found = [n for n, p in enumerate(texts, 1) if p is not None and _collapse(ev.quote) in _collapse(p)]
        where = f" (found on page {', '.join(map(str, found))})" if found else ""
        yield f"{cid}: quote not on {ev.document} page {ev.page}{where}: {ev.quote!r}"
    elif _spans_line_end_hyphen(page, ev.quote):
        yield f"{cid}: quote spans a line-end hyphen, which the indexer rejoins: {ev.quote!r}"


# -- writing the split into a file -------------------------------------------------------------------

_CASE_ID_LINE = re.compile(r"^(?P<indent>\s*)(?P<dash>- )?id: (?P<id>[a-z0-9][a-z0-9_-]*)\s*$")
_SPLIT_LINE = re.compile(r"^\s*split: (train|test)\s*$")
_SEED_LINE = re.compile(r"^split_seed: \d+\s*$")


def write_splits(file: Path | str, *, seed: int | None = None) -> dict[str, str]:
    """Write `split:` into every case of a gold file (and `split_seed:` at its top), keeping the rest.

    The seed is the file's own split_seed, or `seed`, or the first that passes split_problems. Returns
    the splits by case id.
    """
    file = Path(file)
    read = read_gold_file(file, require_splits=False)
    if read is None:
        raise GoldSetError(f"{file}: holds no cases")
    chosen = seed if seed is not None else read.split_seed
    if chosen is None:
        chosen = choose_split_seed(read.cases)
    splits = assign_splits(read.cases, chosen)
    out: list[str] = []
    seed_written = False
    for line in file.read_text(encoding="utf-8").splitlines():
        if _SPLIT_LINE.match(line):
            continue
        if _SEED_LINE.match(line):
            continue
        out.append(line)
        if line.startswith("version:") and not seed_written:
            out.append(f"split_seed: {chosen}")
            seed_written = True
        match = _CASE_ID_LINE.match(line)
        if match:
            indent = match["indent"] + ("  " if match["dash"] else "")
            out.append(f"{indent}split: {splits[match['id']]}")
    file.write_text("\n".join(out) + "\n", encoding="utf-8")
    return splits


def main(argv: Sequence[str] | None = None) -> int:
    """python -m evaluation.dataset splits FILE [--seed N]: write the hashed split into a gold file."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m evaluation.dataset")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("splits", help="write split: into every case of a gold file")
    cmd.add_argument("file", type=Path)
    cmd.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        splits = write_splits(args.file, seed=args.seed)
    except GoldSetError as ex:
        sys.stderr.write(f"{ex}\n")
        return 1
    test = sum(1 for s in splits.values() if s == "test")
    sys.stdout.write(f"{args.file}: {test} of {len(splits)} cases in test ({test / max(1, len(splits)):.0%})\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
