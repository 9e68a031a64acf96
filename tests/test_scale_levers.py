"""The 100,000-item levers keep behaviour identical: vectorised filter masks, stored item token
counts, place/year sets instead of the joined corpus text, slotted and interned records, filtered
dense search through a FAISS selector.

A tiny hashing embedder stands in for the model; the synthetic documents come from bench.scale.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import shutil

import numpy as np
import pytest

from corpus import parse_text
from corpus.aliases import load_aliases, names_unit
from corpus.model import Item
from index.hybrid import Filters, HybridIndex, build_index, update_index
from index.store import count_item_df, read_item_df, read_item_df_by_doc
from qa.understand import _PLACE, _YEAR, Lexicon
from tests.support.fakes import HashEmbedder

# ----- the semantics before the levers, kept here as the reference ----------------------------------


def old_mask(index: HybridIndex, filters: Filters | None) -> np.ndarray | None:
    if filters is None or not filters.active():
        return None
    units = {v for u in filters.units for v in index.unit_variants(u)}
    keep = np.zeros(len(index.clauses), dtype=bool)
    for row, clause in enumerate(index.clauses):
        item = index.items[clause.item_id]
        if filters.doc_ids and clause.doc_id not in filters.doc_ids:
            continue
        if filters.kinds and clause.kind not in filters.kinds:
            continue
        if units and not any(names_unit(v, u) for u in clause.units for v in units):
            continue
        if filters.officials and not set(filters.officials) & set(clause.lead_officials or item.lead_officials):
            continue
        if filters.deadline and filters.deadline not in (clause.deadline or ""):
            continue
        keep[row] = True
    return keep


def old_items_matching(index: HybridIndex, filters: Filters) -> list[Item]:
    mask = old_mask(index, filters)
    seen: dict[str, Item] = {}
    for row, clause in enumerate(index.clauses):
        if mask is None or mask[row]:
            seen.setdefault(clause.item_id, index.items[clause.item_id])
    return list(seen.values())


def old_df(items, tokenizer) -> dict[str, int]:
    from corpus.normalize import normalize

    df: dict[str, int] = {}
    for item in items:
        text = item.norm + "".join(normalize(s) for s in item.section)
        for token in set(tokenizer(text)):
            df[token] = df.get(token, 0) + 1
    return df


def old_unknown_names(known_text: str, text: str) -> list[str]:
    out = []
    for m in _PLACE.finditer(text):
        name = m.group(0)
        if name not in known_text and name.rstrip("省市") not in known_text:
            out.append(name)
    for m in _YEAR.finditer(text):
        if m.group(0) not in known_text:
            out.append(m.group(0))
    return out


# ----- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic(doc000, doc004):
    from bench.scale import synthesize

    docs, _ = synthesize([doc000, doc004], 1500, seed=3)
    return docs


@pytest.fixture(scope="module", params=["bundled", "synthetic"])
def index(request, tmp_path_factory, doc000, doc004):
    docs = [doc000, doc004] if request.param == "bundled" else request.getfixturevalue("synthetic")
    folder = tmp_path_factory.mktemp(request.param) / "index"
    emb = HashEmbedder(32)
    build_index(folder, docs, emb, progress=False)
    return HybridIndex.load(folder, emb)


def filters_for(index: HybridIndex) -> list[Filters]:
    units = sorted({u for c in index.clauses for u in c.units})
    officials = sorted({o for i in index.items.values() for o in i.lead_officials})
    deadlines = sorted({c.deadline for c in index.clauses if c.deadline})
    doc_ids = sorted({c.doc_id for c in index.clauses})
    kinds = sorted({c.kind for c in index.clauses})
    aliases = sorted(load_aliases().names())
    out = [Filters(), Filters(doc_ids=("no-such-doc",)), Filters(units=("不存在的单位",)), Filters(officials=("无名氏",))]
    out += [Filters(units=(u,)) for u in units[:: max(1, len(units) // 40)]]
    out += [Filters(units=(a,)) for a in aliases[:: max(1, len(aliases) // 20)]]
    out += [Filters(units=("发展改革",)), Filters(units=("省发改委", "省教育厅"))]  # a fragment; two units
    out += [Filters(officials=(o,)) for o in officials]
    out += [Filters(officials=tuple(officials[:2]))]
    out += [Filters(deadline=d) for d in deadlines[:10]] + [Filters(deadline="年底"), Filters(deadline="2023")]
    out += [Filters(doc_ids=(d,)) for d in doc_ids[:5]] + [Filters(doc_ids=tuple(doc_ids[:3]))]
    out += [Filters(kinds=(k,)) for k in kinds] + [Filters(kinds=("project", "row"))]
    for u, o, d, k in itertools.islice(zip(units, itertools.cycle(officials or [""]), itertools.cycle(doc_ids),
                                             itertools.cycle(kinds), strict=False), 0, 30, 3):
        out.append(Filters(units=(u,), doc_ids=(d,)))
        out.append(Filters(officials=(o,), doc_ids=(d,), kinds=(k,)))
        out.append(Filters(units=(u,), deadline="年"))
    return out


# ----- masks and list questions --------------------------------------------------------------------------


def test_masks_are_identical_to_the_clause_loop(index):
    for f in filters_for(index):
        new, old = index.mask(f), old_mask(index, f)
        if old is None:
            assert new is None, f
        else:
            assert new.dtype == bool and np.array_equal(new, old), f


def test_items_matching_is_identical(index):
    for f in filters_for(index):
        assert [i.item_id for i in index.items_matching(f)] == [i.item_id for i in old_items_matching(index, f)], f


# ----- filtered dense search ----------------------------------------------------------------------------


def exact_top(index: HybridIndex, query: str, mask: np.ndarray, k: int) -> list[int]:
    vector = index.embedder.embed_queries([query])[0]
    rows = np.flatnonzero(mask)
    scores = np.asarray(index.embeddings)[rows] @ vector
    return [int(rows[i]) for i in np.argsort(-scores, kind="stable")[:k]]


@pytest.mark.parametrize("threshold", [50_000, 50])  # flat; IVF
def test_filtered_dense_search_matches_exact_scoring(tmp_path, doc000, doc004, threshold):
    emb = HashEmbedder(32)
    build_index(tmp_path / "index", [doc000, doc004], emb, ivf_threshold=threshold, progress=False)
    index = HybridIndex.load(tmp_path / "index", emb)
    kind = json.loads((tmp_path / "index" / "manifest.json").read_text(encoding="utf-8"))["dense"]
    assert kind == ("flat" if threshold > 10_000 else "ivf")
    for f in (Filters(doc_ids=(doc004.document.doc_id,)), Filters(units=("省发改委",)), Filters(kinds=("project",))):
        mask = index.mask(f)
        for query in ("农村公路新改建", "5G基站建设", "养老服务"):
            got = index.dense_scores(query, 20, mask)
            assert got and all(mask[r] for r in got)
            ranked = [r for r, _ in sorted(got.items(), key=lambda kv: (-kv[1], kv[0]))]
            want = exact_top(index, query, mask, 20)
            if kind == "flat":
                assert ranked[:10] == want[:10], (f, query)
            else:  # IVF probes every list under a filter: exact but for float16 rounding
                assert ranked[0] == want[0] and len(set(ranked) & set(want)) >= 18, (f, query)
            # as many candidates as pass, even when the lists nearest the query hold none of them
            assert len(got) == min(20, int(mask.sum()))
    assert index.dense_scores("养老服务", 20, np.zeros(len(index.clauses), dtype=bool)) == {}


# ----- item token counts stored with the index ------------------------------------------------------------


def assert_counts_current(folder, emb) -> None:
    index = HybridIndex.load(folder, emb)
    stored = read_item_df(index.folder)
    assert stored is not None
    assert stored[0] == len(index.items)
    assert stored[1] == old_df(index.items.values(), index.tokenizer)
    by_doc = read_item_df_by_doc(index.folder)
    assert set(by_doc) == {d.doc_id for d in index.documents}
    for doc_id, (n, df) in by_doc.items():
        items = [i for i in index.items.values() if i.doc_id == doc_id]
        assert n == len(items) and df == old_df(items, index.tokenizer)


def small_doc(doc_id: str, body: str):
    return parse_text(f"{doc_id}市人民政府办公室关于印发重点工作的通知\n一、总体\n{body}", doc_id)


def test_item_counts_are_stored_and_kept_current_by_updates(tmp_path, monkeypatch):
    emb = HashEmbedder(32)
    folder = tmp_path / "index"
    a = small_doc("甲", "1．建成公园10个。（责任单位：市建设局）\n2．新增学位500个。（责任单位：市教育局）")
    b = small_doc("乙", "1．新建道路20公里。（责任单位：市交通局）")
    build_index(folder, [a, b], emb, progress=False)
    assert_counts_current(folder, emb)

    import index.store as store

    tokenised: list[str] = []
    real = store.count_item_df

    def counting(items, tokenizer):
        items = list(items)
        tokenised.extend(i.doc_id for i in items)
        return real(items, tokenizer)

    monkeypatch.setattr(store, "count_item_df", counting)
    # replace 甲 with the same units: only 甲's items are tokenised again
    update_index(folder, emb, add=[small_doc("甲", "1．建成公园30个。（责任单位：市建设局）\n"
                                               "2．新增学位800个。（责任单位：市教育局）")])
    assert set(tokenised) == {"甲"}
    assert_counts_current(folder, emb)
    # a new unit changes the user dictionary, but only for the texts that contain it: no other
    # document names 市能源局
    tokenised.clear()
    update_index(folder, emb, add=[small_doc("丙", "1．建设充电桩100个。（责任单位：市能源局）")])
    assert set(tokenised) == {"丙"}
    assert_counts_current(folder, emb)
    # 己's unit is written in 甲's heading (甲市人民政府办公室关于印发…): 甲 is counted again, 乙 and 丙 are not
    tokenised.clear()
    update_index(folder, emb, add=[small_doc("己", "1．督办落实。（责任单位：甲市人民政府办公室）")])
    assert set(tokenised) == {"己", "甲"}
    assert_counts_current(folder, emb)
    update_index(folder, emb, delete=["乙"])
    assert_counts_current(folder, emb)


def test_lexicon_from_stored_counts_equals_lexicon_from_tokenising(index):
    titles = [d.title for d in index.documents]
    stored = Lexicon.from_items(index.items.values(), index.aliases, index.tokenizer, titles, item_df=index.item_df)
    counted = Lexicon.from_items(index.items.values(), index.aliases, index.tokenizer, titles)
    assert index.item_df is not None
    assert stored == counted
    assert counted.df == old_df(index.items.values(), index.tokenizer)
    # counts made over other items are not trusted
    other = Lexicon.from_items(list(index.items.values())[:-1], index.aliases, index.tokenizer, titles,
                               item_df=index.item_df)
    assert other.df == old_df(list(index.items.values())[:-1], index.tokenizer)


def test_an_index_without_stored_counts_still_loads(tmp_path, doc004):
    from corpus.config import Config
    from qa.service import PolicyQA

    emb = HashEmbedder(32)
    config = Config(data_dir=tmp_path)
    build_index(config.index_dir, [doc004], emb, progress=False)
    with_counts = PolicyQA(config, emb).load()
    question = "农村公路新改建的目标是多少？"
    expected = with_counts.ask(question)
    folder = config.index_dir.resolve()
    (folder / "item_df.json").unlink()
    (folder / "item_df_by_doc.jsonl").unlink()
    without = PolicyQA(config, emb).load()
    assert without.index.item_df is None
    assert without.snapshot.lexicon == with_counts.snapshot.lexicon
    assert without.ask(question) == expected


def test_count_item_df_per_document(doc000, doc004):
    from index.tokenize import ChineseTokenizer

    tok = ChineseTokenizer()
    by_doc = count_item_df([*doc000.items, *doc004.items], tok)
    assert by_doc[doc004.document.doc_id][0] == len(doc004.items)
    assert by_doc[doc000.document.doc_id][1] == old_df(doc000.items, tok)


# ----- places and years -----------------------------------------------------------------------------------


def test_unknown_places_and_years_as_before(index):
    from corpus.normalize import normalize

    lexicon = Lexicon.from_items(index.items.values(), index.aliases, None, [d.title for d in index.documents])
    known_text = "\n".join([normalize(d.title) for d in index.documents] +
                           [i.norm + "".join(normalize(s) for s in i.section) for i in index.items.values()])
    questions = [
        "北京市的5G基站建设目标是多少？", "浙江省2023年新建多少公里高速公路？", "广东省有哪些重点项目？",
        "2019年的目标是什么", "2035年远景目标", "1998年", "杭州市的充电桩", "成渝地区双城经济圈建设",
        "上海和江苏的合作项目", "内蒙古自治区2024年", "粤港澳大湾区", "宁波舟山港", "2025年底前完成",
        "衢州市2018年", "深圳市人民政府2020年", "黑龙江省", "西安市的任务",
    ]
    for q in questions:
        assert lexicon.unknown_names(normalize(q)) == old_unknown_names(known_text, normalize(q)), q


# ----- records ----------------------------------------------------------------------------------------------


def test_records_are_slotted_and_share_repeated_values(index):
    items = list(index.items.values())
    assert not hasattr(items[0], "__dict__") and not hasattr(index.clauses[0], "__dict__")
    clause = index.clauses[0]
    item = index.items[clause.item_id]
    assert clause.item_id is item.item_id and clause.doc_id is item.doc_id
    same_doc = [i for i in items if i.doc_id == item.doc_id]
    assert all(i.doc_id is item.doc_id for i in same_doc)
    sections = {}
    for c in index.clauses:
        assert sections.setdefault(c.section, c.section) is c.section  # one tuple per distinct section
    # what relies on dataclass machinery still works
    changed = dataclasses.replace(item, text="x")
    assert changed.text == "x" and changed.item_id == item.item_id
    assert item.to_dict()["item_id"] == item.item_id and clause.to_dict()["text"] == clause.text
    assert item == dataclasses.replace(item) and hash(clause) == hash(dataclasses.replace(clause))


def test_old_format_folder_copy_loads(tmp_path, index):
    """An index copied without the new files (an older build) loads and answers list questions."""
    copy = tmp_path / "copy"
    shutil.copytree(index.folder, copy)
    for name in ("item_df.json", "item_df_by_doc.jsonl"):
        (copy / name).unlink()
    old = HybridIndex.load(copy, index.embedder)
    assert old.item_df is None
    f = Filters(units=(sorted({u for c in index.clauses for u in c.units})[0],))
    assert [i.item_id for i in old.items_matching(f)] == [i.item_id for i in index.items_matching(f)]
