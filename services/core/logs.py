"""Structured JSON logs with a request id that follows a request into the jobs it enqueues.

Only ids and technical facts are logged: no secrets, no names, emails or profile data. The
request id comes from the caller's X-Request-ID (when sane) or is generated, is returned in the
response header, stored on the jobs a request creates, and set again in the worker that runs them.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime

from services.core.settings import tuning

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
JOB_ID: contextvars.ContextVar[int | None] = contextvars.ContextVar("job_id", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def new_request_id(incoming: str | None = None) -> str:
    if incoming and _SANE_ID.match(incoming):
        return incoming
    return secrets.token_hex(8)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        if (rid := REQUEST_ID.get()) is not None:
            entry["request_id"] = rid
        if (jid := JOB_ID.get()) is not None:
            entry["job_id"] = jid
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str | None = None) -> None:
    """JSON lines on stderr for every logger (LOG_FORMAT=text keeps plain lines for humans)."""
    root = logging.getLogger()
    if getattr(root, "_sourcingx_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    if tuning().log_format == "json":
        handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel((level or tuning().log_level).upper())
    # httpx logs full URLs at INFO; ours carry no keys, but keep third-party chatter down anyway.
    for name in ("httpx", "httpx2"):  # httpx2 is the OpenAI SDK's transport
        logging.getLogger(name).setLevel(logging.WARNING)
    root._sourcingx_configured = True  # type: ignore[attr-defined]
