"""scripts/audit_lock.py: pins parsed, PyPI's answers judged, exceptions applied (no network)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "audit_lock", Path(__file__).resolve().parents[2] / "scripts" / "audit_lock.py"
)
assert _SPEC and _SPEC.loader
audit = importlib.util.module_from_spec(_SPEC)
sys.modules["audit_lock"] = audit  # dataclasses look their module up there
_SPEC.loader.exec_module(audit)


def _fetcher(docs: dict[str, dict[str, Any]]) -> Any:
    return lambda url: docs.get(url)


def _doc(version: str, *ids: str) -> dict[str, Any]:
    return {"info": {"version": version}, "vulnerabilities": [{"id": i} for i in ids]}


def test_read_pins_canonicalises_names_and_drops_extras(tmp_path: Path) -> None:
    lock = tmp_path / "r.lock"
    lock.write_text("Flask_Caching==2.5.1\n    # via x\npsycopg[binary]==3.3.9\n-e .\n")
    assert audit.read_pins([lock]) == {"flask-caching": "2.5.1", "psycopg": "3.3.9"}


def test_exact_version_document_wins() -> None:
    fetch = _fetcher({f"{audit.PYPI}/jinja2/3.1.4/json": _doc("3.1.4", "GHSA-1", "PYSEC-2")})
    verdict = audit.judge("jinja2", "3.1.4", fetch)
    assert (verdict.status, verdict.vulns) == ("vulnerable", ("GHSA-1", "PYSEC-2"))


def test_latest_document_answers_only_for_the_latest_pin() -> None:
    fetch = _fetcher({f"{audit.PYPI}/flask/json": _doc("3.1.3")})
    assert audit.judge("flask", "3.1.3", fetch).status == "ok"
    old = audit.judge("flask", "3.1.2", fetch)
    assert (old.status, old.latest) == ("unverified", "3.1.3")
    assert audit.judge("nowhere", "1.0", fetch).status == "unverified"


def test_exceptions_must_cover_every_vulnerability_id() -> None:
    vulnerable = audit.Verdict("x", "1", "vulnerable", ("GHSA-1", "GHSA-2"))
    partly = audit.explain(vulnerable, {"ghsa-1": "not reachable from our code"})
    assert not audit.is_clean(partly)
    both = audit.explain(vulnerable, {"ghsa-1": "a", "ghsa-2": "b"})
    assert audit.is_clean(both) and both.explained == ("a", "b")


def test_unverified_pin_needs_a_reason_by_package_name() -> None:
    unverified = audit.Verdict("numpy", "2.4.6", "unverified", latest="2.5.5")
    assert not audit.is_clean(audit.explain(unverified, {}))
    assert audit.is_clean(audit.explain(unverified, {"numpy": "needs Python 3.12"}))


def test_exception_without_reason_is_refused(tmp_path: Path) -> None:
    (tmp_path / "e.txt").write_text("# comment\nnumpy\n")
    with pytest.raises(SystemExit, match="has no reason"):
        audit.read_exceptions(tmp_path / "e.txt")


def test_repository_exceptions_file_parses() -> None:
    reasons = audit.read_exceptions(audit.ROOT / "audit-exceptions.txt")
    assert all(len(reason) > 20 for reason in reasons.values())
