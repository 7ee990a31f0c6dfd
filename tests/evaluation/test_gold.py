"""The gold set holds against corpus/, and its checks catch what they promise to catch."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest
import yaml

from evaluation.dataset import (
    CATEGORIES,
    GOLD_DIR,
    GOLD_SETS,
    MIN_TEST_SHARE,
    EvalCase,
    Evidence,
    GoldSetError,
    Turn,
    assign_splits,
    contains_fact,
    conversation,
    load_gold,
    load_gold_set,
    load_negatives,
    normalise_fact,
    pdf_text_layer,
    read_gold_file,
    split_problems,
    validate_gold,
    write_splits,
)
from indexer.schema import DOC_TYPES, DocumentMeta
from indexer.sidecar import read_sidecar

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "corpus-seeds"
SEED_DOCUMENTS = (
    "000_d56c434a0c8f5121.txt",
    "001_368975611d0ad655.txt",
    "002_6eef74d69066060b.txt",
    "003_635075fc132b9639.txt",
    "004_c9f51c72f4352da0.txt",
)

MINIMUM_PER_CATEGORY = {
    "fact": 15,
    "decision": 15,
    "process": 8,
    "list": 6,
    "cross_document": 5,
    "ocr": 6,
    "table": 6,
    "unanswerable": 12,
    "follow_up": 5,
}


@pytest.fixture(scope="module")
def gold() -> list[EvalCase]:
    return load_gold()


def test_gold_set_holds_against_the_bundled_corpus(gold: list[EvalCase]) -> None:
    assert validate_gold(gold, CORPUS) == []


def test_gold_set_has_the_planned_size_and_spread(gold: list[EvalCase]) -> None:
    assert len(gold) >= 85
    categories = Counter(c.category for c in gold)
    assert set(categories) <= set(CATEGORIES)
    for category, minimum in MINIMUM_PER_CATEGORY.items():
        assert categories[category] >= minimum, category
    languages = Counter(c.language for c in gold)
    assert languages["en"] >= 12
    assert languages["sv"] > languages["en"]
    assert set(Counter(c.user_group for c in gold)) == {"politician", "staff", "new_employee"}
    documents = {e.document for c in gold for e in c.evidence}
    assert set(SEED_DOCUMENTS) <= documents
    on_004 = [c for c in gold if "004_c9f51c72f4352da0.txt" in c.relevant_documents]
    assert len(on_004) >= 25


def test_follow_ups_come_in_pairs_after_their_first_question(gold: list[EvalCase]) -> None:
    position = {c.id: i for i, c in enumerate(gold)}
    follow_ups = [c for c in gold if c.follow_up_of is not None]
    assert len(follow_ups) >= 5
    for case in follow_ups:
        assert case.category == "follow_up"
        assert position[case.follow_up_of] < position[case.id]


def test_cross_document_cases_cite_two_documents(gold: list[EvalCase]) -> None:
    for case in gold:
        if case.category == "cross_document":
            assert len(case.relevant_documents) >= 2, case.id


def test_reference_answers_state_every_key_fact(gold: list[EvalCase]) -> None:
    missing = [(c.id, fact) for c in gold for fact in c.must_contain if not contains_fact(c.reference_answer, fact)]
    assert missing == []


def test_unanswerable_cases_carry_no_evidence_and_no_facts(gold: list[EvalCase]) -> None:
    for case in gold:
        if case.category == "unanswerable":
            assert not case.answerable and not case.evidence and not case.must_contain


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1 934 tkr", "1934 tkr"),
        ("1\u00a0934 tkr", "1934 tkr"),
        ("1\u2009934", "1934"),
        ("1\u202f934", "1934"),
        ("2 000 000 kr", "2000000 kr"),
        ("§ 23", "§23"),
        ("§§ 17-32", "§§17-32"),
        ("RJL 2022/258", "rjl 2022/258"),
        ("  Smålands\n  Turism  AB ", "smålands turism ab"),
        ("90 %", "90%"),
        ("24,3 miljoner", "24.3 miljoner"),
        ("60,000 visitors", "60 000 visitors"),
        ("Fem nyhetsbrev", "5 nyhetsbrev"),
        ("12–13 maj", "12-13 maj"),
    ],
)
def test_normalise_fact_treats_these_as_equal(a: str, b: str) -> None:
    assert normalise_fact(a) == normalise_fact(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("2022-02-10", "2022-02-23"),
        ("§ 23", "§ 28"),
        ("2021 2020", "20212020"),
    ],
)
def test_normalise_fact_keeps_these_apart(a: str, b: str) -> None:
    assert normalise_fact(a) != normalise_fact(b)


def test_contains_fact_reads_amounts_and_sections_as_people_write_them() -> None:
    answer = "Presidiet föreslog (§29, RJL 2022/258) att bevilja Smålands turism AB 2\u00a0000\u00a0000 kr."
    assert contains_fact(answer, "§ 29")
    assert contains_fact(answer, "2 000 000")
    assert contains_fact(answer, "Smålands Turism")
    assert not contains_fact(answer, "§ 2")
    assert not contains_fact("Det kostade 1600 kr.", "600")
    assert not contains_fact("registreringsgrad 80,25 %", "80,2 %")
    assert not contains_fact("anything", "   ")


def _case(**changes: object) -> EvalCase:
    base = EvalCase(
        id="q1",
        question="Vad beviljades?",
        language="sv",
        category="decision",
        user_group="politician",
        answerable=True,
        evidence=(Evidence("doc.txt", 2, "Presidiet föreslår nämnden bevilja Smålands Turism AB 2 000 000 kr"),),
        must_contain=("2 000 000",),
        reference_answer="Smålands Turism AB får 2 000 000 kr.",
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    (tmp_path / "doc.txt").write_text(
        " Kallelse till sammanträde\n"
        "Tid: 2022-02-23\n"
        " § 29 Stöttning besöksnäring\n"
        "Presidiet föreslår nämnden bevilja Smålands\n"
        "Turism AB 2 000 000 kr som ska beta-\n"
        "las ut under våren 2022 av regionen.\n",
        encoding="utf-8",
    )
    return tmp_path


def test_a_good_case_passes(tiny_corpus: Path) -> None:
    assert validate_gold([_case()], tiny_corpus) == []


def test_a_quote_that_is_not_in_the_document_is_reported(tiny_corpus: Path) -> None:
    wrong = _case(
        evidence=(Evidence("doc.txt", 2, "Presidiet föreslår nämnden bevilja Smålands Turism AB 3 000 000 kr"),)
    )
    problems = validate_gold([wrong], tiny_corpus)
    assert len(problems) == 1 and "quote not on doc.txt page 2" in problems[0]


def test_a_quote_on_another_page_is_reported_with_where_it_is(tiny_corpus: Path) -> None:
    problems = validate_gold([_case(evidence=(Evidence("doc.txt", 1, _case().evidence[0].quote),))], tiny_corpus)
    assert len(problems) == 1 and "found on page 2" in problems[0]


def test_a_quote_across_a_line_end_hyphen_is_reported(tiny_corpus: Path) -> None:
    across = _case(evidence=(Evidence("doc.txt", 2, "2 000 000 kr som ska beta- las ut under våren"),))
    problems = validate_gold([across], tiny_corpus)
    assert len(problems) == 1 and "line-end hyphen" in problems[0]


def test_missing_documents_pages_and_facts_are_reported(tiny_corpus: Path) -> None:
    problems = validate_gold(
        [
            _case(id="a", evidence=(Evidence("nope.txt", 1, "one two three four five"),)),
            _case(id="b", evidence=(Evidence("doc.txt", 9, _case().evidence[0].quote),)),
            _case(id="c", must_contain=("4 000 000",)),
            _case(id="d", evidence=(Evidence("doc.txt", 2, "Smålands Turism"),)),
        ],
        tiny_corpus,
    )
    assert any(p.startswith("nope.txt: not in") for p in problems)
    assert any(p.startswith("b: doc.txt has 2 pages, not page 9") for p in problems)
    assert any(p.startswith("c: fact '4 000 000'") for p in problems)
    assert any(p.startswith("d: quote of 2 words") for p in problems)


def test_structural_problems_are_reported(tiny_corpus: Path) -> None:
    cases = [
        _case(id="a"),
        _case(id="a"),
        _case(id="b", category="follow_up", follow_up_of="later"),
        _case(id="later"),
        _case(id="c", category="follow_up"),
        _case(id="d", answerable=False, category="unanswerable"),
        _case(id="e", evidence=(), must_contain=()),
        _case(id="f", evidence=_case().evidence * 4),
    ]
    problems = validate_gold(cases, tiny_corpus)
    expected = [
        "a: duplicate id",
        "b: follow_up_of 'later' is not an earlier case",
        "c: a follow_up case needs follow_up_of",
        "d: unanswerable but has evidence",
        "d: unanswerable but has must_contain",
        "e: answerable but has no evidence",
        "e: answerable but has no must_contain",
        "f: 4 evidence quotes, at most 3",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), start


def test_load_gold_reads_a_folder_and_rejects_unknown_keys(tmp_path: Path) -> None:
    case = {
        "id": "q1",
        "question": "Vem?",
        "language": "sv",
        "category": "unanswerable",
        "user_group": "staff",
        "answerable": False,
        "reference_answer": "Det framgår inte.",
    }
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"version": 1, "cases": [case]}), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"version": 1, "cases": [{**case, "id": "q2"}]}), encoding="utf-8")
    assert [c.id for c in load_gold(tmp_path)] == ["q1", "q2"]

    (tmp_path / "c.yaml").write_text(
        yaml.safe_dump({"version": 1, "cases": [{**case, "id": "q3", "answer": "typo"}]}), encoding="utf-8"
    )
    with pytest.raises(GoldSetError, match="c.yaml"):
        load_gold(tmp_path)


def test_every_bundled_document_has_a_sidecar_that_makes_document_meta() -> None:
    for name in SEED_DOCUMENTS:
        fields = read_sidecar(CORPUS / name)
        meta = DocumentMeta(**fields)
        assert meta.doc_type in DOC_TYPES
        assert meta.title and meta.publisher and meta.body and meta.year, name
        assert meta.language == "sv" and meta.access_groups == ("public",)
    assert read_sidecar(CORPUS / "004_c9f51c72f4352da0.txt")["date"] == "2022-02-23"


@pytest.mark.skipif(not SEEDS.exists(), reason="../shared/corpus-seeds is not on this machine")
def test_corpus_texts_are_the_shared_seeds_unchanged() -> None:
    for seed in sorted(SEEDS.glob("*.txt")):
        assert (CORPUS / seed.name).read_bytes() == seed.read_bytes(), seed.name


# -- splits, conversations, twins --------------------------------------------------------------------


def test_every_case_carries_the_split_its_seeded_hash_gives() -> None:
    read = read_gold_file(GOLD_DIR / "gold.yaml")
    assert read is not None and read.split_seed is not None
    expected = assign_splits(read.cases, read.split_seed)
    assert {c.id: c.split for c in read.cases} == expected


def test_the_test_split_is_large_enough_and_holds_every_kind_of_case(gold: list[EvalCase]) -> None:
    assert split_problems(gold) == []
    test = [c for c in gold if c.split == "test"]
    assert len(test) / len(gold) >= MIN_TEST_SHARE
    assert {c.category for c in test} == {c.category for c in gold}


def test_conversations_carry_their_earlier_turns_in_order(gold: list[EvalCase]) -> None:
    by_id = {c.id: c for c in gold}
    for case in gold:
        if case.follow_up_of is None:
            continue
        chain = conversation(case, gold)
        assert chain[-1] is case and chain[0].follow_up_of is None
        assert [t.case_id for t in case.history] == [c.id for c in chain[:-1]]
        assert [t.question for t in case.history] == [c.question for c in chain[:-1]]
        assert case.split == by_id[case.follow_up_of].split
        assert case.group == chain[0].group


def _write(path: Path, cases: list[dict[str, object]], **top: object) -> Path:
    path.write_text(yaml.safe_dump({"version": 1, **top, "cases": cases}, allow_unicode=True), encoding="utf-8")
    return path


def _raw(id: str, **changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": id,
        "question": "Vad beviljades?",
        "language": "sv",
        "category": "unanswerable",
        "user_group": "staff",
        "answerable": False,
        "reference_answer": "Det framgår inte.",
    }
    return {**base, **changes}


def test_a_three_turn_conversation_resolves_from_follow_up_of_and_from_inline_history(tmp_path: Path) -> None:
    file = _write(
        tmp_path / "g.yaml",
        [
            _raw("a", question="Vad fick Smålands Turism?", reference_answer="2 000 000 kr."),
            _raw("b", question="Och året före?", category="follow_up", follow_up_of="a"),
            _raw("c", question="Vem beslutade det?", category="follow_up", follow_up_of="b"),
            _raw(
                "d",
                question="Och vem beslutade?",
                category="follow_up",
                history=[{"question": "Vad fick de?", "answer": "Mycket."}, {"question": "När?"}],
            ),
        ],
    )
    cases = {c.id: c for c in load_gold(file)}
    assert cases["c"].history == (
        Turn("Vad fick Smålands Turism?", "2 000 000 kr.", "a"),
        Turn("Och året före?", "Det framgår inte.", "b"),
    )
    assert cases["c"].turns == 3 and cases["a"].turns == 1
    assert cases["d"].history == (Turn("Vad fick de?", "Mycket."), Turn("När?"))
    assert validate_gold(list(cases.values()), tmp_path) == []


def test_a_conversation_is_never_split_between_train_and_test(tmp_path: Path) -> None:
    cases = [_raw(f"q{n}") for n in range(40)]
    cases += [_raw(f"f{n}", category="follow_up", follow_up_of=f"q{n}") for n in range(40)]
    file = _write(tmp_path / "g.yaml", cases)
    loaded = load_gold(file)
    splits = assign_splits(loaded, seed=3)
    assert {splits[f"q{n}"] == splits[f"f{n}"] for n in range(40)} == {True}
    assert 0 < sum(s == "test" for s in splits.values()) < len(splits)


def test_write_splits_puts_the_hashed_split_into_the_file(tmp_path: Path) -> None:
    file = _write(tmp_path / "g.yaml", [_raw(f"q{n}", category="unanswerable") for n in range(30)])
    splits = write_splits(file, seed=5)
    read = read_gold_file(file)
    assert read is not None and read.split_seed == 5
    assert {c.id: c.split for c in read.cases} == splits
    assert write_splits(file) == splits


def test_a_file_with_a_split_seed_needs_a_split_on_every_case(tmp_path: Path) -> None:
    file = _write(tmp_path / "g.yaml", [_raw("a", split="test"), _raw("b")], split_seed=1)
    with pytest.raises(GoldSetError, match="without split: b"):
        load_gold(file)


def test_follow_ups_and_twins_that_break_their_pairing_are_reported(tiny_corpus: Path) -> None:
    cases = [
        _case(id="sv1"),
        _case(id="en1", language="en", english_twin_of="sv1", question="What was granted?"),
        _case(id="en2", language="en", english_twin_of="nope"),
        _case(id="en3", language="en", english_twin_of="sv1", split="test"),
        _case(id="en4", english_twin_of="sv1"),
        _case(id="f1", category="follow_up", follow_up_of="sv1", split="test"),
        _case(id="u1", answerable=False, category="unanswerable", evidence=(), must_contain=(), tags=("scanned",)),
        _case(id="x1", tags=("tempting",)),
    ]
    problems = validate_gold(cases, tiny_corpus)
    expected = [
        "en2: english_twin_of 'nope' is not a case",
        "en3: in the test split but its twin 'sv1' is not",
        "en4: an English twin must be in English",
        "f1: in the test split but follows 'sv1' in another",
        "u1: tags scanned and broken_text_layer are for answerable cases",
        "x1: tags tempting and opinion are for unanswerable cases",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert not any(p.startswith("en1") for p in problems)


def test_groups_default_to_the_evidence_document() -> None:
    assert _case().group == "doc.txt"
    assert _case(group_id="elsewhere").group == "elsewhere"
    unanswerable = _case(id="u", answerable=False, category="unanswerable", evidence=(), must_contain=())
    assert unanswerable.group == "case:u"


def test_load_gold_keeps_the_sets_apart(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", [_raw("q1")])
    _write(tmp_path / "b.yaml", [_raw("q2")], set="real_pdfs")
    assert [c.id for c in load_gold(tmp_path)] == ["q1"]
    assert [c.id for c in load_gold(tmp_path, gold_set="real_pdfs")] == ["q2"]
    assert [c.gold_set for c in load_gold(tmp_path, gold_set="all")] == ["corpus", "real_pdfs"]
    assert [c.id for c in load_gold(tmp_path / "b.yaml")] == ["q2"]


# -- the corpus additions: twins, conversations, tempting unanswerables ---------------------------------


def test_english_twins_pair_up_with_the_swedish_case_they_translate(gold: list[EvalCase]) -> None:
    by_id = {c.id: c for c in gold}
    twins = [c for c in gold if c.english_twin_of is not None]
    assert len(twins) >= 10
    assert len({c.english_twin_of for c in twins}) == len(twins)
    for twin in twins:
        original = by_id[twin.english_twin_of or ""]
        assert (twin.language, original.language) == ("en", "sv"), twin.id
        assert twin.category == original.category and twin.answerable == original.answerable, twin.id
        assert twin.split == original.split, twin.id
        assert set(twin.relevant_pages) == set(original.relevant_pages), twin.id


def test_conversations_of_two_and_three_turns(gold: list[EvalCase]) -> None:
    turns = Counter(c.turns for c in gold if c.category == "follow_up")
    assert turns[2] + turns[3] >= 18
    assert turns[3] >= 4
    for case in gold:
        if case.turns > 1:
            assert all(t.question and t.answer for t in case.history), case.id


def test_tempting_unanswerables_name_what_the_archive_lacks(gold: list[EvalCase]) -> None:
    tempting = [c for c in gold if "tempting" in c.tags]
    assert len(tempting) >= 20
    assert all(c.category == "unanswerable" and not c.answerable for c in tempting)
    assert sum("opinion" in c.tags for c in tempting) >= 2


# -- negatives at scale ------------------------------------------------------------------------------


def test_swefaq_negatives_load_checked_without_dropped_or_repeated_questions() -> None:
    negatives = load_negatives()
    assert len(negatives) >= 150
    assert all(n.checked for n in negatives)
    assert {n.split for n in negatives} == {"train", "test"}
    ids = {n.id for n in negatives}
    assert "swefaq_sl2_test_pooled:q17" not in ids and "swefaq_sl2_dev_pooled:q108" not in ids
    assert "swefaq_sl2_test_pooled:q0" in ids
    questions = [" ".join(n.question.split()).casefold() for n in negatives]
    assert len(questions) == len(set(questions))


def test_load_negatives_rejects_unknown_query_ids(tmp_path: Path) -> None:
    (tmp_path / "n.yaml").write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "negatives": [
                    {"benchmark": "swefaq_sl2_test_pooled", "split": "test", "dropped": [{"id": "q999", "reason": "x"}]}
                ],
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(GoldSetError, match="q999"):
        load_negatives(tmp_path / "n.yaml")


# -- the real PDFs (../shared/real-pdfs, read where they lie) ------------------------------------------

REAL_PDFS = GOLD_SETS["real_pdfs"].root
needs_real_pdfs = pytest.mark.skipif(not REAL_PDFS.is_dir(), reason="../shared/real-pdfs is not on this machine")
OCR_TAGS = {"scanned", "broken_text_layer"}


@pytest.fixture(scope="module")
def real() -> list[EvalCase]:
    return load_gold_set("real_pdfs")


def test_real_pdf_cases_have_the_planned_size_and_spread(real: list[EvalCase]) -> None:
    assert len(real) >= 60
    assert all(c.gold_set == "real_pdfs" for c in real)
    categories = Counter(c.category for c in real)
    assert categories["table"] >= 10 and categories["process"] >= 6 and categories["list"] >= 5
    assert categories["unanswerable"] >= 8
    assert categories["decision"] >= 8
    assert sum(c.language == "en" for c in real) >= 6
    assert sum("scanned" in c.tags for c in real) >= 10
    nykarleby_broken = [
        c for c in real if "broken_text_layer" in c.tags and c.relevant_documents[0].startswith("nykarleby_")
    ]
    assert len(nykarleby_broken) >= 4
    assert len({d for c in real for d in c.relevant_documents}) == 12


def test_real_pdf_split_is_the_seeded_hash_and_covers_every_kind(real: list[EvalCase]) -> None:
    read = read_gold_file(GOLD_SETS["real_pdfs"].file)
    assert read is not None and read.split_seed is not None
    assert {c.id: c.split for c in real} == assign_splits(real, read.split_seed)
    assert split_problems(real) == []


@needs_real_pdfs
def test_real_pdf_quotes_stand_in_the_text_layer(real: list[EvalCase]) -> None:
    """Quotes on pages Arkiv reads from the text layer, checked against pypdf's text (fast: only those pages)."""
    layer_cases = [c for c in real if not OCR_TAGS & set(c.tags)]
    assert validate_gold(layer_cases, page_loader=pdf_text_layer) == []


@needs_real_pdfs
def test_real_pdf_ocr_cases_are_well_formed_without_reading_ocr(real: list[EvalCase]) -> None:
    ocr_cases = [c for c in real if OCR_TAGS & set(c.tags)]
    unchecked: list[str] = []

    def unread(path: Path) -> list[str | None]:
        return [None] * len(pdf_text_layer(path))

    assert validate_gold(ocr_cases, page_loader=unread, unchecked=unchecked) == []
    assert len(unchecked) == sum(len(c.evidence) for c in ocr_cases)


@needs_real_pdfs
@pytest.mark.slow
def test_real_pdf_quotes_stand_on_the_pages_as_arkiv_reads_them(real: list[EvalCase]) -> None:
    """Every quote against the text Arkiv extracts (text layer or tesseract OCR, cached under data/gold-ocr-cache;
    the first run OCRs about 250 pages, several minutes)."""
    from indexer.ocr import TesseractOcr

    if not TesseractOcr.available("swe"):
        pytest.skip("tesseract with Swedish is not installed")
    assert validate_gold(real, run_ocr=True) == []
