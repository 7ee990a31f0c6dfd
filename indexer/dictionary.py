"""The Swedish dictionary (hunspell-sv read by spylls): word lookup, base forms and compound splitting.

The only module that imports spylls. Loading the dictionary takes a few seconds, so `get_dictionary()`
loads it once per process. Splitting a compound costs about 10 ms per new word and finding a base form
about 0.5 ms; both are kept in memory and, where a cache directory is given, in `compounds.json` there.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from spylls.hunspell import Dictionary
from spylls.hunspell.algo.lookup import AffixForm, CompoundForm

from indexer.errors import ConfigurationError

logger = logging.getLogger(__name__)

DICTIONARY_NAME = "sv_SE"
CACHE_FILE = "compounds.json"
"""Compound splits and base forms found so far, under the cache directory."""
_SPLIT_ALGORITHM = 1
"""Bumped when the choice of split or base form changes, so that old cache files are not reused."""
_MAX_COMPOUND_FORMS = 64
"""Compound analyses looked at per word, to bound the time spent on very long words."""
_AUTOSAVE_EVERY = 500
"""New splits and base forms kept in memory before the cache file is rewritten."""

_V = TypeVar("_V")
_LOAD_LOCK = threading.Lock()
_INSTANCE: SwedishDictionary | None = None


def dictionary_files() -> tuple[Path, Path]:
    """The .aff and .dic files of the installed hunspell-sv package.

    hunspell-sv installs them as data files under the environment's `share/hunspell`, which its
    distribution record lists; `sys.prefix/share/hunspell` is the fallback for editable or odd installs.
    """
    candidates: list[Path] = []
    try:
        dist = importlib.metadata.distribution("hunspell-sv")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for entry in dist.files or ():
            if entry.name == f"{DICTIONARY_NAME}.aff":
                candidates.append(Path(str(dist.locate_file(entry))).resolve().parent)
    candidates.append(Path(sys.prefix) / "share" / "hunspell")
    for folder in candidates:
        aff, dic = folder / f"{DICTIONARY_NAME}.aff", folder / f"{DICTIONARY_NAME}.dic"
        if aff.is_file() and dic.is_file():
            return aff, dic
    raise ConfigurationError(
        f"the Swedish dictionary ({DICTIONARY_NAME}.aff/.dic from the hunspell-sv package) was not found; "
        f"looked in: {', '.join(str(c) for c in candidates)}. Install it with `pip install hunspell-sv`."
    )


def _dictionary_version() -> str:
    versions = []
    for name in ("hunspell-sv", "spylls"):
        try:
            versions.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name}==?")
    return ";".join([*versions, f"split={_SPLIT_ALGORITHM}"])


def _choose_split(splits: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    """The most cautious analysis: fewest parts, then the longest shortest part, then alphabetical.

    Fewest parts keeps "arbetsmiljö" + "arbetet" rather than "arbets" + "miljö" + "arbetet";
    the longest shortest part avoids splits into short fragments that happen to be words.
    """
    options = sorted(set(splits), key=lambda parts: (len(parts), -min(len(p) for p in parts), parts))
    return options[0] if options else ()


class SwedishDictionary:
    """Lookup, base forms and compound splits over one loaded hunspell dictionary."""

    def __init__(self, dictionary: Dictionary, cache_path: Path | None = None) -> None:
        self._dictionary = dictionary
        self._version = _dictionary_version()
        self._splits: dict[str, tuple[str, ...]] = {}
        self._lemmas: dict[str, str] = {}
        """Base forms found so far; "" where the dictionary has none."""
        self._cache_lock = threading.Lock()
        self._unsaved = 0
        self._cache_path: Path | None = None
        self._cached_lookup = functools.lru_cache(maxsize=200_000)(self._lookup)
        if cache_path is not None:
            self.use_cache(cache_path)

    # -- lookup -----------------------------------------------------------------------------------

    def lookup(self, word: str) -> bool:
        """Whether the dictionary accepts the word (inflections and compounds included)."""
        return self._cached_lookup(word)

    def _lookup(self, word: str) -> bool:
        return bool(word) and bool(self._dictionary.lookup(word))

    def lemma(self, word: str) -> str | None:
        """The dictionary base form of an inflected word ("förskolan" -> "förskola"), or None if unknown.

        A form made by adding an ending to a listed word wins ("beslutet" -> "beslut"), then the word
        itself when it is listed, then a form that replaces an ending ("fakturor" -> "faktura").
        Compounds the dictionary does not list whole get the base form of their last part
        ("leverantörsfakturor" -> "leverantörsfaktura").
        """
        if not word:
            return None
        cached = self._lemmas.get(word)
        if cached is not None:
            return cached or None
        found = self._find_lemma(word)
        self._remember(self._lemmas, word, found or "")
        return found

    def _find_lemma(self, word: str) -> str | None:
        added: set[str] = set()
        replaced: set[str] = set()
        listed = False
        for form in self._dictionary.lookuper.good_forms(word, compound_forms=False):
            if not isinstance(form, AffixForm) or form.in_dictionary is None:
                continue
            stem = form.in_dictionary.stem
            if form.is_base():
                listed = True
            elif len(stem) >= 2 and not (form.prefix or form.prefix2):
                if all(affix.strip == "" for affix in form.all_affixes()):
                    added.add(stem)
                else:
                    replaced.add(stem)
        if added:
            return max(added, key=lambda s: (len(s), s))
        if listed:
            return word
        if replaced:
            return max(replaced, key=lambda s: (len(s), s))
        parts = self.split_compound(word)
        if not parts:
            return None
        head = self.lemma(parts[-1])
        return "".join(parts[:-1]) + head if head else None

    # -- compounds --------------------------------------------------------------------------------

    def split_compound(self, word: str) -> tuple[str, ...]:
        """The parts of a compound as they stand in the word, or () when it is not one.

        "leverantörsfakturor" -> ("leverantörs", "fakturor"); the parts keep their linking letters and
        inflection, and joined they give the word back.
        """
        cached = self._splits.get(word)
        if cached is not None:
            return cached
        parts = self._split(word)
        self._remember(self._splits, word, parts)
        return parts

    def _split(self, word: str) -> tuple[str, ...]:
        if len(word) < 4 or not word.isalpha():
            return ()
        splits: list[tuple[str, ...]] = []
        for form in self._dictionary.lookuper.good_forms(word, affix_forms=False):
            if isinstance(form, CompoundForm):
                splits.append(tuple(part.text for part in form.parts))
                if len(splits) >= _MAX_COMPOUND_FORMS:
                    break
        return _choose_split(splits)

    # -- persistent cache -------------------------------------------------------------------------

    def _remember(self, table: dict[str, _V], word: str, value: _V) -> None:
        with self._cache_lock:
            table[word] = value
            self._unsaved += 1
            autosave = self._cache_path is not None and self._unsaved >= _AUTOSAVE_EVERY
        if autosave:
            self.flush()

    def use_cache(self, cache_path: Path | None) -> None:
        """Read splits and base forms from a cache file (if it matches this dictionary) and save new ones there.

        None stops saving; what is in memory stays.
        """
        self.flush()
        self._cache_path = cache_path
        if cache_path is None:
            return
        cache = _read_cache(cache_path, self._version)
        with self._cache_lock:
            for word, parts in cache.splits.items():
                self._splits.setdefault(word, parts)
            for word, base in cache.lemmas.items():
                self._lemmas.setdefault(word, base)
        logger.debug("word cache %s: %d splits, %d base forms", cache_path, len(cache.splits), len(cache.lemmas))

    def flush(self) -> None:
        """Write what was found so far to the cache file, merged with what other processes wrote there."""
        path = self._cache_path
        if path is None:
            return
        with self._cache_lock:
            if not self._unsaved:
                return
            splits, lemmas = dict(self._splits), dict(self._lemmas)
            self._unsaved = 0
        cache = _read_cache(path, self._version)
        cache.splits.update(splits)
        cache.lemmas.update(lemmas)
        _write_cache(path, self._version, cache)
        logger.debug("word cache %s: wrote %d splits, %d base forms", path, len(cache.splits), len(cache.lemmas))


@dataclass(frozen=True)
class _Cache:
    splits: dict[str, tuple[str, ...]]
    lemmas: dict[str, str]


def _read_cache(path: Path, version: str) -> _Cache:
    empty = _Cache({}, {})
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return empty
    except (OSError, ValueError) as ex:
        logger.warning("word cache %s is unreadable and will be rebuilt: %s", path, ex)
        return empty
    if (
        not isinstance(raw, dict)
        or raw.get("version") != version
        or not isinstance(raw.get("splits"), dict)
        or not isinstance(raw.get("lemmas"), dict)
    ):
        logger.info("word cache %s was made by another dictionary version; starting afresh", path)
        return empty
    return _Cache(
        {str(word): tuple(str(p) for p in parts) for word, parts in raw["splits"].items()},
        {str(word): str(base) for word, base in raw["lemmas"].items()},
    )


def _write_cache(path: Path, version: str, cache: _Cache) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps(
        {
            "version": version,
            "splits": {w: list(p) for w, p in sorted(cache.splits.items())},
            "lemmas": dict(sorted(cache.lemmas.items())),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_dictionary(cache_path: Path | None = None) -> SwedishDictionary:
    """Read the dictionary files afresh (a few seconds); most callers want `get_dictionary()`."""
    aff, dic = dictionary_files()
    started = time.perf_counter()
    try:
        dictionary = Dictionary.from_files(str(aff.with_suffix("")))
    except (OSError, ValueError, UnicodeDecodeError) as ex:
        raise ConfigurationError(f"the Swedish dictionary at {aff.parent} could not be read: {ex}") from ex
    logger.info("loaded Swedish dictionary %s in %.1f s", aff.parent, time.perf_counter() - started)
    return SwedishDictionary(dictionary, cache_path)


def get_dictionary(cache_dir: Path | None = None) -> SwedishDictionary:
    """The process's Swedish dictionary, loaded on first use.

    With `cache_dir`, compound splits are read from and saved to `cache_dir/compounds.json`
    (the first call that names a directory sets it).
    """
    global _INSTANCE
    with _LOAD_LOCK:
        if _INSTANCE is None:
            _INSTANCE = load_dictionary()
        instance = _INSTANCE
        if cache_dir is not None and instance._cache_path is None:
            instance.use_cache(Path(cache_dir) / CACHE_FILE)
    return instance
