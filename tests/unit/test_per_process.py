"""PerProcess: one object per PID, made on first use, closed only by the process that made it."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from services.core import per_process
from services.core.per_process import PerProcess


def test_made_once_per_process_and_again_after_a_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = itertools.count()
    holder: PerProcess[int] = PerProcess(lambda: next(counter))
    monkeypatch.setattr(per_process.os, "getpid", lambda: 100)
    assert holder.get() == holder.get() == 0
    monkeypatch.setattr(per_process.os, "getpid", lambda: 101)  # a forked child
    assert holder.get() == holder.get() == 1


def test_reset_closes_only_what_this_process_made(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[Any] = []
    holder: PerProcess[object] = PerProcess(object, close=closed.append)
    monkeypatch.setattr(per_process.os, "getpid", lambda: 200)
    parents = holder.get()
    monkeypatch.setattr(per_process.os, "getpid", lambda: 201)
    holder.reset()  # the parent's sockets must stay open
    assert closed == []
    mine = holder.get()
    assert mine is not parents
    holder.reset()
    assert closed == [mine]
    assert holder.get() is not mine
