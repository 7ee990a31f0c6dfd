"""The Assistant: the composition root. A question goes in; an answer whose every claim can be checked comes out,
or an honest "the archive does not say" with what was searched."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from assistant.access import ANONYMOUS, Principal
from assistant.answerers import Answerer
from assistant.compose import Composer, Composition
from assistant.errors import BadRequest, LLMUnavailable
from assistant.qtype import detect_language, question_type
from assistant.query import ParsedQuestion, carried_filters, is_follow_up, parse_question, rewrite_follow_up
from assistant.retrieve import QueryVectors, Reranker, Retriever
from assistant.serialize import hit_json
from assistant.settings import AssistantSettings
from assistant.types import Answer, Filters, Hit, Language, search_filter
from assistant.verify import verify
from indexer.catalog import Catalog
from indexer.embed import Embedder, make_embedder
from indexer.sparse import SparseEncoder
from indexer.store import Manifest, Store, make_store

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
LIST_TYPES = ("list",)
Event = tuple[str, Any]
"""A streamed event: ("meta", {...}), ("text", str), ("reset", str): discard the text so far, ("notice", str),
("answer", Answer); after meta,
("sources", [hit_json, ...]): the passages found, as soon as retrieval is done."""


@dataclass(frozen=True)
class Plan:
    """What will be searched for a question, decided before searching."""

    question: str
    query: str
    language: Language
    parsed: ParsedQuestion
    filters: Filters
    soft_doc_type: bool
    qtype: str


class Assistant:
    def __init__(
        self,
        *,
        settings: AssistantSettings,
        store: Store,
        embedder: Embedder,
        sparse: SparseEncoder,
        catalog: Catalog,
        answerer: Answerer | None = None,
        rewriter: Any | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.catalog = catalog
        reranker = Reranker(settings.reranker_model) if settings.reranker_model else None
        self.retriever = Retriever(store, embedder, sparse, prefetch=settings.prefetch_k, reranker=reranker)
        self.extractive = Composer()  # the offline answerer: learned unit selection (assistant/compose.py)
        self.answerer: Answerer = answerer or self.extractive
        self.rewriter = rewriter

    # -- what the index holds ---------------------------------------------------------------------------------

    def health(self) -> dict[str, int]:
        return {"documents": sum(1 for _ in self.catalog.entries()), "chunks": self.store.count()}

    @cached_property
    def known_bodies(self) -> tuple[str, ...]:
        return tuple(sorted({e.meta.body for e in self.catalog.entries() if e.meta.body}))

    # -- search -----------------------------------------------------------------------------------------------

    def search(
        self, query: str, k: int = 10, filters: Filters | None = None, principal: Principal = ANONYMOUS
    ) -> list[Hit]:
        query = validate_question(query)
        parsed = parse_question(query, self.known_bodies)
        applied = parsed.filters.merged(filters or Filters())
        applied = applied.visible_to(principal.visible_groups)  # access: part of every store query
        return self.retriever.retrieve(query, applied, k, parsed)

    # -- ask --------------------------------------------------------------------------------------------------

    def plan(
        self,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        filters: Filters | None = None,
        principal: Principal = ANONYMOUS,
    ) -> Plan:
        question = validate_question(question)
        language = detect_language(question)
        follow = bool(history) and is_follow_up(question)
        query = question
        if follow:
            query = self._rewrite(question, history, language)
        parsed = parse_question(query, self.known_bodies)
        carried = carried_filters(history, self.known_bodies) if follow else Filters()
        explicit = filters or Filters()
        applied = carried.merged(parsed.filters).merged(explicit)
        applied = applied.visible_to(principal.visible_groups)  # access: part of every store query
        soft = applied.doc_type is not None and explicit.doc_type is None
        return Plan(question, query, language, parsed, applied, soft, str(question_type(question)))

    def _rewrite(self, question: str, history: Sequence[tuple[str, str]], language: Language) -> str:
        if self.rewriter is not None:
            try:
                return str(self.rewriter.rewrite(question, history, language)) or question
            except LLMUnavailable as ex:
                logger.warning("rewrite by LLM failed, using rules: %s", ex)
        return rewrite_follow_up(question, history)

    def retrieve(self, plan: Plan) -> tuple[list[Hit], Filters]:
        """Passages for the answerer, and the filters they were found with."""
        k = self.settings.top_k
        gather = plan.qtype.endswith("list")
        vectors = self.retriever.vectors(plan.query)
        hits = self.retriever.retrieve(plan.query, plan.filters, k, plan.parsed, gather_list=gather, vectors=vectors)
        filters = plan.filters
        if plan.soft_doc_type and not self.answers(self.extractive.compose(plan.query, hits, plan.language)):
            relaxed = replace(plan.filters, doc_type=None)
            again = self.retriever.retrieve(plan.query, relaxed, k, plan.parsed, gather_list=gather, vectors=vectors)
            before = self.extractive.compose(plan.query, hits, plan.language).probability
            if self.extractive.compose(plan.query, again, plan.language).probability > before:
                hits, filters = again, relaxed
        return self._with_context(hits, vectors, filters), filters

    def _with_context(self, hits: list[Hit], vectors: QueryVectors, filters: Filters) -> list[Hit]:
        """Add the neighbouring chunks of the top passages (same § or section) after the ranked hits."""
        out = list(hits)
        seen = {h.chunk.chunk_id for h in hits}
        for hit in hits[:2]:
            window = 3 if hit.chunk.kind == "table_row" else 1
            for chunk in self.retriever.neighbours(hit, window):
                if chunk.chunk_id not in seen and len(out) < len(hits) + 4:
                    out.append(Hit(chunk, hit.score * 0.9, len(out) + 1, "neighbour"))
                    seen.add(chunk.chunk_id)
        return self.retriever.with_units(vectors, out, search_filter(filters))

    def ask(
        self,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        filters: Filters | None = None,
        principal: Principal = ANONYMOUS,
    ) -> Answer:
        answer: Answer | None = None
        for kind, data in self.ask_stream(question, history, filters, principal):
            if kind == "answer":
                answer = data
        assert answer is not None
        return answer

    def ask_stream(
        self,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        filters: Filters | None = None,
        principal: Principal = ANONYMOUS,
    ) -> Iterator[Event]:
        """The answer as events: meta (query and filters), text pieces, notices, then the verified Answer.
        Only documents the principal may see are searched (anonymous: public ones)."""
        started = time.perf_counter()
        plan = self.plan(question, history, filters, principal)
        # -- case course (assistant/cases.py): "Vad har hänt i ärendet RJL 2022/258?" answers from the timeline --
        from assistant.cases import case_course_answer

        course = case_course_answer(self, plan, history)
        if course is not None:
            yield "meta", {"query": plan.query, "filters": plan.filters.to_dict(), "language": plan.language}
            yield "text", course.text
            yield "answer", course
            return
        # -- end case course --
        hits, applied = self.retrieve(plan)
        yield "meta", {"query": plan.query, "filters": applied.to_dict(), "language": plan.language}
        yield "sources", [hit_json(h) for h in hits]  # the web page fills its source panel before the answer
        composition = self.extractive.compose(plan.query, hits, plan.language)
        if not self.answers(composition):  # the calibrated probability that the best unit answers, vs the threshold
            answer = self._not_found(plan, applied, hits)
            yield "text", answer.text
            yield "answer", answer
            return
        notice = None
        answerer = self.answerer
        pieces: list[str] = []
        try:
            stream = (
                [composition.text]
                if answerer is self.extractive
                else answerer.stream(plan.query, hits, plan.language, units=composition.units_by_hit())
            )
            for piece in stream:
                pieces.append(piece)
                if answerer is not self.extractive:
                    yield "text", piece
        except LLMUnavailable as ex:
            logger.warning("LLM unavailable, answering extractively: %s", ex)
            notice = (
                "Språkmodellen svarade inte; svaret är sammanställt direkt ur arkivets text."
                if plan.language == "sv"
                else "The language model did not respond; this answer is compiled directly from the archive."
            )
            if pieces and answerer is not self.extractive:
                yield "reset", notice  # the pieces already sent are to be discarded
            yield "notice", notice
            answerer = self.extractive
            pieces = [composition.text]
        draft = "".join(pieces).strip()
        verified = verify(draft, hits, embed=self.embedder.embed_query, embed_passages=self.embedder.embed_documents)
        if not draft or not verified.citations:
            answer = self._not_found(plan, applied, hits)
            yield "text", answer.text
            yield "answer", answer
            return
        if answerer is self.extractive:
            for piece in _sentences_for_stream(verified.text):
                yield "text", piece
        answer = Answer(
            question=plan.question,
            query=plan.query,
            text=verified.text,
            status="answered",
            citations=verified.citations,
            hits=tuple(hits),
            filters=applied,
            language=plan.language,
            notice=notice,
            answerer=answerer.name,
        )
        logger.info(
            "ask: hits=%d cited=%d ms=%d", len(hits), len(verified.citations), (time.perf_counter() - started) * 1000
        )
        yield "answer", answer

    def answers(self, composition: Composition) -> bool:
        """Whether the archive answers: the selector's learned threshold, unless ARKIV_NOT_FOUND_THRESHOLD sets one."""
        if self.settings.not_found_threshold is None:
            return composition.answers
        return bool(composition.chosen) and composition.probability >= self.settings.not_found_threshold

    def _not_found(self, plan: Plan, applied: Filters, hits: Sequence[Hit]) -> Answer:
        nearby = []
        for h in hits[:3]:
            c = h.chunk
            where = f"§ {c.paragraph}" if c.paragraph else (c.section or "")
            pages = f"s. {c.page_start}" if plan.language == "sv" else f"p. {c.page_start}"
            nearby.append(", ".join(x for x in (c.meta.title, where, pages) if x))
        nearby = list(dict.fromkeys(nearby))
        described = _describe_filters(applied, plan.language)
        # the text does not repeat the question: it may name what the asker may not see (access), and the
        # asker has it already; what was searched is `Answer.query`, shown beside the answer
        if plan.language == "sv":
            text = "Arkivet innehåller inget som besvarar frågan"
            text += f" (sökt med filter: {described})." if described else " (sökt utan filter)."
            if nearby:
                text += " Närmast i arkivet finns: " + "; ".join(nearby) + "."
        else:
            text = "The archive holds nothing that answers the question"
            text += f" (searched with filters: {described})." if described else " (searched without filters)."
            if nearby:
                text += " The nearest material in the archive: " + "; ".join(nearby) + "."
        return Answer(
            question=plan.question,
            query=plan.query,
            text=text,
            status="not_found",
            hits=tuple(hits),
            filters=applied,
            language=plan.language,
            nearby=tuple(nearby),
        )


