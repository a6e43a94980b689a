"""Security headers on every response (docs/security.md, "Headers").

* ``Content-Security-Policy``: everything from our own origin only. Scripts run only from our files or
  from inline blocks carrying this response's nonce (FAB's templates print ``baselib.get_nonce()``,
  which calls the ``csp_nonce()`` global set here); no ``'unsafe-inline'``/``'unsafe-eval'`` for scripts.
  Inline ``style=""`` attributes are allowed (Flask-AppBuilder's templates and Select2 use them; a style
  cannot run code). Nothing may frame our pages (``frame-ancestors 'none'`` and ``X-Frame-Options``).
* ``X-Content-Type-Options: nosniff`` on everything, downloads included.
* ``Referrer-Policy: same-origin``: our URLs (ids, search terms) never leave for another site.
* ``Cache-Control: no-store`` on every response but static files: pages and downloads carry personal data.
* No ``Server`` banner naming software or versions: the app sets none, ``run.py``'s server answers
  without one, and gunicorn names no version.
"""
from __future__ import annotations

import secrets

from flask import Flask, g, request
from werkzeug.serving import WSGIRequestHandler

#: endpoints whose responses are public, versioned files a browser may cache
STATIC_ENDPOINTS = {"static", "appbuilder.static"}

CSP = (
    "default-src 'self'; "
    "script-src 'self' 'nonce-{nonce}'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)


def csp_nonce() -> str:
    """This response's script nonce, made on first use."""
    nonce = g.get("_csp_nonce")
    if nonce is None:
        nonce = g._csp_nonce = secrets.token_urlsafe(18)
    return nonce


def add_security_headers(response):
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["Content-Security-Policy"] = CSP.format(nonce=csp_nonce())
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint not in STATIC_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
        headers.pop("Expires", None)
        headers.pop("Last-Modified", None)
    return response


def register_security_headers(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(add_security_headers)


class QuietRequestHandler(WSGIRequestHandler):
    """The built-in server (``python run.py``) answers without naming software or versions."""

    def version_string(self) -> str:
        return "jijiao"
