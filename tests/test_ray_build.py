"""An index build on Ray (index.ray_build, policyqa build --ray) gives the same index as a local build:
the same records, the same vectors, the same answers. Ray runs locally, bound to 127.0.0.1."""

from __future__ import annotations

import functools

import numpy as np
import pytest

pytest.importorskip("ray")

from corpus import bundled_sources  # noqa: E402
from corpus.config import Config  # noqa: E402
from index.store import load_records  # noqa: E402
from qa.service import PolicyQA  # noqa: E402
from tests.support.fakes import HashEmbedder  # noqa: E402

QUESTIONS = ("农村公路新改建由谁牵头？", "5G基站建设目标是多少？", "王文序副省长牵头哪些重点工作？",
             "火星基地建设目标是多少？", "杭衢铁路建德至衢州段总投资多少？")


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    from index.ray_build import shutdown

    root = tmp_path_factory.mktemp("ray")
    local = PolicyQA(Config(data_dir=root / "local", model_dir=root / "none"), HashEmbedder(48))
    local.build(progress=False)
    on_ray = PolicyQA(Config(data_dir=root / "ray", model_dir=root / "none"), HashEmbedder(48))
    try:
        on_ray.build(progress=False, ray="", embedder_factory=functools.partial(HashEmbedder, 48))
    finally:
        shutdown()
    return local, on_ray


def test_the_records_and_vectors_are_the_local_builds(builds):
    local, on_ray = builds
    assert load_records(local.index.folder) == load_records(on_ray.index.folder)
    a = np.load(local.index.folder / "embeddings.npy")
    b = np.load(on_ray.index.folder / "embeddings.npy")
    assert a.shape == b.shape and len(on_ray.index.documents) == len(bundled_sources())
    np.testing.assert_array_equal(a, b)


def test_the_answers_are_the_local_builds(builds):
    local, on_ray = builds
    for question in QUESTIONS:
        assert local.ask(question).answer == on_ray.ask(question).answer
