"""Audit the locked dependencies against PyPI's vulnerability data (pip-audit's "pypi" service).

pip-audit needs OSV or PyPI's per-version JSON (`/pypi/<name>/<version>/json`); a machine that only
reaches PyPI's per-project JSON (`/pypi/<name>/json`, the latest release) cannot run it. This
script asks the per-version document first, and where that is unreadable falls back to the
per-project one, which speaks only for the latest release. Each pin ends as one of:

- ``ok``: PyPI lists no advisory for exactly this version;
- ``vulnerable``: PyPI lists advisories for this version. This is the only **failure**, and only
  for an advisory that ``audit-exceptions.txt`` does not explain (by its id or any alias);
- ``outdated``: a newer release exists and this version's own data cannot be read here. Not a
  vulnerability: a **warning** naming the newer version (a reason in the exceptions file, keyed
  by the package name, is printed beside it);
- ``unknown``: PyPI had nothing readable for the package: a warning.

Advisories that PyPI marks ``withdrawn`` are ignored; an advisory listed twice under different
ids (a PYSEC id and its GHSA alias) counts once. Exceptions that cover nothing any more are
reported, so the file does not silently collect stale reasons.

Exceptions live in ``audit-exceptions.txt`` at the repository root, one per line:
``<package or advisory id>  <why it is acceptable>``. Exit status 0: no unexplained advisory;
1: an advisory affects a pin and has no written reason; 2: PyPI could not be reached at all.

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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYPI = "https://pypi.org/pypi"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")

Fetch = Callable[[str], dict[str, Any] | None]


@dataclass(frozen=True)
class Advisory:
    """One advisory as PyPI lists it; ``names`` are its id and aliases, upper-cased."""

    id: str
    names: frozenset[str]
    fixed_in: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    name: str
    version: str
    status: str  # ok | vulnerable | outdated | unknown
    advisories: tuple[Advisory, ...] = ()
    latest: str | None = None
    explained: tuple[str, ...] = ()
    unexplained: tuple[str, ...] = ()

    @property
    def vulns(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.advisories)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(paths: Iterable[Path]) -> dict[str, str]:
    """Pinned ``name==version`` lines of lock files, names in PyPI's canonical form."""
    pins: dict[str, str] = {}
    for path in paths:
        for line in path.read_text().splitlines():
            match = PIN.match(line.strip())
            if match:
                pins[canonical(match.group(1))] = match.group(2)
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


def advisories(doc: dict[str, Any]) -> tuple[Advisory, ...]:
    """The live advisories of a PyPI document, one per distinct vulnerability."""
    found: list[Advisory] = []
    for entry in doc.get("vulnerabilities") or []:
        if entry.get("withdrawn"):
            continue
        names = frozenset(
            str(n).upper() for n in [entry.get("id"), *(entry.get("aliases") or [])] if n
        )
        if any(names & known.names for known in found):
            continue  # the same vulnerability under another database's id
        fixed = tuple(str(v) for v in entry.get("fixed_in") or [])
        found.append(Advisory(str(entry.get("id")), names, fixed))
    return tuple(sorted(found, key=lambda a: a.id))


def _judged(name: str, version: str, doc: dict[str, Any], latest: str | None) -> Verdict:
    found = advisories(doc)
    return Verdict(name, version, "vulnerable" if found else "ok", found, latest)


def judge(name: str, version: str, fetch: Fetch) -> Verdict:
    """What PyPI says about one pin, per-version document first."""
    exact = fetch(f"{PYPI}/{name}/{version}/json")
    if exact is not None:
        return _judged(name, version, exact, None)
    project = fetch(f"{PYPI}/{name}/json")
    if project is None:
        return Verdict(name, version, "unknown")
    latest = str(project["info"]["version"])
    if latest != version:
        return Verdict(name, version, "outdated", latest=latest)
    return _judged(name, version, project, latest)


