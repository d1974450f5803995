"""Settings a live portal cannot run without are refused at start-up, with the fix."""

import pytest

from app.config import ConfigError


def test_production_refuses_to_start_without_a_mail_server(make_app):
    with pytest.raises(ConfigError, match="MAIL_SERVER is not set"):
        make_app(ENV_NAME="production")
    assert make_app(ENV_NAME="production", MAIL_SERVER="mail.example.org") is not None


def test_production_refuses_to_start_without_the_portal_address(make_app):
    with pytest.raises(ConfigError, match="PORTAL_BASE_URL is not set"):
        make_app(ENV_NAME="production", MAIL_SERVER="mail.example.org", PORTAL_BASE_URL="")


def test_development_prints_emails_and_links_to_the_local_server(make_app):
    app = make_app(ENV_NAME="development", MAIL_SERVER=None, PORTAL_BASE_URL="")
    assert app.config["PORTAL_BASE_URL"] == "http://127.0.0.1:5000"


def test_per_process_rate_limit_counters_are_warned_about_in_production(make_app, caplog):
    live = {"ENV_NAME": "production", "MAIL_SERVER": "mail.example.org"}
    make_app(**live, RATELIMIT_STORAGE_URI="memory://")
    [warning] = [r for r in caplog.records if "RATELIMIT_STORAGE_URI" in r.getMessage()]
    assert warning.levelname == "WARNING"
    assert "each worker process counts sign-in attempts on its own" in warning.getMessage()
    caplog.clear()
    make_app(**live, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15")
    assert not [r for r in caplog.records if "RATELIMIT_STORAGE_URI" in r.getMessage()]


def test_the_lock_wait_keeps_the_connection_health_check(app):
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True
    assert "connect_args" in options


@pytest.mark.parametrize("days", [-1, 61])
def test_the_release_lead_must_be_0_to_60_days(make_app, days):
    with pytest.raises(ConfigError, match="RELEASE_DEFAULT_DAYS_BEFORE must be a whole number"):
        make_app(RELEASE_DEFAULT_DAYS_BEFORE=days)


def test_the_release_lead_defaults_to_three_days(app):
    assert app.config["RELEASE_DEFAULT_DAYS_BEFORE"] == 3
