"""An OpenAI-compatible chat API, for the chat front ends offices already run (Open WebUI, Dify,
Cherry Studio, ChatBox …): `GET /v1/models` and `POST /v1/chat/completions`, plain or streamed as
server-sent events, the read key as `Authorization: Bearer`, errors in OpenAI's shape.

The assistant message is the composed answer with its citations written out; the structured answer
(fields, citations) travels in an extra `policyqa` field that OpenAI clients ignore. The whole
message history comes with each request, so a follow-up ("那它的完成时限呢？") is resolved from it
without a session on the server.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Literal

import orjson
from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.schemas import MAX_QUESTION_CHARS
from qa.answer import Answer
from qa.followup import Turn

MODEL = "policyqa"
MAX_MESSAGES = 100


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str = "text"
    text: str = ""


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's chat request; sampling options (temperature, top_p, …) are accepted and ignored: the
    answer is composed from the documents, not sampled."""

    model_config = ConfigDict(extra="allow")
    model: str = MODEL
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: dict | None = None


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorOut(BaseModel):
    error: OpenAIErrorDetail


_ERRORS = {status: {"model": OpenAIErrorOut} for status in (400, 401, 413, 415, 503)}


def _content(answer: Answer) -> str:
    """The answer as a chat message: its text, then its citations written out."""
    if not answer.citations:
        return answer.answer + (f"\n\n（{answer.reason}）" if answer.reason and answer.reason not in answer.answer else "")
    lines = [answer.answer, "", "出处："]
    for n, c in enumerate(answer.citations, start=1):
        lines.append(f"[{n}] {c.ref}")
    return "\n".join(lines)


def _structured(answer: Answer) -> dict:
    d = asdict(answer)
    d.pop("terms", None)
    return d


def create_openai_router(ask: Callable[[str, tuple[Turn, ...]], Answer], count: Callable[[str], int]) -> APIRouter:
    """The /v1 routes. `ask(question, history)` answers; `count(text)` counts tokens for `usage`."""
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])

    @router.get("/models", responses=_ERRORS)
    def models() -> dict:
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "policyqa"}]}

    @router.post("/chat/completions", responses={
        200: {"content": {"application/json": {}, "text/event-stream": {}},
              "description": "a chat.completion, or with stream=true chat.completion.chunk events"}, **_ERRORS})
    def chat(req: ChatRequest) -> Response:
        turns = [m for m in req.messages if m.role in ("user", "assistant")]
        if not turns or turns[-1].role != "user":
            raise OpenAIError(400, "最后一条消息应为用户（user）的问题", "messages")
        question = turns[-1].text().strip()
        if not question:
            raise OpenAIError(400, "问题不能为空", "messages")
        if len(question) > MAX_QUESTION_CHARS:
            raise OpenAIError(400, f"问题不能超过 {MAX_QUESTION_CHARS} 个字符", "messages")
        history = tuple(Turn(m.role, m.text()) for m in turns[:-1])
        answer = ask(question, history)
        content = _content(answer)
        created, cid = int(time.time()), f"chatcmpl-{uuid.uuid4().hex[:24]}"
        prompt = sum(count(m.text()) for m in req.messages)
        usage = {"prompt_tokens": prompt, "completion_tokens": count(content),
                 "total_tokens": prompt + count(content)}
        if not req.stream:
            body = {"id": cid, "object": "chat.completion", "created": created, "model": MODEL,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": "stop", "logprobs": None}],
                    "usage": usage, "policyqa": _structured(answer)}
            return Response(orjson.dumps(body), media_type="application/json")
        with_usage = bool((req.stream_options or {}).get("include_usage"))
        return StreamingResponse(_events(cid, created, content, usage if with_usage else None, answer),
                                 media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    return router


def _events(cid: str, created: int, content: str, usage: dict | None, answer: Answer) -> Iterator[bytes]:
    def chunk(delta: dict, finish: str | None = None, **extra) -> bytes:
        body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
        return b"data: " + orjson.dumps(body) + b"\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for line in content.splitlines(keepends=True):  # a line at a time: a list shows as it comes
        yield chunk({"content": line})
    yield chunk({}, "stop", policyqa=_structured(answer))
    if usage is not None:
        body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL,
                "choices": [], "usage": usage}
        yield b"data: " + orjson.dumps(body) + b"\n\n"
    yield b"data: [DONE]\n\n"


class OpenAIError(Exception):
    """An error of the /v1 routes, answered in OpenAI's shape."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code


_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 413: "invalid_request_error", 415: "invalid_request_error",
          422: "invalid_request_error", 429: "rate_limit_error", 503: "server_error"}


def openai_error_body(status: int, message: str, param: str | None = None, code: str | None = None) -> dict:
    """OpenAI's error shape: {"error": {"message", "type", "param", "code"}}."""
    return {"error": {"message": message, "type": _TYPES.get(status, "server_error"), "param": param,
                      "code": code}}
