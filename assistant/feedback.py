"""Feedback on answers (thumbs up or down, an optional comment), from the web page and from Slack.

Stored in SQLite under ARKIV_DATA_DIR with the question, the answer, its citations, who gave it, the access
groups of the documents it cites and the time, and exportable (by an administrator) as candidate evaluation
cases for a person to review before they join the gold set. Rows older than the retention are deleted.
A row that cannot be read (hand-edited, from an older version) is skipped with a warning, never an error.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

logger = logging.getLogger(__name__)

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
    user TEXT,
    access_groups TEXT
)
"""
_ADDED_COLUMNS = {"user": "TEXT", "access_groups": "TEXT"}


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
    access_groups: tuple[str, ...] = ()
    """Access groups (other than public) of the documents the answer cites: who may see it in an export."""


class FeedbackStore:
    """One SQLite file; safe to share between the web app's threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute(_SCHEMA)
        present = {row[1] for row in self._db.execute("PRAGMA table_info(feedback)")}
        for name, kind in _ADDED_COLUMNS.items():
            if name not in present:
                self._db.execute(f"ALTER TABLE feedback ADD COLUMN {name} {kind}")
        self._db.commit()

    def add(self, fb: Feedback) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO feedback (created_at, source, rating, comment, question, query, status, answer, "
                "citations, user, access_groups) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    json.dumps(list(fb.access_groups)),
                ),
            )
            self._db.commit()
            return int(cur.lastrowid or 0)

    def all(self, limit: int = 1000) -> list[Feedback]:
        """The newest rows; unreadable ones are skipped with a warning."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, created_at, source, rating, comment, question, query, status, answer, citations, user, "
                "access_groups FROM feedback ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        out = []
        for r in rows:
            try:
                out.append(_row(r))
            except (ValueError, TypeError, KeyError) as ex:  # a damaged row: skip it, keep the others
                logger.warning("feedback row %s is malformed and was skipped: %s", r[0], type(ex).__name__)
        return out

    def export_candidates(self, visible: Callable[[Iterable[str]], bool] | None = None) -> list[dict[str, Any]]:
        """Feedback as draft gold cases (evaluation/gold format), for a person to review and complete.

        A thumbs-up answer proposes its citations as evidence; a thumbs-down one is flagged for review, and
        a not_found answer marked good proposes an unanswerable case. With `visible`, feedback citing documents
        of access groups it rejects is left out.
        """
        out = []
        for fb in reversed(self.all()):
            if visible is not None and fb.access_groups and not all(visible([g]) for g in fb.access_groups):
                continue
            evidence = [_evidence(c) for c in fb.citations[:3]]
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

    def prune(self, older_than_days: float) -> int:
        """Delete feedback older than the retention; returns how many rows went."""
        cutoff = time.time() - older_than_days * 86400
        with self._lock:
            cur = self._db.execute("DELETE FROM feedback WHERE created_at < ?", (cutoff,))
            self._db.commit()
        if cur.rowcount:
            logger.info("feedback: removed %d rows older than %s days", cur.rowcount, older_than_days)
        return int(cur.rowcount or 0)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _row(r: tuple[Any, ...]) -> Feedback:
    citations = json.loads(r[9]) if r[9] else []
    if not isinstance(citations, list):
        raise ValueError("citations are not a list")
    groups = json.loads(r[11]) if r[11] else []
    if not isinstance(groups, list):
        raise ValueError("access groups are not a list")
    return Feedback(
        id=r[0],
        created_at=float(r[1]),
        source=r[2],
        rating=r[3],
        comment=r[4],
        question=str(r[5]),
        query=r[6],
        status=r[7],
        answer=str(r[8]),
        citations=[c for c in citations if isinstance(c, dict)],
        user=r[10],
        access_groups=tuple(str(g) for g in groups),
    )


def _evidence(c: dict[str, Any]) -> dict[str, Any]:
    document = c.get("document")
    quotes = c.get("quotes")
    first = quotes[0] if isinstance(quotes, list) and quotes else c.get("text", "")
    return {
        "document": document.get("source") if isinstance(document, dict) else None,
        "page": c.get("page_start"),
        "quote": str(first or "")[:300],
    }
