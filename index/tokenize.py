"""Chinese tokens for BM25: jieba in search mode, with a user dictionary from the corpus."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

from corpus.normalize import normalize

_KEEP = re.compile(r"[\w%]", re.UNICODE)
_STOP = frozenset("的 和 与 及 等 在 对 为 是 了 并 将 把 由 从 以 于 其 之 或 各 按 有 要 个 年 哪些 什么 哪个 谁 多少 吗 呢 ？ 如何 怎么".split())


class ChineseTokenizer:
    """jieba search-mode tokens over the normalised form (full-width and half-width alike)."""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self.user_words = tuple(sorted(dictionary_words(user_words)))
        self._jieba.check_initialized()
        base_total = self._jieba.total
        for word in self.user_words:
            self._jieba.add_word(word, freq=2000)
        # jieba weighs every word of a cut by log(total): left to grow with the user words, one more unit
        # name could cut any text differently. Kept at the dictionary's own total, a word changes only
        # the texts that contain it, so that an update re-tokenises only those (index.store)
        self._jieba.total = base_total

    def is_word(self, token: str) -> bool:
        """A dictionary word (or a code like PM10), not a fragment the HMM cut out of unknown text."""
        self._jieba.check_initialized()
        return bool(re.search(r"[a-z0-9]", token.lower())) or self._jieba.FREQ.get(token, 0) > 0

    def words(self, text: str) -> list[str]:
        """The text cut into words once, without the overlapping sub-words of search mode: "确保重点保障"
        is 确保 / 重点 / 保障, never 保重."""
        norm = normalize(text).lower()
        return [t.strip() for t in self._jieba.cut(norm) if t.strip() and _KEEP.search(t) and t.strip() not in _STOP]

    def __call__(self, text: str) -> list[str]:
        norm = normalize(text).lower()
        tokens = []
        for token in self._jieba.cut_for_search(norm):
            token = token.strip()
            if token and _KEEP.search(token) and token not in _STOP:
                tokens.append(token)
        return tokens


def dictionary_words(words: Iterable[str]) -> frozenset[str]:
    """The user words as the tokenizer adds them to jieba's dictionary (normalised, two characters or more)."""
    return frozenset(w for w in (normalize(x) for x in words) if len(w) >= 2)


def words_finder(words: Iterable[str]) -> Callable[[str], bool]:
    """A test of whether any of the (normalised) dictionary `words` occurs in a text as the tokenizer sees
    it (normalised, lower case): only then can adding or removing them change the text's tokens."""
    alternatives = sorted({w.lower() for w in words}, key=len, reverse=True)
    if not alternatives:
        return lambda text: False
    pattern = re.compile("|".join(map(re.escape, alternatives)))
    return lambda text: pattern.search(normalize(text).lower()) is not None


def user_words_from_items(items: Iterable) -> set[str]:
    """Unit names and officials found in parsed items.

    Project names are left out on purpose: as one long dictionary word, "沪苏湖铁路(浙江段)" would
    stop matching a question that writes "沪苏湖铁路浙江段".
    """
    words: set[str] = set()
    for item in items:
        words.update(item.units)
        words.update(item.lead_officials)
    return words