def validate_question(question: str) -> str:
    """The question, stripped; BadRequest when it is empty or too long."""
    if not isinstance(question, str) or not question.strip():
        raise BadRequest("Frågan är tom. / The question is empty.", "empty_question")
    if len(question) > MAX_QUESTION_CHARS:
        raise BadRequest(
            f"Frågan är för lång (högst {MAX_QUESTION_CHARS} tecken). / The question is too long "
            f"(at most {MAX_QUESTION_CHARS} characters).",
            "question_too_long",
        )
    return question.strip()


_LABELS = {
    "sv": {
        "year_from": "från år",
        "year_to": "till år",
        "date_from": "från",
        "date_to": "till",
        "body": "organ",
        "doc_type": "dokumenttyp",
        "case_number": "diarienummer",
        "paragraph": "§",
        "document": "dokument",
        "access_groups": "behörighet",
    },
    "en": {
        "year_from": "from year",
        "year_to": "to year",
        "date_from": "from",
        "date_to": "to",
        "body": "body",
        "doc_type": "document type",
        "case_number": "case number",
        "paragraph": "§",
        "document": "document",
        "access_groups": "access",
    },
}


def _describe_filters(filters: Filters, language: Language) -> str:
    data = filters.to_dict()
    if data.get("year_from") is not None and data.get("year_from") == data.get("year_to"):
        year = data.pop("year_from")
        data.pop("year_to")
        data = {"year": year, **data}
    labels = {**_LABELS[language], "year": "år" if language == "sv" else "year"}
    return ", ".join(f"{labels.get(k, k)} {', '.join(v) if isinstance(v, list) else v}" for k, v in data.items())


