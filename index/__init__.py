"""Retrieval backends: BM25 over jieba tokens and dense vectors, persisted as index versions."""

import logging

# faiss's loader reports at INFO each CPU build it tries before the one that loads (AVX512, AVX2):
# noise to the user, whose machine is fine
logging.getLogger("faiss.loader").setLevel(logging.WARNING)
