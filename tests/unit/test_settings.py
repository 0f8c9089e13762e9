"""Settings: production refuses weak secrets; development keeps a generated key under var/."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.core.settings import SettingsError, check_secret_key, load_settings

STRONG = "k3Y-9f8Q2mZx7Lw4Tn6Rb1Vc5Hs0Jd8PgE2yUa"


def _prod(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"SOURCINGX_ENV": "production", "SOURCINGX_VAR_DIR": str(tmp_path), **extra}


@pytest.mark.parametrize("secret", ["", "changeme", "CHANGE_ME", "secret", "short-key-123"])
def test_production_refuses_missing_default_or_short_secret(tmp_path: Path, secret: str) -> None:
    env = _prod(tmp_path, SECRET_KEY=secret) if secret else _prod(tmp_path)
    with pytest.raises(SettingsError):
        load_settings(env)


def test_production_refuses_low_entropy_secret() -> None:
    with pytest.raises(SettingsError, match="not random"):
        check_secret_key("a" * 40)


def test_production_accepts_strong_secret_and_marks_cookies_secure(tmp_path: Path) -> None:
    settings = load_settings(_prod(tmp_path, SECRET_KEY=STRONG))
    assert settings.secret_key == STRONG
    assert settings.trust_tls is True
    assert "k3Y" not in repr(settings)  # the key never shows in a repr or log line


def test_development_generates_and_reuses_one_key(tmp_path: Path) -> None:
    env = {"SOURCINGX_ENV": "development", "SOURCINGX_VAR_DIR": str(tmp_path)}
    first = load_settings(env).secret_key
    second = load_settings(env).secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").read_text().strip() == first


def test_bad_numbers_and_modes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="DB_POOL_MAX"):
        load_settings({"SOURCINGX_VAR_DIR": str(tmp_path), "DB_POOL_MAX": "many"})
    with pytest.raises(SettingsError, match="SOURCINGX_ENV"):
        load_settings({"SOURCINGX_VAR_DIR": str(tmp_path), "SOURCINGX_ENV": "staging"})


def test_provider_keys_switch_off_the_sandbox(tmp_path: Path) -> None:
    base = {"SOURCINGX_VAR_DIR": str(tmp_path)}
    assert load_settings(base).uses_sandbox
    with_key = load_settings({**base, "OPENAI_API_KEY": "sk-test"})
    assert not with_key.uses_sandbox
    assert "sk-test" not in repr(with_key)


def test_dotenv_is_read_under_the_environment_but_never_into_an_explicit_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / "custom.env"
    dotenv.write_text("# local overrides\nEXPORT_ROW_CAP=7\nCRUSTDATA_API_KEY='cd-from-dotenv'\n")
    monkeypatch.delenv("EXPORT_ROW_CAP", raising=False)
    monkeypatch.delenv("CRUSTDATA_API_KEY", raising=False)
    monkeypatch.setenv("SOURCINGX_DOTENV", str(dotenv))
    from_env = load_settings()
    assert from_env.export_row_cap == 7
    assert from_env.providers.crustdata_key == "cd-from-dotenv"
    monkeypatch.setenv("EXPORT_ROW_CAP", "8")
    assert load_settings().export_row_cap == 8  # the real environment wins over the file
    explicit = load_settings({"SOURCINGX_VAR_DIR": str(tmp_path), "SOURCINGX_DOTENV": str(dotenv)})
    assert explicit.export_row_cap == 200_000  # only what was passed
    assert explicit.uses_sandbox
    monkeypatch.setenv("SOURCINGX_DOTENV", "")
    monkeypatch.delenv("EXPORT_ROW_CAP")
    assert load_settings().export_row_cap == 200_000  # empty: no file at all
