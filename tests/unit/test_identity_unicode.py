"""Slugs in decomposed Unicode (macOS copy-paste) are the same person as composed ones."""

from __future__ import annotations

import unicodedata

from services.identity import normalize_profile_url, profile_key

COMPOSED = "https://www.linkedin.com/in/jürgen-müller-café"


def test_a_decomposed_slug_is_accepted_and_normalised_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", COMPOSED)
    assert decomposed != COMPOSED
    assert normalize_profile_url(decomposed) == COMPOSED
    assert normalize_profile_url(COMPOSED) == COMPOSED


def test_percent_encoded_decomposed_slugs_match_too() -> None:
    encoded_nfd = "https://de.linkedin.com/in/ju%CC%88rgen-mu%CC%88ller-cafe%CC%81/"
    encoded_nfc = "https://www.linkedin.com/in/j%C3%BCrgen-m%C3%BCller-caf%C3%A9"
    assert normalize_profile_url(encoded_nfd) == COMPOSED
    assert profile_key(encoded_nfd) == profile_key(encoded_nfc)
