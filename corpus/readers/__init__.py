"""Readers: one module per source format, each returning a `BlockDocument` (corpus.blocks)."""
