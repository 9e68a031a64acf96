"""Tests for index.embedding.onnx_embedder: the ONNX export must give the torch model's numbers and token ids."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizers import Regex

import index.embedding.onnx_embedder as onnx_embedder
from corpus.config import Config, load_config
from index.embedding.onnx_embedder import OnnxEmbedder, TokenTable, has_onnx
from index.embedding.protocol import MANIFEST_NAME, Embedder
from index.embedding.torch_embedder import SentenceTransformerEmbedder
from index.embedding.unigram import CompactUnigram
from index.errors import ModelUnavailable
from qa.service import load_embedder

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "corpus" / "sources"


@pytest.fixture(scope="session")
def torch_embedder(model_dir: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(model_dir)


@pytest.fixture(scope="session")
def onnx(model_dir: Path) -> OnnxEmbedder:
    return OnnxEmbedder(model_dir, threads=1)


@pytest.fixture(scope="session")
def lines() -> list[str]:
    out: list[str] = []
    for path in sorted(SOURCES.glob("*.txt")):
        out += [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return out


@pytest.fixture(scope="session")
def questions() -> list[str]:
    rows = (json.loads(ln) for ln in (ROOT / "eval" / "gold" / "dev.jsonl").read_text(encoding="utf-8").splitlines())
    return [r["question"] for r in rows][:60]


class TestOnnxEmbedder:
    def test_model_folder_holds_the_export(self, model_dir: Path) -> None:
        assert has_onnx(model_dir)
        files = json.loads((model_dir / MANIFEST_NAME).read_text(encoding="utf-8"))["files"]
        assert {"onnx/encoder.onnx", "model.safetensors"} <= set(files)  # checksummed like the rest
        # the weights are on disk once: the token table is read from model.safetensors, not copied
        assert not (model_dir / "onnx" / "word_embeddings.npy").exists()
        assert sum(p.stat().st_size for p in model_dir.rglob("*") if p.is_file()) < 600_000_000

    def test_same_vectors_as_torch_on_corpus(self, onnx, torch_embedder, lines, questions) -> None:
        passages = sorted({ln.strip() for ln in lines if len(ln.strip()) >= 10})[::4][:160]
        a, b = onnx.embed_passages(passages), torch_embedder.embed_passages(passages)
        assert a.shape == b.shape == (len(passages), 384) and a.dtype == np.float32
        assert float((a * b).sum(axis=1).min()) >= 0.9999
        q_a, q_b = onnx.embed_queries(questions), torch_embedder.embed_queries(questions)
        assert float((q_a * q_b).sum(axis=1).min()) >= 0.9999
        # the prefix matters: a query is not embedded as a passage
        assert float((q_a[0] * onnx.embed_passages(questions[:1])[0]).sum()) < 0.999

    def test_same_token_ids_as_torch_on_whole_corpus(self, onnx, torch_embedder, lines) -> None:
        assert onnx.token_ids(lines) == torch_embedder.token_ids(lines)

    def test_text_longer_than_the_model_is_cut_like_torch(self, onnx, torch_embedder) -> None:
        long = "加快完善现代化城市基础设施，累计建成5G基站20万个以上；" * 60
        assert len(onnx.token_ids([long])[0]) > onnx.max_seq_length
        a, b = onnx.embed_passages([long, "短句"]), torch_embedder.embed_passages([long, "短句"])
        assert float((a * b).sum(axis=1).min()) >= 0.9999

    def test_batch_order_and_padding_do_not_change_a_vector(self, onnx, questions) -> None:
        one = onnx.embed_queries(questions[:1])[0]
        batched = onnx.embed_queries([questions[5], questions[0], "的"])[1]
        assert float(one @ batched) >= 0.99999

    def test_interface_and_threads(self, onnx, questions) -> None:
        assert isinstance(onnx, Embedder)
        assert onnx.name.startswith("multilingual-e5-small-q4@") and onnx.dimension == 384
        assert onnx.embed_passages([]).shape == (0, 384) and onnx.token_ids([]) == []
        with pytest.raises(TypeError):
            onnx.embed_queries("a bare string")  # type: ignore[arg-type]
        expected = onnx.embed_queries(questions[:8])
        results: dict[int, np.ndarray] = {}

        def work(i: int) -> None:
            results[i] = onnx.embed_queries([questions[i]])[0]

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        got = np.stack([results[i] for i in range(8)])
        assert float((got * expected).sum(axis=1).min()) >= 0.99999

    def test_export_refuses_a_graph_that_disagrees(self, model_dir, torch_embedder, monkeypatch) -> None:
        onnx_embedder.check_export(model_dir, ["农村公路新改建"], torch_embedder)  # agrees
        monkeypatch.setattr(onnx_embedder, "EXPORT_TOLERANCE", 1.5)  # no cosine reaches it
        with pytest.raises(RuntimeError, match="differs from the torch model"):
            onnx_embedder.check_export(model_dir, ["农村公路新改建"], torch_embedder)

    def test_token_table_reads_the_rows_of_a_safetensors_tensor(self, tmp_path) -> None:
        from safetensors.numpy import load_file, save_file

        table = np.arange(40, dtype=np.float32).reshape(10, 4)
        save_file({"a.bias": np.ones(3, dtype=np.float32), "embeddings.word_embeddings.weight": table,
                   "z": np.zeros((2, 2), dtype=np.float16)}, str(tmp_path / "m.safetensors"))
        rows = TokenTable(tmp_path / "m.safetensors")
        ids = np.array([[3, 0, 3], [9, 9, 1]])
        np.testing.assert_array_equal(rows.take(ids), table[ids])
        np.testing.assert_array_equal(rows.take(ids), load_file(str(tmp_path / "m.safetensors"))[
            "embeddings.word_embeddings.weight"][ids])
        with pytest.raises(IndexError, match="out of range"):
            rows.take(np.array([[10]]))
        with pytest.raises(ValueError, match="no 2-D float tensor"):
            TokenTable(tmp_path / "m.safetensors", "a.bias")

    def test_missing_export_is_a_clear_error(self, tmp_path) -> None:
        with pytest.raises(FileNotFoundError, match="no ONNX export"):
            OnnxEmbedder(tmp_path).embed_queries(["问"])


@pytest.fixture(scope="module")
def pair(model_dir: Path):
    """The compact reading of the model's tokenizer and HF's."""
    from tokenizers import Tokenizer

    hf = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    hf.encode_special_tokens = True
    compact = CompactUnigram.load(model_dir / "tokenizer.json")
    assert compact is not None, "the model's tokenizer should have the supported pipeline"
    return compact, hf


class TestCompactUnigram:
    def test_same_ids_as_hf_on_corpus_questions_and_edge_cases(self, pair, lines, questions) -> None:
        compact, hf = pair
        edge = ["", " ", "  两个空格", "a  b", "\u3000全角空格", "<s>文本</s>", "<unk>", "😀🚀", "▁▁x", "x▁",
                "tab\tand\nnewline", "‴", "\x00\x01", "Ａｂｃ１２３", "①②", "ﾊﾝｶｸ", "𠮷野家", "\ue000私用区"]
        texts = lines + questions + [f"query: {q}" for q in questions] + edge
        assert [compact.encode(t) for t in texts] == [e.ids for e in hf.encode_batch(texts)]

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.text(alphabet=st.sampled_from(list("农村公路新改建由谁牵头5G基站２０２３年 \u3000\t（）、。<>s/unk▁😀‴ǅＡ①\x00")) |
                   st.characters(exclude_categories=("Cs",)), max_size=40))
    def test_same_ids_as_hf_on_generated_text(self, pair, text: str) -> None:
        compact, hf = pair
        assert compact.encode(text) == hf.encode(text).ids

    @staticmethod
    def _tokenizer_json(path: Path, replaces: list[tuple[str, str]]) -> Path:
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

        tok = Tokenizer(models.Unigram([("<s>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -1.0),
                                        ("甲", -2.0), ("乙", -2.0), ("甲乙", -3.0)], unk_id=2))
        steps = [normalizers.Replace(a, b) for a, b in replaces]
        tok.normalizer = normalizers.Sequence([*steps, normalizers.Replace(Regex(" {2,}"), " ")])
        tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="always", split=True)
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 1)])
        tok.save(str(path))
        return path

    def test_a_small_tokenizer_of_the_same_shape(self, tmp_path) -> None:
        from tokenizers import Tokenizer

        path = self._tokenizer_json(tmp_path / "t.json", [("丁", "甲"), ("\u3000", " ")])
        compact = CompactUnigram.load(path)
        assert compact is not None
        hf = Tokenizer.from_file(str(path))
        for text in ["甲乙", "丁乙", "甲\u3000\u3000乙", "丙丙甲", "", "乙 丙"]:
            assert compact.encode(text) == hf.encode(text).ids, text
        assert compact.encode("丙丙") == [0, 3, 2, 1]  # ▁, then two unknowns fused into one <unk>

    def test_other_pipelines_are_left_to_hf(self, tmp_path) -> None:
        # 丁→乙 then 乙→甲: one translate pass would stop at 乙, so the compact reading refuses it
        assert CompactUnigram.load(self._tokenizer_json(tmp_path / "chain.json", [("丁", "乙"), ("乙", "甲")])) is None
        spec = json.loads(self._tokenizer_json(tmp_path / "t.json", []).read_text(encoding="utf-8"))
        spec["model"]["byte_fallback"] = True
        (tmp_path / "bytes.json").write_text(json.dumps(spec), encoding="utf-8")
        assert CompactUnigram.load(tmp_path / "bytes.json") is None


class TestChoosingTheEmbedder:
    def test_auto_serves_with_onnx_and_torch_on_request(self, model_dir) -> None:
        config = Config(model_dir=model_dir)
        assert isinstance(load_embedder(config), OnnxEmbedder)
        assert load_embedder(config).threads == 1  # serving: one thread
        assert load_embedder(config, serving=False).threads is None  # building: one per core
        assert isinstance(load_embedder(dataclasses.replace(config, embedder="torch")), SentenceTransformerEmbedder)

    def test_folder_without_export(self, model_dir, tmp_path) -> None:
        plain = tmp_path / "plain-model"
        shutil.copytree(model_dir, plain, copy_function=os.link)
        (plain / MANIFEST_NAME).unlink()
        shutil.rmtree(plain / "onnx")
        config = Config(model_dir=plain)
        assert isinstance(load_embedder(config), SentenceTransformerEmbedder)  # auto falls back
        with pytest.raises(ModelUnavailable, match="no ONNX export"):
            load_embedder(dataclasses.replace(config, embedder="onnx"))

    def test_without_onnxruntime_auto_uses_torch(self, model_dir, monkeypatch) -> None:
        import importlib.util

        real = importlib.util.find_spec
        monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real(name, *a))
        config = Config(model_dir=model_dir)
        assert isinstance(load_embedder(config), SentenceTransformerEmbedder)
        with pytest.raises(ModelUnavailable, match="onnxruntime is not installed"):
            load_embedder(dataclasses.replace(config, embedder="onnx"))

    def test_config_reads_the_choice(self) -> None:
        assert load_config({"POLICYQA_EMBEDDER": "torch", "POLICYQA_EMBED_THREADS": "2"}).embedder == "torch"
        assert load_config({"POLICYQA_EMBED_THREADS": "2"}).embed_threads == 2
        assert load_config({"POLICYQA_TORCH_THREADS": "3"}).embed_threads == 3  # the old name still works
        with pytest.raises(ValueError, match="POLICYQA_EMBEDDER must be one of"):
            load_config({"POLICYQA_EMBEDDER": "gpu"})

    def test_serving_never_imports_torch(self, model_dir) -> None:
        code = (
            "import sys\n"
            "from corpus.config import Config\n"
            "from qa.service import load_embedder\n"
            f"e = load_embedder(Config(model_dir=__import__('pathlib').Path({str(model_dir)!r})))\n"
            "v = e.embed_queries(['农村公路新改建由谁牵头？'])\n"
            "assert v.shape == (1, 384)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'sentence_transformers')))\n"
        )
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "[]"
