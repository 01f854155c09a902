"""Small helpers shared by tests."""

from __future__ import annotations

import json
from pathlib import Path
import time
from typing import Callable, TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 60, interval: float = 0.25, what: str = "condition") -> T:
    """Call ``check`` until it returns something truthy (returned) or ``timeout`` passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


def kget(sandbox, *args: str) -> dict:
    """`kubectl get … -o json` parsed."""
    return json.loads(sandbox.kubectl("get", *args, "-o", "json").stdout)


DATA = Path(__file__).parent / "data"
