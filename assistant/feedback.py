"""Feedback on answers (thumbs up or down, an optional comment), from the web page and from Slack.

Stored in SQLite under ARKIV_DATA_DIR with the question, the answer, its citations and the time, and
exportable as candidate evaluation cases for a person to review before they join the gold set.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Rating = Literal["up", "down"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    source TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT,
    question TEXT NOT NULL,
    query TEXT,
    status TEXT,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    user TEXT
)
"""


@dataclass(frozen=True)
class Feedback:
    rating: Rating
    question: str
    answer: str
    citations: list[dict[str, Any]] = field(default_factory=list)
    comment: str | None = None
    source: Literal["web", "slack"] = "web"
    query: str | None = None
    status: str | None = None
    user: str | None = None
    created_at: float = field(default_factory=time.time)
    id: int | None = None


class FeedbackStore:
    """One SQLite file; safe to share between the web app's threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute(_SCHEMA)
        self._db.commit()

    def add(self, fb: Feedback) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO feedback (created_at, source, rating, comment, question, query, status, answer, "
                "citations, user) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    fb.created_at,
                    fb.source,
                    fb.rating,
                    fb.comment,
                    fb.question,
                    fb.query,
                    fb.status,
                    fb.answer,
                    json.dumps(fb.citations, ensure_ascii=False),
                    fb.user,
                ),
            )
            self._db.commit()
            return int(cur.lastrowid or 0)

    def all(self, limit: int = 1000) -> list[Feedback]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, created_at, source, rating, comment, question, query, status, answer, citations, user "
                "FROM feedback ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            Feedback(
                id=r[0],
                created_at=r[1],
                source=r[2],
                rating=r[3],
                comment=r[4],
                question=r[5],
                query=r[6],
                status=r[7],
                answer=r[8],
                citations=json.loads(r[9]),
                user=r[10],
            )
            for r in rows
        ]

    def export_candidates(self) -> list[dict[str, Any]]:
        """Feedback as draft gold cases (evaluation/gold format), for a person to review and complete.

        A thumbs-up answer proposes its citations as evidence; a thumbs-down one is flagged for review, and
        a not_found answer marked good proposes an unanswerable case.
        """
        out = []
        for fb in reversed(self.all()):
            evidence = [
                {
                    "document": c.get("document", {}).get("source"),
                    "page": c.get("page_start"),
                    "quote": (c.get("quotes") or [c.get("text", "")])[0][:300],
                }
                for c in fb.citations[:3]
            ]
            out.append(
                {
                    "id": f"feedback-{fb.id}",
                    "question": fb.question,
                    "answerable": fb.status != "not_found" if fb.rating == "up" else None,
                    "evidence": evidence if fb.rating == "up" and fb.status != "not_found" else [],
                    "reference_answer": fb.answer if fb.rating == "up" else "",
                    "review": f"{fb.source} feedback {fb.rating}" + (f": {fb.comment}" if fb.comment else ""),
                }
            )
        return out

    def close(self) -> None:
        with self._lock:
            self._db.close()
