"""A compact reading of the model's ``tokenizer.json``: the same token ids in a fraction of the memory.

HF ``tokenizers`` keeps the 250,002-piece Unigram vocabulary in a byte trie that costs ≈ 280 MB of
resident memory per process, more than the ONNX encoder itself. A serving process tokenises one
short question at a time, so a dictionary of pieces (≈ 35 MB) and the same Viterbi search in Python
(≈ 0.1 ms per question) do the job. ``CompactUnigram.load`` accepts exactly the pipeline that
``index.embedding.build`` writes (single-character replacements, space collapsing, Metaspace,
isolation of characters no piece contains, Unigram, ``<s> … </s>``) and returns None for anything
else, so a caller falls back to HF ``tokenizers``. tests/test_onnx_embedder.py checks the ids against
HF's on the whole corpus and on generated text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_UNK_PENALTY = 10.0  # as sentencepiece and HF tokenizers: an unknown character scores min - 10


class CompactUnigram:
    """Token ids of a SentencePiece-style Unigram tokenizer, equal to HF ``tokenizers``' (see module doc)."""

    def __init__(
        self,
        pieces: dict[str, int],
        scores: list[float],
        unk_id: int,
        bos_id: int,
        eos_id: int,
        char_map: dict[int, str],
        isolate: re.Pattern[str] | None,
        replacement: str = "\u2581",
    ) -> None:
        self.pieces = pieces
        self.scores = scores
        self.unk_id, self.bos_id, self.eos_id = unk_id, bos_id, eos_id
        self.char_map = char_map
        self.isolate = isolate
        self.replacement = replacement
        self.unk_score = min(scores) - _UNK_PENALTY
        self.longest = max(len(p) for p in pieces)

    @classmethod
    def load(cls, path: Path) -> CompactUnigram | None:
        """Read ``tokenizer.json``; None if its pipeline is not the one this class reproduces."""
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
        try:
            return cls._from_spec(spec)
        except (KeyError, TypeError, ValueError, IndexError, re.error):
            return None

    @classmethod
    def _from_spec(cls, spec: dict[str, Any]) -> CompactUnigram | None:
        model, norm, pre, post = (
            spec["model"],
            spec["normalizer"],
            spec["pre_tokenizer"],
            spec["post_processor"],
        )
        if model.get("type") != "Unigram" or model.get("byte_fallback"):
            return None
        steps = norm["normalizers"] if norm and norm.get("type") == "Sequence" else None
        if not steps or steps[-1] != {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}:
            return None
        char_map: dict[int, str] = {}
        for step in steps[:-1]:
            key = step.get("pattern", {}).get("String", "") if step.get("type") == "Replace" else ""
            if len(key) != 1:
                return None
            char_map[ord(key)] = step["content"]
        if any(ord(c) in char_map for out in char_map.values() for c in out):
            return None  # a chained map: one translate pass would differ from the step-by-step one
        parts = pre["pretokenizers"] if pre.get("type") == "Sequence" else [pre]
        meta = parts[0]
        if (
            meta.get("type") != "Metaspace"
            or meta.get("prepend_scheme") != "always"
            or not meta.get("split")
            or len(parts) > 2
        ):
            return None
        isolate = None
        if len(parts) == 2:
            split = parts[1]
            if split.get("type") != "Split" or split.get("behavior") != "Isolated" or split.get("invert"):
                return None
            isolate = re.compile(_onig_to_python(split["pattern"]["Regex"]))
        single = [t for t in post["single"]]
        if post.get("type") != "TemplateProcessing" or len(single) != 3 or "Sequence" not in single[1]:
            return None
        specials = post["special_tokens"]
        bos = specials[single[0]["SpecialToken"]["id"]]["ids"][0]
        eos = specials[single[2]["SpecialToken"]["id"]]["ids"][0]
        vocab = model["vocab"]
        pieces = {piece: i for i, (piece, _) in enumerate(vocab)}  # a repeated piece: the last id, as HF
        scores = [float(score) for _, score in vocab]
        return cls(
            pieces,
            scores,
            int(model["unk_id"]),
            int(bos),
            int(eos),
            char_map,
            isolate,
            meta.get("replacement", "\u2581"),
        )

    def encode(self, text: str) -> list[int]:
        """``<s>`` + the pieces of ``text`` + ``</s>``, special-looking text kept as text."""
        text = re.sub(" {2,}", " ", text.translate(self.char_map))
        if not text:
            return [self.bos_id, self.eos_id]  # HF prepends no ``▁`` to an empty text
        text = text.replace(" ", self.replacement)
        if not text.startswith(self.replacement):
            text = self.replacement + text
        ids = [self.bos_id]
        for word in self._words(text):
            ids += self._viterbi(word)
        ids.append(self.eos_id)
        return ids

    def _words(self, text: str) -> list[str]:
        """Metaspace split (each ``▁`` starts a word), then characters no piece contains isolated."""
        out: list[str] = []
        for word in re.split(f"(?={re.escape(self.replacement)})", text):
            if not word:
                continue
            if self.isolate is None:
                out.append(word)
                continue
            start = 0
            for m in self.isolate.finditer(word):
                if m.start() > start:
                    out.append(word[start : m.start()])
                out.append(m.group(0))
                start = m.end()
            if start < len(word):
                out.append(word[start:])
        return out

    def _viterbi(self, word: str) -> list[int]:
        """HF's ``encode_optimized``: best total score, ties to the first path found, unknowns fused."""
        n = len(word)
        best = [0.0] * (n + 1)
        start_of: list[int | None] = [None] * (n + 1)
        piece_of = [0] * (n + 1)
        pieces, scores, unk = self.pieces, self.scores, self.unk_id
        for i in range(n):
            here = best[i]
            single = False
            for j in range(i + 1, min(n, i + self.longest) + 1):
                pid = pieces.get(word[i:j])
                if pid is None:
                    continue
                score = scores[pid] + here
                if start_of[j] is None or score > best[j]:
                    best[j], start_of[j], piece_of[j] = score, i, pid
                if j == i + 1:
                    single = True
            if not single:
                score = self.unk_score + here
                if start_of[i + 1] is None or score > best[i + 1]:
                    best[i + 1], start_of[i + 1], piece_of[i + 1] = score, i, unk
        out: list[int] = []
        end = n
        while end > 0:
            begin = start_of[end]
            assert begin is not None
            pid = piece_of[end]
            if pid == unk:
                # consecutive unknowns become one token; if their text is a piece, that piece (as HF)
                stop = end
                while begin > 0 and piece_of[begin] == unk:
                    begin = start_of[begin]
                    assert begin is not None
                pid = pieces.get(word[begin:stop], unk)
            out.append(pid)
            end = begin
        out.reverse()
        return out


def _onig_to_python(pattern: str) -> str:
    r"""Oniguruma's ``\x{HHHH}`` escapes as Python's ``\U0000HHHH``; nothing else is translated."""
    if re.search(r"\\[pPhHRXK]|\(\?<[=!]|\\[gk]", pattern):
        raise ValueError("unsupported Oniguruma construct")
    return re.sub(r"\\x\{([0-9A-Fa-f]+)\}", lambda m: f"\\U{int(m.group(1), 16):08X}", pattern)
