"""policyqa's MCP server, driven by the official `mcp` SDK's own client: over stdio (`policyqa mcp`
as a child process over the shared test index) and over streamable HTTP (mounted at /mcp/ on a real
uvicorn server, behind the read key)."""

from __future__ import annotations

import dataclasses
import os
import sys
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from api.app import create_app
from tests.servers import serve

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

TOOLS = {"ask", "search", "tasks", "get_item", "list_documents"}
READ_KEY = "mcp-read-key-0123"


async def _exercise(session: ClientSession) -> dict:
    await session.initialize()
    listed = await session.list_tools()
    out = {"tools": {t.name: t for t in listed.tools}}
    out["ask"] = await session.call_tool("ask", {"question": "农村公路新改建由谁牵头？"})
    out["refusal"] = await session.call_tool("ask", {"question": "火星基地建设目标是多少？"})
    out["search"] = await session.call_tool("search", {"query": "5G基站", "limit": 5})
    out["tasks"] = await session.call_tool("tasks", {"unit": "省经信厅", "role": "lead", "limit": 5})
    out["docs"] = await session.call_tool("list_documents", {})
    first = out["ask"].structuredContent["citations"][0]["item_id"]
    out["item"] = await session.call_tool("get_item", {"item_id": first})
    out["missing"] = await session.call_tool("get_item", {"item_id": "没有"})
    out["follow"] = await session.call_tool("ask", {"question": "目标是多少？", "history": [
        {"role": "user", "content": "农村公路新改建由谁牵头？"},
        {"role": "assistant", "content": out["ask"].structuredContent["answer"]}]})
    return out


def _check(out: dict, service) -> None:
    tools = out["tools"]
    assert set(tools) == TOOLS
    assert all(t.description and t.outputSchema for t in tools.values())
    assert "question" in tools["ask"].inputSchema["properties"]
    ask = out["ask"].structuredContent
    assert ask["found"] and "张家胜" in ask["lead_officials"] and "省交通运输厅" in ask["units"]
    assert "浙政办发〔2023〕6号" in ask["citations"][0]["ref"]
    refusal = out["refusal"].structuredContent
    assert refusal["found"] is False and refusal["answer"].startswith("未找到") and refusal["citations"] == []
    hits = out["search"].structuredContent["results"]
    assert hits and all("5G" in h["text"] for h in hits)
    tasks = out["tasks"].structuredContent
    expected = {u["unit"]: u for u in service.units()}
    assert 0 < tasks["total"] < expected["省经信厅"]["items"] and len(tasks["tasks"]) == 5
    assert all(any("经信厅" in u for u in t["lead_units"]) for t in tasks["tasks"])
    docs = out["docs"].structuredContent["result"]
    assert {d["doc_id"] for d in docs} == {d.doc_id for d in service.index.documents}
    item = out["item"].structuredContent
    assert item["item_id"] == ask["citations"][0]["item_id"] and "省交通运输厅" in item["units"]
    assert out["missing"].isError and "没有条目" in out["missing"].content[0].text
    follow = out["follow"].structuredContent
    assert follow["citations"][0]["item_id"] == item["item_id"] and any("1000" in t for t in follow["targets"])


def test_over_stdio(service):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}  # from any working directory
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "api.cli", "--data-dir", str(service.config.data_dir), "--model-dir",
              str(service.config.model_dir), "mcp"],
        env=env)

    async def run() -> dict:
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write, read_timeout_seconds=timedelta(seconds=120)) as session:
                return await _exercise(session)

    _check(anyio.run(run), service)


def test_over_streamable_http_behind_the_read_key(service):
    config = dataclasses.replace(service.config, api_key=None, read_key=READ_KEY)
    with serve(create_app(config, service)) as base:
        async def run(headers: dict) -> dict:
            import httpx

            async with httpx.AsyncClient(headers=headers, timeout=60) as http:
                async with streamable_http_client(f"{base}/mcp/", http_client=http) as (read, write, _):
                    async with ClientSession(read, write) as session:
                        return await _exercise(session)

        _check(anyio.run(run, {"Authorization": f"Bearer {READ_KEY}"}), service)
        import httpx

        r = httpx.post(f"{base}/mcp/", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                       headers={"Accept": "application/json, text/event-stream"})
        assert r.status_code == 401 and "密钥" in r.json()["detail"]
