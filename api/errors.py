"""Error bodies of the API: a message in Chinese and a stable machine-readable `code`.

Every error the service answers has the shape `{"detail": "…", "code": "…"}`; clients branch on
`code` (which never changes), people read `detail`. Validation errors are put into Chinese here.
"""

from __future__ import annotations

import re
from typing import Any

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_format",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
    507: "storage_full",
}


def error_body(status: int, detail: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON body of an error answer."""
    return {"detail": detail, "code": code or CODES.get(status, "error"), **extra}


_WHERE = {"query": "参数", "path": "路径参数", "body": "字段", "header": "请求头", "form": "表单字段"}


def _field(loc: tuple | list) -> str:
    parts = [str(p) for p in loc]
    where = _WHERE.get(parts[0], "") if parts else ""
    name = ".".join(parts[1:] if where else parts)
    if not name:
        return "请求体"
    return f"{where} {name} " if where else f"{name} "


def _one(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    field = _field(error.get("loc", ()))
    messages = {
        "missing": f"缺少{field}",
        "string_too_short": f"{field}不能为空" if ctx.get("min_length") == 1 else
                            f"{field}至少 {ctx.get('min_length')} 个字符",
        "string_too_long": f"{field}不能超过 {ctx.get('max_length')} 个字符",
        "string_type": f"{field}应为文本",
        "string_pattern_mismatch": f"{field}的格式不对",
        "int_parsing": f"{field}应为整数",
        "int_type": f"{field}应为整数",
        "int_from_float": f"{field}应为整数",
        "float_parsing": f"{field}应为数字",
        "bool_parsing": f"{field}应为 true 或 false",
        "bool_type": f"{field}应为 true 或 false",
        "greater_than_equal": f"{field}不能小于 {ctx.get('ge')}",
        "greater_than": f"{field}应大于 {ctx.get('gt')}",
        "less_than_equal": f"{field}不能大于 {ctx.get('le')}",
        "less_than": f"{field}应小于 {ctx.get('lt')}",
        "literal_error": f"{field}只能是 {ctx.get('expected')}",
        "enum": f"{field}只能是 {ctx.get('expected')}",
        "date_parsing": f"{field}应为日期，格式 YYYY-MM-DD",
        "date_from_datetime_parsing": f"{field}应为日期，格式 YYYY-MM-DD",
        "date_from_datetime_inexact": f"{field}应为日期，格式 YYYY-MM-DD",
        "json_invalid": "请求体不是有效的 JSON",
        "model_attributes_type": f"{field}应为 JSON 对象",
        "model_type": f"{field}应为 JSON 对象",
        "dict_type": f"{field}应为 JSON 对象",
        "list_type": f"{field}应为列表",
        "extra_forbidden": f"不认识的{field}",
        "value_error": f"{field}无效：{ctx.get('error', '')}".rstrip("："),
    }
    return re.sub(r"\s+([；，。])", r"\1", messages.get(kind, f"{field}无效").replace(" or ", " 或 ")).strip()


def validation_message(errors: list[dict[str, Any]]) -> str:
    """pydantic's validation errors as one Chinese sentence per problem."""
    seen: list[str] = []
    for error in errors:
        line = _one(error)
        if line not in seen:
            seen.append(line)
    return "；".join(seen) or "请求无效"


_STATUS_TEXT = {
    400: "请求有误",
    401: "需要 API 密钥",
    403: "没有权限",
    404: "没有这个地址",
    405: "该地址不支持这种请求方法",
    413: "请求体太大",
    415: "不支持的内容类型",
    422: "请求无效",
    500: "服务器内部错误",
    503: "服务暂不可用",
}


def chinese_detail(status: int, detail: str) -> str:
    """Starlette's own details are English status phrases ("Not Found"): these become Chinese."""
    from http import HTTPStatus

    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    if not detail or detail == phrase:
        return _STATUS_TEXT.get(status, f"请求失败（{status}）")
    return detail