def explain(verdict: Verdict, exceptions: dict[str, str]) -> Verdict:
    """Attach the reasons that cover this verdict: one per advisory, or the package's own."""
    if verdict.status == "vulnerable":
        reasons: list[str] = []
        missing: list[str] = []
        for advisory in verdict.advisories:
            keys = [n.lower() for n in sorted(advisory.names) if n.lower() in exceptions]
            if keys:
                reasons.append(exceptions[keys[0]])
            else:
                missing.append(advisory.id)
        return replace(verdict, explained=tuple(reasons), unexplained=tuple(missing))
    reason = exceptions.get(verdict.name)
    return replace(verdict, explained=(reason,) if reason else ())


def fails(verdict: Verdict) -> bool:
    """Only a known advisory without a written reason fails the audit."""
    return verdict.status == "vulnerable" and bool(verdict.unexplained)


def stale_exceptions(verdicts: Iterable[Verdict], exceptions: dict[str, str]) -> list[str]:
    """Exception keys that cover no pin's package and no listed advisory."""
    used: set[str] = set()
    for v in verdicts:
        used.add(v.name)
        for advisory in v.advisories:
            used.update(n.lower() for n in advisory.names)
    return sorted(key for key in exceptions if key not in used)


def describe(v: Verdict) -> str:
    """One report line for a pin that is not plainly ok."""
    pin = f"{v.name}=={v.version}"
    if v.status == "vulnerable":
        ids = ", ".join(v.vulns)
        if v.unexplained:
            return f"FAIL {pin}: advisories {ids}; no reason for {', '.join(v.unexplained)}"
        return f"explained {pin}: advisories {ids} -> {'; '.join(v.explained)}"
    if v.status == "outdated":
        note = f" (noted: {v.explained[0]})" if v.explained else ""
        return (
            f"warning {pin}: newer release {v.latest}; this version's advisories cannot be read "
            f"here, upgrade or check it{note}"
        )
    return f"warning {pin}: PyPI has no readable data for this package"


def summary(verdicts: list[Verdict]) -> str:
    counts = {s: sum(v.status == s for v in verdicts) for s in ("ok", "outdated", "unknown")}
    failed = sum(fails(v) for v in verdicts)
    explained = sum(v.status == "vulnerable" and not fails(v) for v in verdicts)
    return (
        f"{len(verdicts)} pins: {counts['ok']} with no known advisory, "
        f"{counts['outdated']} outdated (warning), {counts['unknown']} unknown (warning), "
        f"{explained} with explained advisories, {failed} unexplained"
    )


def http_fetch(url: str) -> dict[str, Any] | None:
    """A JSON document, or None when PyPI has none (404) or it cannot be read here."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (https only)
            return json.loads(response.read())
    except (urllib.error.URLError, TimeoutError, OSError, json.JSONDecodeError):
        return None


def run(locks: list[Path], exceptions_file: Path, fetch: Fetch) -> int:
    """The whole audit with a given fetcher: the report on stdout, the exit status returned."""
    pins = read_pins(locks)
    exceptions = read_exceptions(exceptions_file)
    if fetch(f"{PYPI}/pip/json") is None:
        print("PyPI's JSON API cannot be reached: nothing was audited", file=sys.stderr)
        return 2
    with ThreadPoolExecutor(8) as pool:
        judged = list(pool.map(lambda item: judge(*item, fetch), sorted(pins.items())))
    verdicts = [explain(v, exceptions) for v in judged]
    for v in verdicts:
        if v.status != "ok":
            print(describe(v))
    for key in stale_exceptions(verdicts, exceptions):
        print(f"warning {exceptions_file.name}: '{key}' covers no pin or advisory; remove it")
    print(summary(verdicts))
    return 1 if any(fails(v) for v in verdicts) else 0


def main(argv: list[str]) -> int:
    locks = [Path(a) for a in argv] or [ROOT / "requirements.lock", ROOT / "requirements-dev.lock"]
    return run(locks, ROOT / "audit-exceptions.txt", http_fetch)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
