"""CSRF on forms and actions; login endpoints rate limited per address."""
from __future__ import annotations

import pytest

from tests.conftest import HEALTH_ID, make_config


@pytest.fixture()
def strict_app(app, database_url):
    """Same database, production-like protections: CSRF and rate limits on."""
    from app import create_app

    return create_app(make_config(database_url, WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=True,
                                  AUTH_RATE_LIMITED=True, AUTH_RATE_LIMIT="3 per minute"))


def test_login_without_csrf_token_is_refused(strict_app):
    client = strict_app.test_client()
    response = client.post("/login/", data={"user_type": "supervisory", "username": HEALTH_ID,
                                            "password": "Demo@2026"})
    assert response.status_code == 400                  # refused by CSRF protection, no session
    assert client.get("/").status_code == 302


def test_action_post_without_csrf_token_is_refused(strict_app):
    import re

    client = strict_app.test_client()
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login/", data={"user_type": "supervisory", "username": HEALTH_ID,
                                            "password": "Demo@2026", "csrf_token": token})
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    assert client.post("/organisations/action_post", data={"action": "disable", "rowid": ["1"]}).status_code == 400


def test_login_endpoints_are_rate_limited(strict_app):
    client = strict_app.test_client()
    codes = [client.post("/login/", data={}, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code
             for _ in range(5)]
    assert codes[-1] == 429
    api_codes = [client.post("/api/v1/security/login", json={},
                             environ_base={"REMOTE_ADDR": "10.9.9.8"}).status_code for _ in range(5)]
    assert api_codes[-1] == 429
    # another address is not affected
    assert client.post("/login/", data={}, environ_base={"REMOTE_ADDR": "10.9.9.7"}).status_code != 429
