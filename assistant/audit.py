"""The audit log: who asked, and which documents they were shown.

One JSON object per line, in one file per UTC day under ARKIV_DATA_DIR/ARKIV_AUDIT_DIR
(`audit-2026-12-06.jsonl`); files older than ARKIV_RETENTION_DAYS are deleted. A line names the user, how they
were identified, their groups, the action and the documents shown. The question's text is recorded only with
ARKIV_LOG_QUESTIONS=true (questions to a municipality may hold personal data). Tokens, secrets and header values
other than the user's name and groups are never written.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from assistant.access import Principal

logger = logging.getLogger(__name__)

PREFIX = "audit-"


class AuditLog:
    """Append-only daily JSON-lines files; safe to share between threads."""

    def __init__(self, folder: Path, *, retention_days: int = 90, log_questions: bool = False) -> None:
        self.folder = Path(folder)
        self.retention_days = retention_days
        self.log_questions = log_questions
        self._lock = threading.Lock()
        self._pruned_day: str | None = None

    def _path(self, day: str) -> Path:
        return self.folder / f"{PREFIX}{day}.jsonl"

    def record(
        self,
        principal: Principal,
        action: str,
        *,
        documents: Iterable[str] = (),
        question: str | None = None,
        status: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """One line: who did what and which documents (ids) they were shown. Never raises: a log that cannot be
        written is reported in the application log, and the request is served."""
        now = datetime.now(UTC)
        entry: dict[str, Any] = {
            "time": now.isoformat(timespec="milliseconds"),
            "user": principal.user,
            "via": principal.via,
            "groups": sorted(principal.groups),
            "action": action,
            "documents": list(dict.fromkeys(documents)),
        }
        if status is not None:
            entry["status"] = status
        if detail:
            entry.update(detail)
        if question is not None and self.log_questions:
            entry["question"] = question
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        day = now.strftime("%Y-%m-%d")
        try:
            with self._lock:
                self.folder.mkdir(parents=True, exist_ok=True)
                with self._path(day).open("a", encoding="utf-8") as fh:
                    fh.write(line)
                if self._pruned_day != day:
                    self._pruned_day = day
                    self._prune(now)
        except OSError as ex:  # the audit log must not take the service down; say so loudly instead
            logger.error("audit log %s cannot be written: %s", self.folder, ex)

    def prune(self) -> int:
        """Delete the days older than the retention; returns how many files went."""
        with self._lock:
            return self._prune(datetime.now(UTC))

    def _prune(self, now: datetime) -> int:
        cutoff = (now - timedelta(days=self.retention_days)).strftime("%Y-%m-%d")
        removed = 0
        for path in self.folder.glob(f"{PREFIX}*.jsonl"):
            day = path.stem[len(PREFIX) :]
            if day < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        if removed:
            logger.info("audit log: removed %d days older than %d days", removed, self.retention_days)
        return removed

    def entries(self) -> list[dict[str, Any]]:
        """Every line still kept, oldest first (for tests and for an administrator's review)."""
        out = []
        with self._lock:
            for path in sorted(self.folder.glob(f"{PREFIX}*.jsonl")):
                for line in path.read_text(encoding="utf-8").splitlines():
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError:
                        logger.warning("audit log %s: an unreadable line skipped", path.name)
        return out


def retention_cutoff(days: int) -> float:
    """The epoch time before which kept data is deleted."""
    return time.time() - days * 86400
