"""The JSON shapes clients rely on (HTTP API, `arkiv ask --json`, the web page, Slack). One place, one shape."""

from __future__ import annotations

from typing import Any

from assistant.types import Answer, Citation, Hit
from indexer.casenumbers import display_case_numbers
from indexer.schema import Chunk


def document_json(chunk: Chunk) -> dict[str, Any]:
    m = chunk.meta
    return {
        "id": chunk.doc_id,
        "title": m.title,
        "source": chunk.source,
        "type": m.doc_type,
        "date": m.date or (str(m.year) if m.year else None),
        "body": m.body,
        "publisher": m.publisher,
    }


def _location(chunk: Chunk) -> dict[str, Any]:
    return {
        "page_start": chunk.page_start,
        "page_end": chunk.page_end,
        "section": chunk.section,
        "paragraph": chunk.paragraph,
        "case_numbers": display_case_numbers(chunk.case_numbers),
        "part": chunk.part,
        "date": chunk.date,
    }


def hit_json(hit: Hit) -> dict[str, Any]:
    return {
        "rank": hit.rank,
        "score": round(float(hit.score), 4),
        "text": hit.chunk.text,
        "document": document_json(hit.chunk),
        **_location(hit.chunk),
        "chunk_id": hit.chunk.chunk_id,
        "reason": hit.reason,
    }


def citation_json(citation: Citation) -> dict[str, Any]:
    chunk = citation.hit.chunk
    return {
        "n": citation.n,
        "text": chunk.text,
        "quotes": list(citation.quotes),
        "document": document_json(chunk),
        **_location(chunk),
        "chunk_id": chunk.chunk_id,
    }


def answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "status": answer.status,
        "answer": answer.text,
        "citations": [citation_json(c) for c in answer.citations],
        "query": answer.query,
        "filters": answer.filters.to_dict(),
        "question": answer.question,
        "language": answer.language,
        "notice": answer.notice,
        "nearby": list(answer.nearby),
        "answerer": answer.answerer,
    }
