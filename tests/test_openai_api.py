"""The OpenAI-compatible chat API, driven by the official `openai` client against a real uvicorn
server on loopback (the shared service: real model, bundled corpus), plain and streamed; follow-up
questions resolved from the history, on /v1 and on /ask."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from api.app import create_app
from tests.servers import serve

openai = pytest.importorskip("openai")

READ_KEY = "chat-read-key-0123"
OWNER = "农村公路新改建由谁牵头？"


@pytest.fixture(scope="module")
def base(service):
    config = dataclasses.replace(service.config, api_key=None, read_key=READ_KEY)
    with serve(create_app(config, service)) as url:
        yield url


@pytest.fixture(scope="module")
def client(base):
    return openai.OpenAI(base_url=f"{base}/v1", api_key=READ_KEY, max_retries=0, timeout=60)


def _ask(client, messages, **kw):
    return client.chat.completions.create(model="policyqa", messages=messages, **kw)


class TestChat:
    def test_models(self, client):
        assert [m.id for m in client.models.list().data] == ["policyqa"]

    def test_an_owner_question_gives_the_units_and_the_citation(self, client):
        r = _ask(client, [{"role": "system", "content": "你是政务助手"}, {"role": "user", "content": OWNER}])
        text = r.choices[0].message.content
        assert r.choices[0].finish_reason == "stop" and r.model == "policyqa"
        assert "张家胜" in text and "省交通运输厅" in text and "出处：" in text and "浙政办发〔2023〕6号" in text
        extra = r.model_extra["policyqa"]
        assert extra["found"] and "省交通运输厅" in extra["fields"]["units"]
        assert extra["citations"][0]["ref"] in text
        assert r.usage.prompt_tokens > 0 and r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens

    def test_an_unanswerable_question_is_refused(self, client):
        r = _ask(client, [{"role": "user", "content": "火星基地建设目标是多少？"}])
        text = r.choices[0].message.content
        assert text.startswith("未找到") and "火星" in text
        assert r.model_extra["policyqa"]["found"] is False and r.model_extra["policyqa"]["citations"] == []

    def test_a_stream_says_the_same_as_the_plain_answer(self, client):
        plain = _ask(client, [{"role": "user", "content": "王文序副省长牵头哪些重点工作？"}]).choices[0].message.content
        chunks = list(_ask(client, [{"role": "user", "content": "王文序副省长牵头哪些重点工作？"}], stream=True,
                           stream_options={"include_usage": True}))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == plain and plain.count("\n") > 3
        assert chunks[0].choices[0].delta.role == "assistant"
        assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0

    def test_a_follow_up_about_the_deadline_uses_the_same_item(self, client, service):
        first = _ask(client, [{"role": "user", "content": "5G基站建设目标是多少？"}])
        cited = first.model_extra["policyqa"]["citations"][0]
        history = [{"role": "user", "content": "5G基站建设目标是多少？"},
                   {"role": "assistant", "content": first.choices[0].message.content}]
        follow = _ask(client, [*history, {"role": "user", "content": "那它由哪些单位负责？"}])
        extra = follow.model_extra["policyqa"]
        assert extra["found"] and extra["citations"][0]["item_id"] == cited["item_id"]
        assert extra["question"] != "那它由哪些单位负责？"  # the question as it was understood
        item = service.index.items[cited["item_id"]]
        assert set(extra["fields"]["units"]) <= set(item.units)
        later = _ask(client, [*history, {"role": "user", "content": "完成时限呢？"}]).model_extra["policyqa"]
        assert later["citations"] and later["citations"][0]["item_id"] == cited["item_id"]

    def test_the_second_item_of_a_list(self, client):
        listed = _ask(client, [{"role": "user", "content": "王文序副省长牵头哪些重点工作？"}])
        second = listed.model_extra["policyqa"]["citations"][1]
        r = _ask(client, [{"role": "user", "content": "王文序副省长牵头哪些重点工作？"},
                          {"role": "assistant", "content": listed.choices[0].message.content},
                          {"role": "user", "content": "第二项由谁牵头？"}])
        assert r.model_extra["policyqa"]["citations"][0]["item_id"] == second["item_id"]
        assert "王文序" in r.choices[0].message.content

    def test_still_more_after_an_owner_answer(self, client):
        first = _ask(client, [{"role": "user", "content": OWNER}])
        r = _ask(client, [{"role": "user", "content": OWNER},
                          {"role": "assistant", "content": first.choices[0].message.content},
                          {"role": "user", "content": "还有哪些？"}])
        extra = r.model_extra["policyqa"]
        assert extra["intent"] == "list" and len(extra["citations"]) > 3 and "张家胜" in extra["question"]


class TestErrors:
    def test_a_wrong_key_is_openais_authentication_error(self, base):
        bad = openai.OpenAI(base_url=f"{base}/v1", api_key="wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as info:
            _ask(bad, [{"role": "user", "content": OWNER}])
        assert info.value.status_code == 401 and "Bearer" in info.value.body["message"]

    def test_a_bad_request_is_openais_shape(self, base, client):
        with pytest.raises(openai.BadRequestError) as info:
            _ask(client, [{"role": "assistant", "content": "你好"}])
        assert info.value.body["type"] == "invalid_request_error" and "用户" in info.value.body["message"]
        r = httpx.post(f"{base}/v1/chat/completions", headers={"Authorization": f"Bearer {READ_KEY}"},
                       json={"model": "policyqa", "messages": []})
        assert r.status_code == 400 and set(r.json()["error"]) == {"message", "type", "param", "code"}
        r = httpx.post(f"{base}/v1/chat/completions", headers={"Authorization": f"Bearer {READ_KEY}"},
                       content=b"not json", )
        assert r.status_code == 415 and "error" in r.json()


def test_ask_takes_a_history_too(service):
    from fastapi.testclient import TestClient

    with TestClient(create_app(dataclasses.replace(service.config, read_key=None), service)) as c:
        first = c.post("/ask", json={"question": OWNER}).json()
        r = c.post("/ask", json={"question": "目标是多少？", "history": [
            {"role": "user", "content": OWNER}, {"role": "assistant", "content": first["answer"]}]}).json()
        assert r["found"] and r["citations"][0]["item_id"] == first["citations"][0]["item_id"]
        assert "1000" in r["answer"]
        alone = c.post("/ask", json={"question": "目标是多少？"}).json()
        assert alone["citations"] == [] or alone["citations"][0]["item_id"] != first["citations"][0]["item_id"]