def _sentences_for_stream(text: str) -> Iterator[str]:
    parts = re.split(r"(?<=[.!?\]])\s+", text)
    for i, part in enumerate(parts):
        yield part + (" " if i < len(parts) - 1 else "")


def build_assistant(
    settings: AssistantSettings, *, store: Store | None = None, embedder: Embedder | None = None
) -> Assistant:
    """The Assistant the settings describe, over an existing index."""
    embedder = embedder or make_embedder(settings)
    if store is None:
        store = make_store(settings)
        store.open(Manifest(embedder.model_id, embedder.dimension))
        if settings.warm_index:
            store.warm()
    answerer: Answerer | None = None
    rewriter = None
    if settings.llm_base_url:
        from assistant.generate import LLMAnswerer, LLMRewriter, make_llm

        llm = make_llm(settings)
        if llm is not None:
            answerer = LLMAnswerer(llm)
            rewriter = LLMRewriter(llm)
    return Assistant(
        settings=settings,
        store=store,
        embedder=embedder,
        sparse=SparseEncoder(cache_dir=settings.cache_dir),
        catalog=Catalog(settings.data_dir / "catalog"),
        answerer=answerer,
        rewriter=rewriter,
    )


def build_assistant_for_llm(
    settings: AssistantSettings,
    llm_url: str,
    llm_model: str | None = None,
    *,
    store: Store | None = None,
    embedder: Embedder | None = None,
) -> Assistant:
    """The Assistant answering through the OpenAI-compatible endpoint at `llm_url` (for measuring a model on the
    gold set before switching it on: `arkiv eval` can build one per URL)."""
    update = {"llm_base_url": llm_url, "llm_model": llm_model or settings.llm_model}
    return build_assistant(settings.model_copy(update=update), store=store, embedder=embedder)
