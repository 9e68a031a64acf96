"""The hybrid index: BM25 on Chinese phrases, fusion, filters, persistence, incremental updates.

A tiny hashing embedder stands in for the model: the model is not the subject here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from corpus import parse_text
from index.errors import IndexUnavailable
from index.hybrid import Filters, HybridIndex, build_index, update_index
from index.tokenize import ChineseTokenizer
from qa.fusion import reciprocal_rank_fusion
from qa.ranking import rank
from tests.support.fakes import HashEmbedder


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(32)
        self.passages = 0

    def embed_passages(self, texts):
        self.passages += len(texts)
        return super().embed_passages(texts)


@pytest.fixture(scope="module")
def built(tmp_path_factory, doc000, doc004):
    root = tmp_path_factory.mktemp("idx")
    emb = HashEmbedder(64)
    build_index(root / "index", [doc000, doc004], emb, progress=False)
    return root / "index", emb


def small_doc(doc_id: str, body: str):
    return parse_text(f"{doc_id}市人民政府办公室关于印发重点工作的通知\n一、总体\n{body}", doc_id)


class TestFusion:
    def test_rrf_scores_and_ties(self):
        fused = reciprocal_rank_fusion([[3, 1, 2], [1, 3]], k=60)
        assert [d for d, _ in fused] == [1, 3, 2]  # 1 and 3 tie; the smaller id comes first
        assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)

    def test_deterministic_and_pure(self):
        rankings = [[5, 4, 3], [3, 9]]
        boosts = {9: 0.5}
        first = reciprocal_rank_fusion(rankings, boosts=boosts)
        assert first == reciprocal_rank_fusion(rankings, boosts=boosts)
        assert rankings == [[5, 4, 3], [3, 9]] and boosts == {9: 0.5}
        assert first[0][0] == 9


class TestTokenizer:
    def test_user_words_and_width(self):
        tok = ChineseTokenizer(["省交通运输厅"])
        assert "省交通运输厅" in tok("由省交通运输厅负责")
        assert tok("５Ｇ基站") == tok("5G基站")


class TestRetrieval:
    def test_bm25_exact_phrase(self, built):
        index = HybridIndex.load(built[0], built[1])
        hits = rank(index, "杭衢铁路建德至衢州段", mode="bm25", top_k=3)
        assert "杭衢铁路建德至衢州段" in hits[0].clause.text

    def test_unit_filter_is_alias_aware(self, built):
        index = HybridIndex.load(built[0], built[1])
        hits = rank(index, "规划", filters=Filters(units=("省发改委",)), top_k=20)
        assert hits and all(any("省发展改革委" in u for u in h.clause.units) for h in hits)

    def test_official_filter(self, built):
        index = HybridIndex.load(built[0], built[1])
        items = index.items_matching(Filters(officials=("王文序",)))
        assert len(items) == 8  # 3 + 3 numbered items, and the 养老帮困 and 便民服务 方面

    def test_hybrid_is_deterministic(self, built):
        index = HybridIndex.load(built[0], built[1])
        a = [(h.clause.clause_id, h.score) for h in rank(index, "5G基站建设", top_k=10)]
        # a second index over the same folder (fresh tables, caches and tokenizer) ranks the same
        again = HybridIndex.load(built[0], built[1])
        b = [(h.clause.clause_id, h.score) for h in rank(again, "5G基站建设", top_k=10)]
        assert a == b


class TestRanking:
    """qa ranks what the index retrieves: the channels' candidates, fused, boosted by named weights."""

    def test_the_index_returns_candidates_per_channel(self, built):
        index = HybridIndex.load(built[0], built[1])
        found = index.candidates("农村公路新改建", mode="bm25")
        assert found.dense is None and found.keyword
        assert "农村公路" in index.clauses[found.keyword[0]].norm
        both = index.candidates("农村公路新改建")
        assert both.dense and both.keyword == found.keyword

    def test_a_named_weight_changes_the_ranking(self, built):
        from qa.ranking import Evidence, RankingWeights

        index = HybridIndex.load(built[0], built[1])
        evidence = Evidence(units=("省体育局",))
        plain = rank(index, "全民健身", top_k=10, evidence=evidence, weights=RankingWeights(unit=0.0))
        assert "省体育局" not in plain[1].clause.units
        favoured = rank(index, "全民健身", top_k=10, evidence=evidence, weights=RankingWeights(unit=1.0))
        assert all("省体育局" in h.clause.units for h in favoured[:2])


