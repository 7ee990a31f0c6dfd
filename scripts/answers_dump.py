"""Every corpus gold question searched and asked, written as JSON: to show that a change leaves results alone.

For each question of evaluation/gold/gold.yaml (first turns): the top 10 hits (chunk id, score, reason, and each
hit's units in their ranked order with their scores) and the answer's text. Run it over the same index with the
code before and after a change (the code before from a git worktree, with PYTHONPATH pointing at it) and
compare the two files: `cmp before.json after.json`.

Usage: python scripts/answers_dump.py --data /tmp/arkiv-data --out after.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

GOLD = Path(__file__).resolve().parents[1] / "evaluation" / "gold" / "gold.yaml"


def main() -> None:
    from assistant.service import build_assistant
    from assistant.settings import AssistantSettings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the index folder (ARKIV_DATA_DIR)")
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    args = parser.parse_args()

    assistant = build_assistant(AssistantSettings(data_dir=args.data, qdrant_url=None, llm_base_url=None))
    store = assistant.store
    data = yaml.safe_load(GOLD.read_text(encoding="utf-8"))
    results = []
    for case in data["cases"]:
        question = case.get("question")
        if not question:
            continue
        hits = assistant.search(question)
        answer = assistant.ask(question)
        results.append(
            {
                "question": question,
                "hits": [
                    [h.chunk.chunk_id, h.score, h.reason, [[u.unit.ordinal, u.dense, u.sparse] for u in h.units]]
                    for h in hits
                ],
                "answer": answer.text,
            }
        )
    store.close()
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=0), encoding="utf-8")
    sys.stdout.write(f"{len(results)} questions written to {args.out}\n")


if __name__ == "__main__":
    main()
