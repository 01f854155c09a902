"""Structured logs through the standard library: one JSON object (or ``key=value`` line) per record.

Fields are passed as ``extra``: ``log.info("reconciled", extra={"controller": "x", "key": "ns/name"})``.
Secrets stay out of logs: values of fields named like credentials are replaced by ``<redacted>``, a Secret
object passed as a field loses its ``data``/``stringData``, and the Kubernetes client library's debug logging
(which prints whole response bodies) is kept off.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

REDACTED = "<redacted>"
_SECRET_FIELD = re.compile(r"(?i)(token|password|passwd|authorization|api[_-]?key|credential|private[_-]?key)")
# Attributes every LogRecord has; anything else was passed through ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def redact(name: str, value: Any) -> Any:
    """``value`` safe to log under field ``name``."""
    if _SECRET_FIELD.search(name) and not isinstance(value, bool):
        return REDACTED
    if isinstance(value, dict):
        if value.get("kind") == "Secret":
            value = {k: (REDACTED if k in ("data", "stringData") else v) for k, v in value.items()}
        return {k: redact(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(name, v) for v in value]
    return value


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: redact(k, v) for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(record_fields(record))
        if record.exc_info:
            out["stacktrace"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def _kv_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return json.dumps(text, ensure_ascii=False) if (not text or re.search(r'[\s"=]', text)) else text


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        parts = [
            f"ts={_timestamp(record)}",
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
            f"msg={_kv_value(record.getMessage())}",
        ]
        parts += [f"{k}={_kv_value(v)}" for k, v in record_fields(record).items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str | int = "info", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Send all logs to ``stream`` (stderr) as JSON (``fmt="json"``) or ``key=value`` text (``fmt="text"``)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # kubernetes_asyncio logs full response bodies (Secrets included) at debug level.
    for name in ("kubernetes_asyncio", "kubernetes_asyncio.client.rest"):
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # httpx logs every outside request (HuggingFace, prices, recipes) at info level; its failures reach our logs.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