class TestPersistence:
    def test_round_trip(self, built, doc000, doc004):
        folder, emb = built
        index = HybridIndex.load(folder, emb)
        assert len(index.clauses) == len(doc000.clauses) + len(doc004.clauses)
        assert index.items[doc004.items[5].item_id] == doc004.items[5]
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["model"] == emb.name and manifest["dimension"] == 64
        assert manifest["counts"]["items"] == len(doc000.items) + len(doc004.items)
        assert isinstance(index.embeddings, np.memmap)
        assert not list(folder.rglob("*.pkl")) and not list(folder.rglob("*.pickle"))

    def test_mismatched_model_is_refused(self, built):
        with pytest.raises(IndexUnavailable, match="built with model"):
            HybridIndex.load(built[0], HashEmbedder(16))

    def test_missing_index(self, tmp_path):
        with pytest.raises(IndexUnavailable, match="policyqa build"):
            HybridIndex.load(tmp_path / "nothing", HashEmbedder(16))

    @pytest.mark.parametrize(("change", "message"), [
        ({"format_version": 1}, "has format 1.*policyqa build"),
        ({"counts": None}, "damaged.*policyqa build"),
    ])
    def test_an_older_or_damaged_manifest_is_refused(self, built, tmp_path, change, message):
        import shutil

        copy = tmp_path / "index"
        shutil.copytree(built[0].resolve(), copy)
        manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
        manifest.update(change)
        (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        with pytest.raises(IndexUnavailable, match=message):
            HybridIndex.load(copy, built[1])


class TestIncremental:
    def test_replace_one_document_leaves_the_others(self, tmp_path):
        emb = CountingEmbedder()
        a = small_doc("甲", "1．建成公园10个。（责任单位：市建设局）\n2．新增学位500个。（责任单位：市教育局）")
        b = small_doc("乙", "1．新建道路20公里。（责任单位：市交通局）")
        folder = tmp_path / "index"
        build_index(folder, [a, b], emb, progress=False)
        before = HybridIndex.load(folder, emb)
        b_rows = {c.clause_id: before.embeddings[i].copy() for i, c in enumerate(before.clauses) if c.doc_id == "乙"}
        emb.passages = 0
        a2 = small_doc("甲", "1．建成公园30个。（责任单位：市园林局）")
        update_index(folder, emb, add=[a2])
        assert emb.passages == len(a2.clauses)  # only the new version was embedded
        after = HybridIndex.load(folder, emb)
        assert {c.doc_id for c in after.clauses} == {"甲", "乙"}
        assert all("公园30个" in c.text or c.doc_id == "乙" for c in after.clauses)
        for i, c in enumerate(after.clauses):
            if c.doc_id == "乙":
                np.testing.assert_array_equal(after.embeddings[i], b_rows[c.clause_id])
        update_index(folder, emb, delete=["甲"])
        assert {c.doc_id for c in HybridIndex.load(folder, emb).clauses} == {"乙"}

    def test_failure_midway_leaves_index_as_it_was(self, tmp_path):
        emb = HashEmbedder(32)
        folder = tmp_path / "index"
        build_index(folder, [small_doc("甲", "1．建成公园10个。（责任单位：市建设局）")], emb, progress=False)
        before = Path(folder).resolve()

        def boom():
            raise RuntimeError("injected failure")

        with pytest.raises(RuntimeError):
            update_index(folder, emb, add=[small_doc("乙", "1．新建道路。（责任单位：市交通局）")],
                         fail_after_embedding=boom)
        assert Path(folder).resolve() == before
        index = HybridIndex.load(folder, emb)
        assert {c.doc_id for c in index.clauses} == {"甲"}


def test_approximate_index_above_the_threshold(tmp_path, doc004):
    emb = HashEmbedder(32)
    folder = tmp_path / "index"
    build_index(folder, [doc004], emb, ivf_threshold=50, progress=False)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["dense"] == "ivf"
    index = HybridIndex.load(folder, emb)
    exact = np.asarray(index.embeddings) @ emb.embed_queries(["农村公路新改建"])[0]
    hits = rank(index, "农村公路新改建", mode="dense", top_k=5)
    # the approximate index finds the exact nearest clause
    assert hits[0].clause.clause_id == index.clauses[int(np.argmax(exact))].clause_id


def _same_tokens_as_a_fresh_build(updated: Path, parsed, tmp_path: Path) -> None:
    """The update's tokens, item token counts and BM25 arrays are those of a build from scratch of the
    same documents in the same order."""
    import bm25s

    from index.store import read_clause_tokens, read_item_df, read_item_df_by_doc, resolve_index

    fresh = build_index(tmp_path / "fresh" / "index", parsed, HashEmbedder(32), progress=False)
    updated = resolve_index(updated)
    for records in ("documents.jsonl", "items.jsonl", "clauses.jsonl"):  # copied lines, serialised ones
        assert (updated / records).read_text(encoding="utf-8") == (fresh / records).read_text(encoding="utf-8")
    assert read_clause_tokens(updated) == read_clause_tokens(fresh)
    assert read_item_df(updated) == read_item_df(fresh)
    assert read_item_df_by_doc(updated) == read_item_df_by_doc(fresh)
    a, b = (bm25s.BM25.load(str(f / "bm25")) for f in (updated, fresh))
    assert a.vocab_dict == b.vocab_dict
    for key in b.scores:
        np.testing.assert_array_equal(np.asarray(a.scores[key]), np.asarray(b.scores[key]))


class TestUpdateCostsWhatTheDocumentCosts:
    """An update re-tokenises the new document and the clauses that contain a dictionary word it brings
    or takes away, and nothing else — and the result is the fresh build's, token for token."""

    def test_add_replace_delete_equal_a_fresh_build(self, tmp_path, monkeypatch):
        from corpus import parse_file
        from tests.conftest import genre_path

        liaoning = parse_file(genre_path("ncp_liaoning_zxqy_2020.txt"))
        xiangtan = parse_file(genre_path("ncp_xiangtan_zxqy_2020.txt"))
        # its unit 省中小企业公共服务平台 is a new dictionary word that occurs in one of 辽宁's clauses
        platform = small_doc("丙", "1．建成企业服务专区。（责任单位：省中小企业公共服务平台）")
        assert "省中小企业公共服务平台" in platform.items[0].units
        folder = tmp_path / "index"
        emb = HashEmbedder(32)
        build_index(folder, [liaoning, xiangtan], emb, progress=False)

        calls = []
        original = ChineseTokenizer.__call__
        monkeypatch.setattr(ChineseTokenizer, "__call__", lambda self, text: calls.append(text) or original(self, text))
        update_index(folder, emb, add=[platform])
        monkeypatch.undo()
        texts = {t for t in calls}
        # 湘潭 names no such word: none of its text was tokenised again
        assert not any(i.norm[:30] in t for i in xiangtan.items for t in texts)
        # of 辽宁, the one clause with the word (BM25), and its items' counts (kept per document)
        assert sum("8890热线" in t for t in texts) >= 1
        bm25_calls = len(calls) - len(platform.items) - len(liaoning.items)
        assert len(platform.clauses) < bm25_calls <= len(platform.clauses) + 5 < len(liaoning.clauses)
        _same_tokens_as_a_fresh_build(folder, [liaoning, xiangtan, platform], tmp_path / "a")

        update_index(folder, emb, add=[liaoning])  # a replacement goes to the end
        _same_tokens_as_a_fresh_build(folder, [xiangtan, platform, liaoning], tmp_path / "b")
        update_index(folder, emb, delete=["丙"])  # the word goes away again
        _same_tokens_as_a_fresh_build(folder, [xiangtan, liaoning], tmp_path / "c")


def test_a_dictionary_word_changes_only_the_texts_that_contain_it(doc000, doc004):
    texts = [c.text for c in doc000.clauses + doc004.clauses]
    # thousands of unit names, as a big corpus brings: none occurs in these texts
    many = [f"{a}{b}{c}{d}{e}" for a in "甲乙丙丁戊己庚辛壬癸" for b in "子丑寅卯辰巳午未申酉戌亥" for c in "金木水火土风雷"
            for d in "一二三四五六七八九十" for e in "局委办"]
    plain, crowded = ChineseTokenizer([]), ChineseTokenizer(many)
    assert len(crowded.user_words) > 25_000
    assert [plain(t) for t in texts] == [crowded(t) for t in texts]
    assert [plain.words(t) for t in texts] == [crowded.words(t) for t in texts]


def test_an_update_keeps_the_trained_ivf_and_finds_every_clause(tmp_path, doc004):
    """Above the size threshold an update keeps the IVF's training: it removes the dropped rows,
    renumbers the kept ones and adds the new, and every clause is still found as itself."""
    import faiss

    from index.store import resolve_index

    emb = HashEmbedder(32)
    folder = tmp_path / "index"
    extra = small_doc("乙", "1．新建道路20公里。（责任单位：市交通局）\n2．建成公园10个。（责任单位：市建设局）")
    build_index(folder, [extra, doc004], emb, ivf_threshold=50, progress=False)

    def centroids(path: Path) -> np.ndarray:
        ivf = faiss.read_index(str(resolve_index(path) / "dense.faiss"))
        return ivf.quantizer.reconstruct_n(0, ivf.nlist)

    trained = centroids(folder)
    # 乙's rows come first: deleting it moves every 004 row; the replacement goes to the end
    update_index(folder, emb, add=[small_doc("乙", "1．新建道路30公里。（责任单位：市交通局）")], ivf_threshold=50)
    update_index(folder, emb, add=[small_doc("丙", "1．新增学位500个。（责任单位：市教育局）")], ivf_threshold=50)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["dense"] == "ivf" and manifest["dense_trained_on"] == len(doc004.clauses) + len(extra.clauses)
    np.testing.assert_array_equal(centroids(folder), trained)  # not trained again
    index = HybridIndex.load(folder, emb)
    assert index.dense.ntotal == len(index.clauses)
    index.dense.nprobe = index.dense.nlist  # exact, to test the numbering and not the approximation
    _, rows = index.dense.search(np.ascontiguousarray(index.embeddings, dtype=np.float32), 1)
    for row, found in enumerate(rows[:, 0]):
        assert found == row or np.allclose(index.embeddings[found], index.embeddings[row], atol=1e-3), row
