"""The Milvus backend (index.milvus) on milvus-lite: the same candidates as the local backend, filters as
Milvus expressions, updates in place, a rebuild behind an alias. The qa and API tests also run on it:
POLICYQA_BACKEND=milvus pytest tests/test_qa.py tests/test_api.py (see .ci/run)."""

from __future__ import annotations

import dataclasses
import json

import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from corpus import parse_text  # noqa: E402
from corpus.config import Config  # noqa: E402
from index.errors import IndexUnavailable  # noqa: E402
from index.hybrid import Filters  # noqa: E402
from qa.service import PolicyQA  # noqa: E402
from tests.support.fakes import HashEmbedder  # noqa: E402

QUESTIONS = (
    "农村公路新改建由谁牵头？",
    "5G基站建设目标是多少？",
    "王文序副省长牵头哪些重点工作？",
    "火星基地建设目标是多少？",
    "杭衢铁路建德至衢州段总投资多少？",
    "省统计局负责哪些任务",
    "义新欧班列开行目标是多少？",
    "养老服务照料中心由谁牵头？",
)
NEW_DOC = ("某市人民政府办公室关于印发2024年重点工作任务分工方案的通知\n一、重点任务\n"
           "1.建设城市书房一百家，推进全民阅读。（责任单位：市文化广电旅游局）\n"
           "2.新建充电桩3000个。（责任单位：市发展改革委、市住房城乡建设局）\n")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The bundled corpus on the local backend and on milvus-lite, with the same fake embedder."""
    root = tmp_path_factory.mktemp("backends")
    embedder = HashEmbedder(64)
    local = PolicyQA(Config(data_dir=root / "local", model_dir=root / "no-model"), embedder)
    local.build(progress=False)
    milvus = PolicyQA(Config(data_dir=root / "milvus", model_dir=root / "no-model", backend="milvus"), embedder)
    milvus.build(progress=False)
    return local, milvus


def test_the_collection_holds_every_clause_and_the_alias_points_at_it(pair):
    _, milvus = pair
    store = milvus._milvus
    client = store.client
    assert store.synced_version() == milvus.index.folder.name
    collection = client.describe_alias("policyqa")["collection_name"]
    assert client.get_collection_stats(collection)["row_count"] == len(milvus.index.clauses)
    state = json.loads(store.state_path.read_text(encoding="utf-8"))
    assert state == {"collection": collection, "version": milvus.index.folder.name}


def test_answers_match_the_local_backend(pair):
    local, milvus = pair
    for question in QUESTIONS:
        a, b = local.ask(question), milvus.ask(question)
        assert (a.found, a.answer) == (b.found, b.answer), question


@pytest.mark.parametrize("filters", [
    Filters(units=("省发改委",)),  # an alias: 省发展改革委 and the lists that name it
    Filters(kinds=("project",)),
    Filters(doc_ids=("004_da63b5862d0a4b52",)),
    None,  # a deadline the corpus states (the first one)
    Filters(officials=("王文序",)),
], ids=["unit-alias", "kind", "document", "deadline", "official"])
def test_filtered_candidates_are_the_rows_the_local_mask_passes(pair, filters):
    local, milvus = pair
    if filters is None:
        filters = Filters(deadline=next(c.deadline for c in local.index.clauses if c.deadline))
    mask = local.index.mask(filters)
    passing = {c.clause_id for c, keep in zip(local.index.clauses, mask, strict=True) if keep}
    assert passing
    found = milvus.index.candidates("建设", filters, "hybrid", 50)
    rows = set(found.keyword or ()) | set(found.dense or ())
    assert rows and {milvus.index.clauses[r].clause_id for r in rows} <= passing


def test_a_filter_nothing_passes_returns_nothing(pair):
    _, milvus = pair
    found = milvus.index.candidates("建设", Filters(units=("不存在的单位",)), "hybrid", 20)
    assert found.keyword == [] and found.dense == []


def test_a_part_filter_is_the_document_section(pair):
    local, milvus = pair
    clause = next(c for c in local.index.clauses if c.section)
    filters = Filters(parts=((clause.doc_id, clause.section[0]),))
    found = milvus.index.candidates(clause.text[:12], filters, "bm25", 30)
    assert found.keyword
    assert all(milvus.index.clauses[r].section[0] == clause.section[0] for r in found.keyword)


def test_add_replace_delete_change_the_collection_in_place(tmp_path):
    svc = PolicyQA(Config(data_dir=tmp_path / "m", model_dir=tmp_path / "no-model", backend="milvus"),
                   HashEmbedder(32))
    svc.build(progress=False)
    client = svc._milvus.client
    collection = client.describe_alias("policyqa")["collection_name"]
    before = len(svc.index.clauses)
    svc.ingest_bytes(NEW_DOC.encode(), "city2024", "city2024.txt")
    assert client.describe_alias("policyqa")["collection_name"] == collection  # in place, no rebuild
    answer = svc.ask("新建充电桩由哪些单位负责？")
    assert answer.found and "市住房城乡建设局" in answer.answer
    replaced = NEW_DOC.replace("市发展改革委、市住房城乡建设局", "市城市管理局")
    svc.apply([parse_text(replaced, "city2024")], [])
    assert "市城市管理局" in svc.ask("新建充电桩由哪些单位负责？").answer
    stored = client.query("policyqa", filter='doc_id == "city2024"', output_fields=["cid", "units"])
    assert {tuple(r["units"]) for r in stored} == {("市文化广电旅游局",), ("市城市管理局",)}
    svc.delete("city2024")
    assert not client.query("policyqa", filter='doc_id == "city2024"', output_fields=["cid"])
    assert client.get_collection_stats(collection)["row_count"] == before == len(svc.index.clauses)
    assert all(c.item_id.split(":")[0] != "city2024" for c in svc.ask("新建充电桩由哪些单位负责？").citations)


def test_a_rebuild_moves_the_alias_and_drops_the_old_collection(tmp_path):
    svc = PolicyQA(Config(data_dir=tmp_path / "m", model_dir=tmp_path / "no-model", backend="milvus"),
                   HashEmbedder(32))
    svc.build(progress=False)
    client = svc._milvus.client
    first = client.describe_alias("policyqa")["collection_name"]
    svc.build(progress=False)
    second = client.describe_alias("policyqa")["collection_name"]
    assert second != first and client.list_collections() == [second]


def test_without_pymilvus_the_error_says_what_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pymilvus", None)
    svc = PolicyQA(Config(data_dir=tmp_path / "m", model_dir=tmp_path / "no-model", backend="milvus"),
                   HashEmbedder(32))
    with pytest.raises(IndexUnavailable, match=r"pip install 'policyqa\[milvus\]'"):
        svc.build(progress=False)


def test_the_backend_is_chosen_by_configuration():
    from corpus.config import load_config

    config = load_config({"POLICYQA_BACKEND": "milvus", "POLICYQA_MILVUS_URI": "http://10.0.0.5:19530",
                          "POLICYQA_MILVUS_TOKEN": "root:Milvus"})
    assert (config.backend, config.milvus_address, config.milvus_token) == \
        ("milvus", "http://10.0.0.5:19530", "root:Milvus")
    assert dataclasses.replace(config, milvus_uri=None).milvus_address.endswith("milvus.db")
    with pytest.raises(ValueError, match="POLICYQA_BACKEND"):
        load_config({"POLICYQA_BACKEND": "elastic"})
