"""Arkiv indexer: load, chunk, embed and store the archive."""
