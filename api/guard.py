"""What every request passes before any work is done for it: the key, the body's size, the method.

A plain ASGI middleware, outermost: a request without the right key is refused before its body is
read, a body over the limit is refused from its Content-Length or as soon as the stream passes the
limit, HEAD is a GET without its body, OPTIONS lists the methods a path has, and every response
carries the security headers. Messages are in Chinese, as the web page shows them.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable

import orjson
from fastapi import HTTPException

from api.errors import error_body
from api.openai_api import openai_error_body

# the page and its API only; /docs is Swagger UI from this server (its inline start script needs 'unsafe-inline')
_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'")
_CSP_DOCS = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
             "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"), (b"cross-origin-opener-policy", b"same-origin")]
_WRITE_PATHS = re.compile(r"^/documents(?:/[^/]*)?/?$")
# the body types a route reads; anything else is a 415, not a 422 about fields it could not find
_BODY_TYPES = {("POST", "/ask"): ("application/json",), ("POST", "/v1/chat/completions"): ("application/json",),
               ("POST", "/documents"): ("multipart/form-data", "application/x-www-form-urlencoded")}


def same_key(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two keys (a missing key is never the same)."""
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())


class BodyTooLarge(HTTPException):
    """The request body passed its limit while it was being read: a 413, however deep it is raised
    (the framework passes an HTTPException raised while it parses a body on as it is)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large(limit))


def _too_large(limit: int) -> str:
    return f"请求体过大：上限为 {limit / 1048576:.1f} MB"


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


async def _json(send, status: int, detail: str, headers: list[tuple[bytes, bytes]] = (), path: str = "") -> None:
    body = orjson.dumps(openai_error_body(status, detail) if path.startswith("/v1/") else error_body(status, detail))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """Keys before bodies, body limits, HEAD and OPTIONS, security headers (see the module docstring).

    `methods_of(path)` gives the methods the app serves at a path (for Allow and for 405s).
    """

    def __init__(self, app, config, methods_of: Callable[[str], set[str]]) -> None:
        self.app = app
        self.config = config
        self.methods_of = methods_of

    def _limit(self, method: str, path: str) -> int:
        if method == "POST" and path.rstrip("/") == "/documents":
            return self.config.max_upload_bytes + 256 * 1024  # the file plus the multipart envelope
        if path == "/v1/chat/completions":  # a chat sends its whole history, answers and all
            return max(self.config.max_body_bytes, 1024 * 1024)
        return self.config.max_body_bytes

    def _refusal(self, method: str, path: str, key: str | None) -> tuple[int, str] | None:
        """Why the key does not let this request through, before anything of its body is read."""
        config = self.config
        if method in ("POST", "PUT", "PATCH", "DELETE") and _WRITE_PATHS.match(path):
            if not config.api_key:
                return 403, "文档修改已关闭：设置 POLICYQA_API_KEY 后才能上传或删除文档"
            if not same_key(key, config.api_key):
                return 401, "上传和删除文档需要在 X-API-Key 请求头中提供有效的写入密钥"
            return None
        if config.read_key and path != "/health" and not (same_key(key, config.read_key)
                                                          or same_key(key, config.api_key)):
            if path.startswith("/v1/"):
                return 401, "本服务需要读取密钥：在 Authorization 请求头中写 Bearer 密钥（即 OpenAI 客户端的 api_key）"
            return 401, "本服务需要在 X-API-Key 请求头中提供读取密钥"
        return None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        docs = path.startswith(("/docs", "/redoc"))

        async def send_secure(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *_HEADERS,
                                      (b"content-security-policy", (_CSP_DOCS if docs else _CSP).encode())]
            await send(message)

        if method == "OPTIONS":
            allowed = self.methods_of(path)
            if not allowed:
                await _json(send_secure, 404, "没有这个地址", path=path)
                return
            allow = ", ".join(sorted(allowed | {"OPTIONS"} | ({"HEAD"} if "GET" in allowed else set())))
            await send_secure({"type": "http.response.start", "status": 204, "headers": [(b"allow", allow.encode())]})
            await send_secure({"type": "http.response.body", "body": b""})
            return
        key = _header(scope, b"x-api-key")
        if key is None:  # OpenAI clients send their api_key as a bearer token
            bearer = _header(scope, b"authorization") or ""
            key = bearer[7:].strip() if bearer[:7].lower() == "bearer " else None
        scope.setdefault("state", {})["read_access"] = not self.config.read_key or same_key(
            key, self.config.read_key) or same_key(key, self.config.api_key)
        refusal = self._refusal("GET" if method == "HEAD" else method, path, key)
        if refusal:
            await _json(send_secure, *refusal, path=path)
            return
        accepted = _BODY_TYPES.get((method, path.rstrip("/") or "/"))
        if accepted:
            ctype = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            if ctype not in accepted:
                await _json(send_secure, 415, f"请求体类型应为 {accepted[0]}，收到的是 {ctype or '（未注明）'}", path=path)
                return
        limit = self._limit(method, path)
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _json(send_secure, 422, "Content-Length 请求头无效", path=path)
                return
            if int(declared) > limit:
                await _json(send_secure, 413, _too_large(limit), path=path)
                return
        received = 0

        async def receive_limited():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        if method == "HEAD":
            scope = {**scope, "method": "GET"}

            async def send_headers_only(message) -> None:
                if message["type"] == "http.response.body":
                    message = {**message, "body": b""}
                await send_secure(message)

            await self.app(scope, receive_limited, send_headers_only)
            return
        started = False

        async def send_tracked(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send_secure(message)

        try:
            await self.app(scope, receive_limited, send_tracked)
        except BodyTooLarge:
            if started:
                raise
            await _json(send_secure, 413, _too_large(limit), path=path)
