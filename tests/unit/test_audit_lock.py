"""scripts/audit_lock.py against recorded PyPI answers (tests/fixtures/pypi), never the live registry.

Each fixture is a committed copy of one PyPI JSON document (its ``_source`` says where it came
from), served by URL to the audit's fetch seam, so the verdicts cannot change with what PyPI
publishes tomorrow.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "pypi"
_SPEC = importlib.util.spec_from_file_location("audit_lock", ROOT / "scripts" / "audit_lock.py")
assert _SPEC and _SPEC.loader
audit = importlib.util.module_from_spec(_SPEC)
sys.modules["audit_lock"] = audit  # dataclasses look their module up there
_SPEC.loader.exec_module(audit)


def _recorded(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    assert doc["_source"], "every fixture says where it came from"
    return doc


def _registry(**docs: str) -> Any:
    """A fetch function serving fixtures by URL path (``name`` or ``name/version``)."""
    by_url = {f"{audit.PYPI}/{path}/json": _recorded(fixture) for path, fixture in docs.items()}
    by_url[f"{audit.PYPI}/pip/json"] = _recorded("pip")
    return lambda url: by_url.get(url)


RECORDED = _registry(
    platformdirs="platformdirs", ecdsa="ecdsa", **{"requests/2.31.0": "requests-2.31.0"}
)


def _lock(tmp_path: Path, *pins: str) -> Path:
    lock = tmp_path / "requirements.lock"
    lock.write_text("# locked\n" + "".join(f"{p}\n    # via sourcingx\n" for p in pins))
    return lock


def test_read_pins_canonicalises_names_and_drops_extras(tmp_path: Path) -> None:
    lock = tmp_path / "r.lock"
    lock.write_text("Flask_Caching==2.5.1\n    # via x\npsycopg[binary]==3.3.9\n-e .\n")
    assert audit.read_pins([lock]) == {"flask-caching": "2.5.1", "psycopg": "3.3.9"}


def test_pin_older_than_the_latest_release_is_a_warning_naming_it() -> None:
    verdict = audit.judge("platformdirs", "4.14.8", RECORDED)
    assert (verdict.status, verdict.latest) == ("outdated", "4.14.9")
    assert not audit.fails(verdict)
    assert "newer release 4.14.9" in audit.describe(verdict)


def test_latest_pin_with_no_advisory_is_ok() -> None:
    assert audit.judge("platformdirs", "4.14.9", RECORDED).status == "ok"


def test_unreadable_package_is_unknown_not_a_failure() -> None:
    verdict = audit.judge("nowhere", "1.0", RECORDED)
    assert verdict.status == "unknown" and not audit.fails(verdict)


def test_per_version_document_wins_and_withdrawn_advisories_are_ignored() -> None:
    verdict = audit.judge("requests", "2.31.0", RECORDED)
    assert (verdict.status, verdict.vulns) == ("vulnerable", ("GHSA-9wx4-h78v-vm56",))
    assert verdict.advisories[0].fixed_in == ("2.32.0",)
    assert audit.fails(audit.explain(verdict, {}))


def test_one_vulnerability_under_two_ids_counts_once_and_an_alias_explains_it() -> None:
    verdict = audit.judge("ecdsa", "0.19.2", RECORDED)
    assert verdict.vulns == ("PYSEC-2026-1325",)  # its GHSA alias is the same advisory
    explained = audit.explain(verdict, {"cve-2024-23342": "we never sign with ecdsa"})
    assert not audit.fails(explained)
    assert explained.explained == ("we never sign with ecdsa",)


def test_every_advisory_needs_its_own_reason() -> None:
    two = (
        audit.Advisory("GHSA-1", frozenset({"GHSA-1"})),
        audit.Advisory("GHSA-2", frozenset({"GHSA-2"})),
    )
    vulnerable = audit.Verdict("x", "1", "vulnerable", two)
    partly = audit.explain(vulnerable, {"ghsa-1": "not reachable from our code"})
    assert audit.fails(partly) and partly.unexplained == ("GHSA-2",)
    assert not audit.fails(audit.explain(vulnerable, {"ghsa-1": "a", "ghsa-2": "b"}))


def test_package_reason_does_not_excuse_an_advisory() -> None:
    verdict = audit.judge("ecdsa", "0.19.2", RECORDED)
    assert audit.fails(audit.explain(verdict, {"ecdsa": "a package name is not an advisory id"}))


def test_run_passes_with_warnings_and_fails_only_on_an_unexplained_advisory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exceptions = tmp_path / "audit-exceptions.txt"
    exceptions.write_text(
        "platformdirs held back on purpose for this test\nold-key nothing uses it\n"
    )
    lock = _lock(tmp_path, "platformdirs==4.14.8", "nowhere==1.0")
    assert audit.run([lock], exceptions, RECORDED) == 0
    out = capsys.readouterr().out
    assert "warning platformdirs==4.14.8: newer release 4.14.9" in out
    assert "(noted: held back on purpose for this test)" in out
    assert "'old-key' covers no pin or advisory" in out
    assert out.rstrip().endswith(
        "1 outdated (warning), 1 unknown (warning), 0 with explained advisories, 0 unexplained"
    )

    vulnerable = _lock(tmp_path, "requests==2.31.0", "platformdirs==4.14.9")
    assert audit.run([vulnerable], exceptions, RECORDED) == 1
    assert "FAIL requests==2.31.0: advisories GHSA-9wx4-h78v-vm56" in capsys.readouterr().out
    exceptions.write_text("CVE-2024-35195 we never switch verify off within a session\n")
    assert audit.run([vulnerable], exceptions, RECORDED) == 0
    assert "explained requests==2.31.0" in capsys.readouterr().out


def test_unreachable_registry_audits_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = _lock(tmp_path, "platformdirs==4.14.8")
    assert audit.run([lock], tmp_path / "none.txt", lambda url: None) == 2
    assert "cannot be reached" in capsys.readouterr().err


def _dead_port() -> int:
    """A loopback port nothing listens on: one the kernel just handed out and took back."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_http_fetch_answers_none_through_a_dead_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = f"http://127.0.0.1:{_dead_port()}"
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(var, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert audit.http_fetch(f"{audit.PYPI}/pip/json") is None


def test_exception_without_reason_is_refused(tmp_path: Path) -> None:
    (tmp_path / "e.txt").write_text("# comment\nnumpy\n")
    with pytest.raises(SystemExit, match="has no reason"):
        audit.read_exceptions(tmp_path / "e.txt")


def test_repository_exceptions_file_parses() -> None:
    reasons = audit.read_exceptions(ROOT / "audit-exceptions.txt")
    assert all(len(reason) > 20 for reason in reasons.values())
