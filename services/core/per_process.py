"""One object per process (a DB pool, a Redis or HTTP client), made on first use.

Made lazily, so never before gunicorn or Celery forks; keyed by PID, so a child that inherited
its parent's object makes its own instead of sharing the parent's sockets. This is process
infrastructure, never user data (the web tier keeps no user state between requests).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerProcess(Generic[T]):
    """`get()` returns this process's object, calling `make()` the first time."""

    def __init__(self, make: Callable[[], T], close: Callable[[T], None] | None = None) -> None:
        self._make = make
        self._close = close
        self._lock = threading.Lock()
        self._value: T | None = None
        self._pid: int | None = None

    def get(self) -> T:
        pid = os.getpid()
        value = self._value
        if value is not None and self._pid == pid:
            return value
        with self._lock:
            if self._value is None or self._pid != pid:
                self._value, self._pid = self._make(), pid
            return self._value

    def reset(self) -> None:
        """Forget the object, closing it first when this process made it (a parent's object
        is only dropped: closing it here would close the parent's sockets)."""
        with self._lock:
            if self._value is not None and self._pid == os.getpid() and self._close is not None:
                self._close(self._value)
            self._value, self._pid = None, None
