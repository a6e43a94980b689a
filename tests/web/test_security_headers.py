"""Security headers, request size limit, secure cookies, API error logging (issue 8, findings 12-14)."""
from __future__ import annotations

import io
import logging

import pytest

from tests.conftest import HEALTH_ID, api_token


def _assert_security_headers(response, cacheable=False):
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src")).split()
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert headers.get("X-Frame-Options") == "DENY"
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") == "same-origin"
    assert "Server" not in headers
    if not cacheable:
        assert headers.get("Cache-Control") == "no-store"


def test_pages_carry_security_headers_and_no_cache(app, client_for):
    """Finding 12: CSP with our origin only, no framing, nosniff, referrer policy, no-store."""
    client = client_for(HEALTH_ID)
    for url in ("/", "/persons/list/", "/organisations/list/"):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_security_headers(response)
    _assert_security_headers(app.test_client().get("/login/"))


def test_inline_scripts_carry_the_responses_nonce(app, client_for):
    """Finding 12: every inline <script> runs by nonce, never by 'unsafe-inline'."""
    import re

    response = client_for(HEALTH_ID).get("/persons/list/")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    page = response.get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", page, re.I), "inline event handler attribute"
    # a fresh nonce per response
    again = client_for(HEALTH_ID).get("/persons/list/").headers["Content-Security-Policy"]
    assert nonce not in again


def test_downloads_and_api_answers_carry_nosniff(app, client_for):
    """Finding 12: nosniff on every response, downloads and JSON included."""
    export = client_for(HEALTH_ID).get("/auditlog/export/")
    assert export.status_code == 200
    _assert_security_headers(export)
    client = app.test_client()
    token = api_token(client, HEALTH_ID)
    api = client.get("/api/v1/person/", headers={"Authorization": f"Bearer {token}"})
    _assert_security_headers(api)


def test_static_files_may_be_cached_but_are_not_sniffed(app):
    response = app.test_client().get("/static/js/org_picker.js")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.get("Cache-Control") != "no-store"
    response.close()


def test_session_cookie_is_secure_outside_the_embedded_default(monkeypatch):
    """Finding 12: SESSION_COOKIE_SECURE is on unless the embedded SQLite default is used."""
    import importlib

    import config

    try:
        monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/jijiao")
        monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
        assert importlib.reload(config).Config.SESSION_COOKIE_SECURE is True
        monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
        assert importlib.reload(config).Config.SESSION_COOKIE_SECURE is False
        monkeypatch.delenv("DATABASE_URL")
        monkeypatch.delenv("SESSION_COOKIE_SECURE")
        assert importlib.reload(config).Config.SESSION_COOKIE_SECURE is False
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def test_development_server_names_no_version():
    """Finding 12: python run.py's server sends no Server banner naming Werkzeug or Python."""
    from app.headers import QuietRequestHandler

    assert QuietRequestHandler.version_string(None) == "jijiao"


class _CountingStream(io.RawIOBase):
    """A request body that counts how much of it the server reads."""

    def __init__(self, size):
        self.size, self.pos, self.read_bytes = size, 0, 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, offset, whence=0):
        self.pos = {0: offset, 1: self.pos + offset, 2: self.size + offset}[whence]
        return self.pos

    def readinto(self, buffer):
        n = max(0, min(len(buffer), self.size - self.pos))
        buffer[:n] = b"a" * n
        self.pos += n
        self.read_bytes += n
        return n


@pytest.mark.parametrize("url", ["/ownorganisation/edit", "/register/person", "/persons/add"])
def test_oversized_body_is_refused_with_413_before_it_is_read(app, client_for, url):
    """Finding 13: a 60 MB body answers 413 in Chinese without being read."""
    body = _CountingStream(60 * 1024 * 1024)
    client = client_for(HEALTH_ID)
    response = client.post(url, input_stream=body, content_length=body.size,
                           content_type="multipart/form-data; boundary=xyz")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "过大" in page and "20 MB" in page
    assert body.read_bytes < 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] > app.config["MAX_UPLOAD_BYTES"] == 20 * 1024 * 1024


def test_oversized_api_body_answers_413_json(app):
    client = app.test_client()
    token = api_token(client, HEALTH_ID)
    body = _CountingStream(30 * 1024 * 1024)
    response = client.post("/api/v1/person/", input_stream=body, content_length=body.size,
                           content_type="application/json", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 413
    assert "过大" in response.json["message"]


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_api_refusals_are_logged_after_in_process_migrations(app):
    """Finding 14: migrating in-process (run.py, flask prepare) must not silence the API loggers."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()  # runs migrations/env.py's logging setup, as run.py does
    assert not logging.getLogger("app.api").disabled
    assert not logging.getLogger("app.errors").disabled
    client = app.test_client()
    token = api_token(client, HEALTH_ID)
    records = _Records()
    logger = logging.getLogger("app.api")
    logger.addHandler(records)
    try:
        response = client.get("/api/v1/person/99999999", headers={"Authorization": f"Bearer {token}"})
    finally:
        logger.removeHandler(records)
    assert response.status_code == 404
    assert any("/api/v1/person/99999999" in m and "404" in m for m in records.messages)
