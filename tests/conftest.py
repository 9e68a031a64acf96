"""Shared fixtures: the bundled documents, parsed once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus import ParsedDocument, parse_file

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "corpus" / "sources"
DOC_000 = SOURCES / "000_30a6bebbb49a94f9.txt"
DOC_004 = SOURCES / "004_da63b5862d0a4b52.txt"


@pytest.fixture(scope="session")
def doc000() -> ParsedDocument:
    return parse_file(DOC_000)


@pytest.fixture(scope="session")
def doc004() -> ParsedDocument:
    return parse_file(DOC_004)


def genre_path(name: str, folder: str = "genre") -> Path:
    """A real document of the genre: tests/data/genre (copies of ../shared/genre) or tests/data/genre3."""
    return ROOT / "tests" / "data" / folder / name


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The built model in the configured folder (the user's cache): verified, or built once."""
    from corpus.config import load_config
    from index.embedding.build import build_model

    return build_model(load_config().model_dir)


@pytest.fixture(scope="session")
def real_config(tmp_path_factory):
    """A config with the real model (built once into the user's cache) and a fresh data folder."""
    from corpus.config import Config, load_config

    base = load_config()
    # POLICYQA_BACKEND=milvus runs the tests that use this config against milvus-lite (.ci/run)
    return Config(data_dir=tmp_path_factory.mktemp("data"), model_dir=base.model_dir, backend=base.backend,
                  milvus_uri=base.milvus_uri, milvus_token=base.milvus_token)


@pytest.fixture(scope="session")
def service(real_config):
    """policyqa with the real embedding model over the bundled corpus (built once per session)."""
    from qa.service import PolicyQA, load_embedder

    svc = PolicyQA(real_config, load_embedder(real_config))
    svc.build(progress=False)
    return svc


@pytest.fixture(scope="session")
def make_writable_service(real_config, tmp_path_factory):
    """A factory for a separate keyed service over its own data folder, for uploads and deletes.

    It uses a hashing embedder: uploads there never change what the shared `service` answers.
    """
    import dataclasses

    from qa.service import PolicyQA
    from tests.support.fakes import HashEmbedder

    def make(api_key: str, max_upload_bytes: int = 200_000):
        config = dataclasses.replace(real_config, data_dir=tmp_path_factory.mktemp("w"), api_key=api_key,
                                     max_upload_bytes=max_upload_bytes)
        svc = PolicyQA(config, HashEmbedder(32))
        svc.build(progress=False)
        return svc

    return make
