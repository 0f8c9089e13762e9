"""Audit the locked dependencies against PyPI's vulnerability data (pip-audit's "pypi" service).

pip-audit needs OSV or PyPI's per-version JSON (`/pypi/<name>/<version>/json`); a machine that only
reaches PyPI's per-project JSON (`/pypi/<name>/json`, the latest release) cannot run it. This
script asks the per-version document first, and where that is unreachable falls back to the
per-project one, which answers only for a pin that *is* the latest release. So each pin ends as:

- ``ok``: PyPI lists no known vulnerability for exactly this version;
- ``vulnerable``: PyPI lists vulnerabilities (ids printed) — fails unless explained;
- ``unverified``: the pin is older than the latest release and the per-version document cannot
  be read here — fails unless explained (e.g. a dependency pins it).

Explanations live in ``audit-exceptions.txt`` at the repository root, one per line:
``<package or vulnerability id>  <why it is acceptable>``. Exit status 0 means every pin is ok or
explained; 1 means something is left unexplained; 2 means PyPI could not be reached at all.

    .venv/bin/python scripts/audit_lock.py [requirements.lock requirements-dev.lock]
"""

from __future__ import annotations

import json
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYPI = "https://pypi.org/pypi"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")

Fetch = Callable[[str], dict[str, Any] | None]


@dataclass(frozen=True)
class Verdict:
    name: str
    version: str
    status: str  # ok | vulnerable | unverified
    vulns: tuple[str, ...] = ()
    latest: str | None = None
    explained: tuple[str, ...] = field(default=())


def read_pins(paths: Iterable[Path]) -> dict[str, str]:
    """Pinned ``name==version`` lines of lock files, names in PyPI's canonical form."""
    pins: dict[str, str] = {}
    for path in paths:
        for line in path.read_text().splitlines():
            match = PIN.match(line.strip())
            if match:
                pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return pins


def read_exceptions(path: Path) -> dict[str, str]:
    """``key -> reason`` from the exceptions file; a key without a reason is refused."""
    if not path.exists():
        return {}
    found: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path.name}:{number}: '{key}' has no reason")
        found[key.lower()] = reason.strip()
    return found


def _vuln_ids(doc: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(str(v.get("id")) for v in doc.get("vulnerabilities") or []))


def judge(name: str, version: str, fetch: Fetch) -> Verdict:
    """What PyPI says about one pin, per-version document first."""
    exact = fetch(f"{PYPI}/{name}/{version}/json")
    if exact is not None:
        ids = _vuln_ids(exact)
        return Verdict(name, version, "vulnerable" if ids else "ok", ids)
    project = fetch(f"{PYPI}/{name}/json")
    if project is None:
        return Verdict(name, version, "unverified")
    latest = str(project["info"]["version"])
    if latest != version:
        return Verdict(name, version, "unverified", latest=latest)
    ids = _vuln_ids(project)
    return Verdict(name, version, "vulnerable" if ids else "ok", ids, latest)


def explain(verdict: Verdict, exceptions: dict[str, str]) -> Verdict:
    """Attach the reasons that cover this verdict; a vulnerable pin needs one per id."""
    if verdict.status == "vulnerable":
        reasons = tuple(exceptions[v.lower()] for v in verdict.vulns if v.lower() in exceptions)
        covered = len(reasons) == len(verdict.vulns)
    else:
        reason = exceptions.get(verdict.name)
        reasons, covered = ((reason,) if reason else ()), reason is not None
    if verdict.status != "ok" and covered:
        return Verdict(**{**verdict.__dict__, "explained": reasons})
    return verdict


def is_clean(verdict: Verdict) -> bool:
    return verdict.status == "ok" or bool(verdict.explained)


def http_fetch(url: str) -> dict[str, Any] | None:
    """A JSON document, or None when PyPI has none (404) or it cannot be read here."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (https only)
            return json.loads(response.read())
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError):
        return None


def main(argv: list[str]) -> int:
    locks = [Path(a) for a in argv] or [ROOT / "requirements.lock", ROOT / "requirements-dev.lock"]
    pins = read_pins(locks)
    exceptions = read_exceptions(ROOT / "audit-exceptions.txt")
    if http_fetch(f"{PYPI}/pip/json") is None:
        print("PyPI's JSON API cannot be reached: nothing was audited", file=sys.stderr)
        return 2
    with ThreadPoolExecutor(8) as pool:
        verdicts = list(pool.map(lambda item: judge(*item, http_fetch), sorted(pins.items())))
    verdicts = [explain(v, exceptions) for v in verdicts]
    for v in verdicts:
        if v.status == "ok":
            continue
        detail = ", ".join(v.vulns) if v.vulns else f"latest is {v.latest or 'unknown'}"
        mark = "explained: " + "; ".join(v.explained) if v.explained else "UNEXPLAINED"
        print(f"{v.name}=={v.version}: {v.status} ({detail}) -> {mark}")
    bad = [v for v in verdicts if not is_clean(v)]
    ok = sum(v.status == "ok" for v in verdicts)
    print(
        f"{len(verdicts)} pins: {ok} with no known vulnerability, "
        f"{len(verdicts) - ok - len(bad)} explained, {len(bad)} unexplained"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
