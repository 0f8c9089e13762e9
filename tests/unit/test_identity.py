"""LinkedIn identity normalisation: 30+ real-world spellings reduce to one key."""

from __future__ import annotations

import pytest

from services.identity import member_id_from, normalize_profile_url, profile_key

JANE = "https://www.linkedin.com/in/jane-doe-1a2b3c"
MID = "ACwAAA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv"

SAME_PERSON = [
    "https://www.linkedin.com/in/jane-doe-1a2b3c",
    "https://www.linkedin.com/in/jane-doe-1a2b3c/",
    "http://www.linkedin.com/in/jane-doe-1a2b3c",
    "https://linkedin.com/in/jane-doe-1a2b3c",
    "linkedin.com/in/jane-doe-1a2b3c",
    "www.linkedin.com/in/jane-doe-1a2b3c/",
    "https://de.linkedin.com/in/jane-doe-1a2b3c",
    "https://uk.linkedin.com/in/jane-doe-1a2b3c/",
    "https://fr.linkedin.com/in/jane-doe-1a2b3c?trk=public_profile",
    "https://m.linkedin.com/in/jane-doe-1a2b3c",
    "https://www.linkedin.com/in/Jane-Doe-1A2B3C",
    "https://WWW.LINKEDIN.COM/in/jane-doe-1a2b3c",
    "https://www.linkedin.com/in/jane-doe-1a2b3c?originalSubdomain=de",
    "https://www.linkedin.com/in/jane-doe-1a2b3c/?locale=en_US",
    "https://www.linkedin.com/in/jane-doe-1a2b3c#experience",
    "https://www.linkedin.com/in/jane-doe-1a2b3c/details/experience/",
    "https://www.linkedin.com/in/jane-doe-1a2b3c/recent-activity/all/",
    "https://www.linkedin.com/in/jane-doe-1a2b3c/overlay/contact-info/",
    "  https://www.linkedin.com/in/jane-doe-1a2b3c  ",
    '"https://www.linkedin.com/in/jane-doe-1a2b3c"',
    "<https://www.linkedin.com/in/jane-doe-1a2b3c>",
    "https://www.linkedin.com/in/jane%2Ddoe%2D1a2b3c",
    "https://www.linkedin.com/in/jane-doe-1a2b3c?miniProfileUrn=urn%3Ali%3Afs_miniProfile%3AACwAA",
    "HTTPS://www.linkedin.com/in/jane-doe-1a2b3c/",
    "https://www.linkedin.com//in//jane-doe-1a2b3c",
]


@pytest.mark.parametrize("spelling", SAME_PERSON)
def test_spellings_of_one_profile_normalise_to_one_url(spelling: str) -> None:
    assert normalize_profile_url(spelling) == JANE


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        (
            "https://www.linkedin.com/in/j%C3%BCrgen-m%C3%BCller",
            "https://www.linkedin.com/in/jürgen-müller",
        ),
        (
            "https://www.linkedin.com/in/J%C3%BCrgen-M%C3%BCller/",
            "https://www.linkedin.com/in/jürgen-müller",
        ),
        ("https://www.linkedin.com/in/jürgen-müller", "https://www.linkedin.com/in/jürgen-müller"),
        ("https://www.linkedin.com/in/o_brien.dev", "https://www.linkedin.com/in/o_brien.dev"),
    ],
)
def test_url_encoded_and_unicode_slugs(spelling: str, expected: str) -> None:
    assert normalize_profile_url(spelling) == expected


@pytest.mark.parametrize(
    "not_a_profile",
    [
        "",
        "   ",
        "https://www.linkedin.com/company/acme",
        "https://www.linkedin.com/jobs/view/123",
        "https://www.linkedin.com/in/",
        "https://evil.com/in/jane-doe",
        "https://linkedin.com.evil.com/in/jane-doe",
        "https://notlinkedin.com/in/jane-doe",
        "mailto:jane@acme.com",
        "jane doe",
        "https://www.linkedin.com/in/a",
    ],
)
def test_non_profile_urls_are_rejected(not_a_profile: str) -> None:
    assert normalize_profile_url(not_a_profile) is None


@pytest.mark.parametrize(
    "spelling",
    [
        f"https://www.linkedin.com/sales/lead/{MID},NAME_SEARCH,aBcD",
        f"https://www.linkedin.com/sales/lead/{MID},NAME_SEARCH,aBcD?_ntb=x",
        f"https://www.linkedin.com/sales/people/{MID},name",
        f"https://www.linkedin.com/in/{MID}",
        f"https://www.linkedin.com/in/{MID}/",
        f"linkedin.com/sales/lead/{MID},OUT_OF_NETWORK,xyz",
        MID,
    ],
)
def test_member_ids_are_found_in_sales_navigator_and_member_urls(spelling: str) -> None:
    assert member_id_from(spelling) == MID


def test_member_id_urls_are_not_mistaken_for_slugs() -> None:
    assert normalize_profile_url(f"https://www.linkedin.com/in/{MID}") is None


def test_profile_key_combines_url_and_vmid_from_an_export_row() -> None:
    key = profile_key(
        f"https://www.linkedin.com/sales/lead/{MID},NAME_SEARCH,x",
        "https://de.linkedin.com/in/Jane-Doe-1a2b3c/",
        vmid=MID,
    )
    assert key.url == JANE and key.member_id == MID and key.storage_url == JANE


def test_profile_key_with_only_a_member_id_stores_the_member_url() -> None:
    key = profile_key(f"https://www.linkedin.com/sales/lead/{MID},NAME_SEARCH,x")
    assert key.url is None and key.member_id == MID
    assert key.storage_url == f"https://www.linkedin.com/in/{MID}"


def test_profile_key_of_garbage_is_invalid() -> None:
    assert not profile_key("hello", None, vmid="nope").valid
