"""Rebuilding the embedded index beside the live one, and switching to it when it is complete.

`arkiv index --rebuild` never deletes what a running server reads. It builds a whole new index (store and
catalog) in `ARKIV_DATA_DIR/.rebuild-<pid>/`, then switches:

1. a journal `ARKIV_DATA_DIR/.switch.json` names the staged index and where the live one is retired to;
2. each part (the store directory, the catalog) is moved aside and the staged one moved into its place;
3. the generation file `ARKIV_DATA_DIR/index-generation` is rewritten, and the journal removed.

Every step is a rename and is idempotent, so a run killed at any point either leaves the live index untouched
(killed while building) or is finished by the next `arkiv index` or `arkiv serve` (`finish_switch`, which
rolls forward from the journal). A running server watches the generation file and opens the new index
(`assistant/web/app.py`); it keeps reading the retired one, whose files it has open, until then. Retired
indexes are deleted by the server once it has switched, or by the next rebuild.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

JOURNAL = ".switch.json"
GENERATION = "index-generation"
STAGING_PREFIX = ".rebuild-"
RETIRED_PREFIX = ".retired-"


def parts(data_dir: Path, collection: str) -> dict[str, Path]:
    """The parts of an index under a data folder, relative names as keys."""
    return {f"qdrant/{collection}": Path("qdrant") / collection, "catalog": Path("catalog")}


def staging_dir(data_dir: Path) -> Path:
    return Path(data_dir) / f"{STAGING_PREFIX}{os.getpid()}"


def prepare_staging(data_dir: Path) -> Path:
    """A fresh folder to build the new index in, sharing the embedding caches of the live one."""
    data_dir = Path(data_dir)
    for old in data_dir.glob(f"{STAGING_PREFIX}*"):  # left by a rebuild that was killed while building
        shutil.rmtree(old, ignore_errors=True)
    stage = staging_dir(data_dir)
    stage.mkdir(parents=True)
    cache = data_dir / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    (stage / "cache").symlink_to(cache.resolve(), target_is_directory=True)
    return stage


def switch(data_dir: Path, stage: Path, collection: str) -> None:
    """Make the staged index the live one (see the module docstring); safe to be killed at any point."""
    data_dir = Path(data_dir)
    retired = data_dir / f"{RETIRED_PREFIX}{time.time_ns()}"
    journal = {"stage": str(stage), "retired": str(retired), "collection": collection}
    tmp = data_dir / f"{JOURNAL}.tmp"
    tmp.write_text(json.dumps(journal), encoding="utf-8")
    os.replace(tmp, data_dir / JOURNAL)
    finish_switch(data_dir)


def finish_switch(data_dir: Path) -> bool:
    """Complete a switch a journal describes (after a crash, or now). Returns whether there was one."""
    data_dir = Path(data_dir)
    path = data_dir / JOURNAL
    if not path.exists():
        return False
    journal: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    stage, retired = Path(journal["stage"]), Path(journal["retired"])
    for rel in parts(data_dir, journal["collection"]).values():
        staged, live, aside = stage / rel, data_dir / rel, retired / rel
        if not staged.exists():
            continue  # this part was switched already
        if live.exists():
            aside.parent.mkdir(parents=True, exist_ok=True)
            os.replace(live, aside)
        live.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, live)
    stamp = data_dir / f"{GENERATION}.tmp"
    stamp.write_text(str(time.time_ns()), encoding="utf-8")
    os.replace(stamp, data_dir / GENERATION)
    path.unlink()
    shutil.rmtree(stage, ignore_errors=True)
    logger.info("switched to the rebuilt index; the old one is in %s", retired)
    return True


def generation(data_dir: Path) -> str | None:
    """The current index generation (changes on every switch), or None before the first rebuild."""
    try:
        return (Path(data_dir) / GENERATION).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def remove_retired(data_dir: Path, keep_newest: int = 0) -> int:
    """Delete retired indexes (all but the newest `keep_newest`); returns how many went."""
    retired = sorted(Path(data_dir).glob(f"{RETIRED_PREFIX}*"))
    gone = retired[: max(len(retired) - keep_newest, 0)]
    for path in gone:
        shutil.rmtree(path, ignore_errors=True)
    return len(gone)
