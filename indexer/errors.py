"""Errors raised by the indexer.

IndexerError
├── UnreadableDocument      a file could not be read (corrupt, encrypted, empty, unsupported)
├── CollectionMismatch      the index was built with another embedding model or schema
├── StoreLocked             another process holds the embedded store
└── ConfigurationError      a setting cannot work (missing model, bad backend name)
"""

from __future__ import annotations


class IndexerError(Exception):
    """Base class of everything the indexer raises on purpose."""


class UnreadableDocument(IndexerError):
    """A file could not be turned into a document; the message says why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class CollectionMismatch(IndexerError):
    """The index was built with another embedding model, dimension or schema version."""


class StoreLocked(IndexerError):
    """The embedded store directory is held by another process."""


class ConfigurationError(IndexerError):
    """A setting has a value that cannot work."""
