from __future__ import annotations

import pytest

from kluis.errors import ConfigurationError
from kluis.settings import load_settings

PRODUCTION = {
    "KLUIS_ENV": "production",
    "KLUIS_PUBLIC_URL": "https://kluis.example.be",
    "KLUIS_ALLOW_LOCAL_KEY_FILE": "true",
    "KLUIS_PROVIDERS__ITSME__CLIENT_ID": "kluis",
    "KLUIS_PROVIDERS__FAS__CLIENT_ID": "kluis",
    "KLUIS_PROVIDERS__FAS__CLIENT_SECRET": "from-the-vault",
    "KLUIS_VAULT__CLAMD_URL": "unix:///run/clamav/clamd.ctl",
    "KLUIS_MAIL__SMTP_HOST": "smtp.example.be",
    "KLUIS_MAIL__FROM_ADDRESS": "Kluis <no-reply@kluis.example.be>",
    "KLUIS_TASKS__BROKER_URL": "redis://redis.example.be:6379/0",
    "KLUIS_REDIS_URL": "redis://redis.example.be:6379/1",
}


def test_environment_variables_override_the_file():
    settings = load_settings(
        {"KLUIS_ENV": "development", "KLUIS_PORT": "9001", "KLUIS_SESSION__IDLE_MINUTES": "5"}
    )
    assert settings.port == 9001
    assert settings.session.idle_minutes == 5
    assert settings.base_url == "http://127.0.0.1:9001"


def test_database_url_from_the_environment():
    url = "postgresql+asyncpg://kluis@db/kluis"
    assert load_settings({"KLUIS_ENV": "test", "KLUIS_DATABASE_URL": url}).database_url == url


def test_provider_profile_fills_in_the_provider():
    itsme = load_settings({"KLUIS_ENV": "development"}).providers["itsme"]
    assert itsme.nrn_claim == "http://itsme.services/v2/claim/BENationalNumber"
    assert itsme.id_token_encrypted and itsme.userinfo_encrypted
    assert itsme.discovery_url == "http://127.0.0.1:8000/dev-idp/.well-known/openid-configuration"


def test_production_starts_without_stand_ins():
    settings = load_settings(PRODUCTION)
    assert settings.env == "production"
    assert settings.session_cookie == "__Host-kluis"
    assert not settings.dev_idp


@pytest.mark.parametrize(
    ("name", "value", "stand_in"),
    [
        ("KLUIS_DEV_IDP", "true", "development identity provider"),
        ("KLUIS_ALLOW_LOCAL_KEY_FILE", "false", "local key file"),
        ("KLUIS_PROVIDERS__ITSME__DEVELOPMENT", "true", "marked development"),
        ("KLUIS_VAULT__CLAMD_URL", "", "development scanner"),
        ("KLUIS_VAULT__LOCAL_CLAMD", "true", "project-local clamd"),
        ("KLUIS_MAIL__MAILER", "outbox", "development outbox"),
        ("KLUIS_TASKS__BROKER_URL", "", "embedded task broker"),
        ("KLUIS_REDIS_URL", "", "per-process rate limits and sessions"),
    ],
)
def test_production_refuses_development_stand_ins(name, value, stand_in):
    with pytest.raises(ConfigurationError, match=stand_in):
        load_settings({**PRODUCTION, name: value})


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"KLUIS_PROVIDERS__ITSME__CLIENT_ID": ""}, "provider 'itsme' needs client_id$"),
        (
            {"KLUIS_PROVIDERS__ITSME__DISCOVERY_URL": ""},
            "provider 'itsme' needs discovery_url$",
        ),
        (
            {"KLUIS_PROVIDERS__FAS__CLIENT_ID": "", "KLUIS_PROVIDERS__FAS__DISCOVERY_URL": ""},
            "provider 'fas' needs client_id and discovery_url$",
        ),
    ],
)
def test_a_provider_without_what_it_needs_is_refused_naming_what_is_missing(changes, problem):
    with pytest.raises(ConfigurationError, match=problem):
        load_settings({**PRODUCTION, **changes})


def test_production_sends_mail_over_smtp_through_redis():
    settings = load_settings(PRODUCTION)
    assert settings.mail.mailer == "smtp"
    assert settings.tasks.broker_url.startswith("redis://")


@pytest.mark.parametrize("env", ["development", "test"])
def test_development_and_test_keep_mail_in_the_outbox(env):
    settings = load_settings({"KLUIS_ENV": env})
    assert settings.mail.mailer == "outbox"
    assert not settings.tasks.broker_url


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"KLUIS_MAIL__SMTP_HOST": ""}, "smtp_host and from_address"),
        ({"KLUIS_MAIL__FROM_ADDRESS": ""}, "smtp_host and from_address"),
        ({"KLUIS_MAIL__SMTP_USERNAME": "kluis"}, "smtp_username and smtp_password"),
    ],
)
def test_smtp_settings_that_cannot_send_are_refused(changes, problem):
    with pytest.raises(ConfigurationError, match=problem):
        load_settings({**PRODUCTION, **changes})


def test_production_needs_https():
    with pytest.raises(ConfigurationError, match="https"):
        load_settings({**PRODUCTION, "KLUIS_PUBLIC_URL": "http://kluis.example.be"})


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigurationError, match="KLUIS_ENV"):
        load_settings({"KLUIS_ENV": "staging"})


def test_invalid_value_is_refused():
    with pytest.raises(ConfigurationError, match="invalid settings"):
        load_settings({"KLUIS_ENV": "development", "KLUIS_PORT": "eighty"})


PKCS11 = {"KLUIS_KEY_PROVIDER": "pkcs11", "KLUIS_PKCS11__PIN": "from-the-environment"}


def test_production_takes_the_pkcs11_key_provider_without_the_local_file():
    settings = load_settings({**PRODUCTION, **PKCS11, "KLUIS_ALLOW_LOCAL_KEY_FILE": "false"})
    assert settings.key_provider == "pkcs11"
    assert settings.pkcs11.module == "/usr/lib/softhsm/libsofthsm2.so"
    assert settings.pkcs11.pin == "from-the-environment"


def test_pkcs11_needs_its_pin():
    with pytest.raises(ConfigurationError, match="KLUIS_PKCS11__PIN"):
        load_settings({**PRODUCTION, "KLUIS_KEY_PROVIDER": "pkcs11"})


def test_a_pkcs11_pin_in_a_settings_file_is_refused(tmp_path, monkeypatch):
    (tmp_path / "test.toml").write_text('key_provider = "pkcs11"\n[pkcs11]\npin = "1234"\n')
    monkeypatch.setattr("kluis.settings.CONFIG_DIR", tmp_path)
    with pytest.raises(ConfigurationError, match="KLUIS_PKCS11__PIN only"):
        load_settings({"KLUIS_ENV": "test", "KLUIS_PKCS11__PIN": "1234"})


def test_the_pkcs11_pin_is_not_in_the_settings_repr():
    settings = load_settings({**PRODUCTION, **PKCS11})
    assert "from-the-environment" not in repr(settings)
    assert "pin=<set>" in repr(settings)
