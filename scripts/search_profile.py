"""Where a search's time goes: `Assistant.search` over the speed benchmark's questions, stage by stage.

Opens an existing index as `arkiv serve` does, makes one untimed pass over the questions (so that the pages
they touch are read), then times --rounds passes of search alone and prints the p50 and mean, with the median
and the per-search total of each stage: embedding the question, the sparse query, Qdrant's fused search, the
chunk and unit scores, reading unit payloads, and the reranker.

Usage: python scripts/search_profile.py --data /tmp/arkiv-data [--rounds 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _timed(obj: Any, name: str, times: list[float]) -> None:
    """Replace obj.name by a wrapper that appends each call's milliseconds to `times`."""
    inner: Callable[..., Any] = getattr(obj, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            times.append(1000 * (time.perf_counter() - started))

    setattr(obj, name, wrapper)


def main() -> None:
    from assistant.service import build_assistant
    from assistant.settings import AssistantSettings
    from evaluation.speed import QUERIES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the index folder (ARKIV_DATA_DIR)")
    parser.add_argument("--rounds", type=int, default=4, help="timed passes over the questions")
    args = parser.parse_args()

    assistant = build_assistant(AssistantSettings(data_dir=args.data, qdrant_url=None, llm_base_url=None))
    store = assistant.store
    retriever = assistant.retriever
    stages: dict[str, list[float]] = {}
    for label, obj, name in (
        ("embed the question", retriever.embedder, "embed_query"),
        ("sparse query", retriever.sparse, "encode_query"),
        ("fused search", retriever.store, "search"),
        ("chunk and unit scores", retriever.store, "score"),
        ("unit payloads", retriever.store, "units"),
        ("reranker", retriever, "rank"),
    ):
        _timed(obj, name, stages.setdefault(label, []))
    for q in QUERIES:
        assistant.search(q)
    for times in stages.values():
        times.clear()
    total: list[float] = []
    for _ in range(args.rounds):
        for q in QUERIES:
            started = time.perf_counter()
            assistant.search(q)
            total.append(1000 * (time.perf_counter() - started))
    chunks = store.count()
    store.close()
    lines = [
        f"{len(total)} searches over {args.data} ({chunks} chunks)",
        f"search p50 {statistics.median(total):.1f} ms, mean {statistics.mean(total):.1f} ms",
        "| stage | calls per search | median ms | ms per search |",
        "|---|---:|---:|---:|",
    ]
    for label, times in stages.items():
        if times:
            per = len(times) / len(total)
            lines.append(f"| {label} | {per:.1f} | {statistics.median(times):.2f} | {sum(times) / len(total):.2f} |")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
