"""Whether an index's case timelines are complete: every case number on more than one page, against its timeline.

For each page the catalogue holds, the case numbers on it (indexer.casenumbers, the rule the index is built
with); for each number found on more than one page, the timeline the case index serves: does it cover every
one of those pages? It checks how the case index assembles pages into steps, not the rule that finds the
numbers. Timelines are sorted by date when served, so whether each step's date is right (and so the order) is
for a person reading a sample of timelines against their pages.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from indexer.casenumbers import find_case_numbers
from indexer.cases import CaseIndex, case_index_path
from indexer.catalog import Catalog
from indexer.swedish.casekinds import is_reference_series

__all__ = ["CaseCheck", "check_cases", "markdown"]


@dataclass(frozen=True)
class CaseCheck:
    """One case number found on more than one page, and what its timeline covers."""

    number: str
    """The case the index resolves the written number to, or the number as written (canonical) if none."""
    case: str | None
    """The case the index resolves it to; None when the index holds no case for it."""
    places: tuple[tuple[str, int], ...]
    """(source, page) of every page that writes the number."""
    steps: int
    missing: tuple[tuple[str, int], ...]
    """Places no step of the timeline covers."""
    undated: int
    """Steps whose own text gives no date (they sort by the nearest dated step of their document)."""

    @property
    def complete(self) -> bool:
        return self.case is not None and not self.missing


def check_cases(data_dir: Path) -> list[CaseCheck]:
    """The check of every case number on more than one page of the index under `data_dir`, by number."""
    index = CaseIndex.load(case_index_path(data_dir))
    places: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for entry in Catalog(Path(data_dir) / "catalog").entries():
        for page in entry.pages:
            for number in find_case_numbers(page.text):
                if is_reference_series(number):
                    continue  # "MSBFS 2015:5", "SOU 2021:25": statutes and reports, never cases
                # "Dnr 2022/258" on one page and "RJL 2022/258" on another are one case where the index says so
                places[index.resolve(number) or number].add((entry.source, page.number))
    groups = {g for e in index.entries() for g in e.access_groups}  # the check sees every step
    out: list[CaseCheck] = []
    for number, where in sorted(places.items()):
        if len(where) < 2:
            continue
        case = index.resolve(number)
        steps = index.timeline(case, groups) if case else []
        covered = {(e.source, p) for e in steps for p in range(e.page, e.page_end + 1)}
        out.append(
            CaseCheck(
                number=number,
                case=case,
                places=tuple(sorted(where)),
                steps=len(steps),
                missing=tuple(sorted(where - covered)),
                undated=sum(1 for e in steps if e.date is None),
            )
        )
    return out


def markdown(checks: list[CaseCheck]) -> str:
    """A summary line and one row per case number, the incomplete ones first."""
    complete = sum(1 for c in checks if c.complete)
    held = sum(1 for c in checks if c.case is not None)
    lines = [
        f"{len(checks)} case numbers on more than one page; the index holds {held} of them as cases; "
        f"{complete} timelines cover every page.",
        "",
        "| case number | case | pages | steps | undated steps | pages not covered |",
        "|---|---|---|---|---|---|",
    ]
    for c in sorted(checks, key=lambda c: (c.complete, c.number)):
        missing = ", ".join(f"{Path(s).name} p. {p}" for s, p in c.missing) or "–"
        lines.append(f"| {c.number} | {c.case or 'no case'} | {len(c.places)} | {c.steps} | {c.undated} | {missing} |")
    return "\n".join(lines) + "\n"
