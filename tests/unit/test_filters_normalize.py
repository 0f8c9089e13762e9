"""Filter value normalisation and the pass/fail rules, as tables."""

from __future__ import annotations

import pytest

from services.filters import normalize as n
from services.filters.apply import AppliedList, evaluate


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ACME, Inc.", "acme"),
        ("Acme Inc", "acme"),
        ("acme", "acme"),
        ("Acme Corp.", "acme"),
        ("Acme Corporation", "acme"),
        ("Acme, LLC", "acme"),
        ("Acme Ltd", "acme"),
        ("ACME Limited", "acme"),
        ("Acme plc", "acme"),
        ("Siemens AG", "siemens"),
        ("Zalando SE", "zalando"),
        ("Müller GmbH", "muller"),
        ("Müller GmbH & Co. KG", "muller"),
        ("Société Générale S.A.", "societe generale"),
        ("Adyen N.V.", "adyen"),
        ("Booking.com B.V.", "bookingcom"),
        ("Procter & Gamble Co.", "procter and gamble"),
        ("  Delivery   Hero  ", "delivery hero"),
        ("AG", "ag"),  # a name that is only a suffix is kept
        ("", ""),
        (None, ""),
    ],
)
def test_company_names(raw: str | None, expected: str) -> None:
    assert n.company(raw) == expected


@pytest.mark.parametrize(
    ("fn", "raw", "expected"),
    [
        (n.title, "Sr. Software-Engineer", "sr software engineer"),
        (n.title, "Head of Data & AI", "head of data and ai"),
        (n.school, "The University of Oxford", "university of oxford"),
        (n.school, "ETH Zürich", "eth zurich"),
        (n.location, "Greater Berlin Area, Germany", "berlin germany"),
        (n.location, "München, Bayern", "munchen bayern"),
        (n.keyword, "C++", "c++"),
        (n.keyword, "C#", "c#"),
        (n.keyword, "Machine-Learning", "machine learning"),
        (n.keyword, "O\u2019Neil", "oneil"),
    ],
)
def test_other_categories(fn: object, raw: str, expected: str) -> None:
    assert fn(raw) == expected  # type: ignore[operator]


def test_normalize_dispatches_by_category_and_refuses_unknown() -> None:
    assert n.normalize("excluded_companies", "Acme GmbH") == "acme"
    assert n.normalize("titles_include", "Data Engineer") == "data engineer"
    with pytest.raises(ValueError, match="unknown filter category"):
        n.normalize("colours", "red")


@pytest.mark.parametrize(
    ("haystack", "needle", "expected"),
    [
        ("senior data engineer", "data engineer", True),
        ("data engineering lead", "data engineer", False),
        ("javascript developer", "java", False),
        ("java developer", "java", True),
        ("c++ developer", "c++", True),
        ("anything", "", False),
    ],
)
def test_phrase_matching_respects_word_boundaries(
    haystack: str, needle: str, expected: bool
) -> None:
    assert n.contains_phrase(haystack, needle) is expected


COMPETITORS = AppliedList(1, "Competitors", "excluded_companies", "must_not_match", 3)
TARGETS = AppliedList(2, "Targets", "target_companies", "must_match", 3)


@pytest.mark.parametrize(
    ("lists", "hits", "passed", "rules"),
    [
        ([], {}, True, []),
        ([COMPETITORS], {}, True, []),
        ([COMPETITORS], {1: "Acme"}, False, ["excluded"]),
        ([TARGETS], {}, False, ["missing"]),
        ([TARGETS], {2: "Globex"}, True, ["matched"]),
        ([COMPETITORS, TARGETS], {1: "Acme", 2: "Acme"}, False, ["excluded", "matched"]),
    ],
)
def test_evaluate_rules(
    lists: list[AppliedList], hits: dict[int, str], passed: bool, rules: list[str]
) -> None:
    outcome, reasons = evaluate(lists, hits)
    assert outcome is passed
    assert [r["rule"] for r in reasons] == rules


def test_reason_text_names_value_and_list() -> None:
    _passed, reasons = evaluate([COMPETITORS], {1: "Acme"})
    assert reasons[0]["text"] == "excluded: current company 'Acme' is on 'Competitors'"
    assert set(reasons[0]) == {"list_id", "list", "category", "rule", "value", "text"}
