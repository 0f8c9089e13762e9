"""OpenAI's `POST /v1/chat/completions`, answered deterministically.

With `response_format: json_schema` the content is a JSON document that fills the schema from the
prompt (`sandbox.data.structured_answer`); otherwise it is a short "[sandbox]" echo. Token usage
is estimated from the characters sent, `max_tokens` / `max_completion_tokens` cut the content
with `finish_reason: length`, and a 200 carries the `x-ratelimit-*-requests` headers.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from flask import Flask, Response, g, request

from sandbox import data
from sandbox.replies import (
    Gate,
    bad_key,
    json_response,
    key_from_request,
    openai_bad_key,
    openai_error,
)
from sandbox.state import Decision


def register(app: Flask, gate: Gate) -> None:
    def chat() -> Response:
        return chat_completion(gate)

    app.post("/openai/v1/chat/completions")(chat)


def _bad_request(message: str) -> Response:
    return json_response(openai_error(400, message, "invalid_request_error", None), 400)


def chat_completion(gate: Gate) -> Response:
    if bad_key(key_from_request("Authorization")):
        return openai_bad_key()
    if (denied := gate("openai")) is not None:
        return denied
    body = request.get_json(silent=True)
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("messages"), list)
        or not body.get("model")
    ):
        return _bad_request("model and messages are required")
    messages = body["messages"]
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            return _bad_request("json_schema.schema is required")
        content = json.dumps(data.structured_answer(schema, messages))
    else:
        content = "[sandbox] " + " ".join(str(m.get("content", ""))[:60] for m in messages[-1:])
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    answer = _completion(body, content, fmt, digest)
    return json_response(answer, 200, _headers(digest))


def _completion(body: dict[str, Any], content: str, fmt: Any, digest: str) -> dict[str, Any]:
    messages = body["messages"]
    prompt_chars = sum(len(json.dumps(m)) for m in messages) + len(json.dumps(fmt))
    prompt_tokens, completion_tokens = prompt_chars // 4 + 7, len(content) // 4 + 1
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    finish = "stop"
    if isinstance(max_tokens, int) and completion_tokens > max_tokens:
        finish, completion_tokens = "length", max_tokens
        content = content[: max_tokens * 4]
    return {
        "id": f"chatcmpl-sandbox{digest[:20]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(body["model"]),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": finish,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
        "system_fingerprint": "fp_sandbox",
        "_sandbox": True,
    }


def _headers(digest: str) -> dict[str, str]:
    d: Decision = g.get("decision") or Decision()
    headers = {"x-request-id": f"req_sandbox{digest[:16]}"}
    if d.limit:
        headers.update(
            {
                "x-ratelimit-limit-requests": str(d.limit),
                "x-ratelimit-remaining-requests": str(d.remaining),
                "x-ratelimit-reset-requests": f"{d.reset_s:.3f}s",
            }
        )
    return headers
