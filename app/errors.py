"""One error model for pages and the API: what went wrong, the status it answers with, a Chinese message.

Services raise these; nothing else needs to triage them. ``create_app`` registers the handlers once:

* ``NotFound``     → 404 (also for rows outside the viewer's scope: existence is never revealed);
* ``NotAllowed``   → 403 page saying what was refused and that nothing changed;
* ``InvalidInput`` → 422; form views catch it to show the message next to the field, anything
  uncaught is flashed and the user is sent back to the page they came from;
* ``Conflict``     → 409, an ``InvalidInput`` (someone else changed the data meanwhile, a duplicate);
* ``Unavailable``  → 503 with "please retry" (the database or another service is unreachable).

The JSON API answers the same cases with the same status codes and ``{"message": "..."}``.
"""
from __future__ import annotations

import logging
from typing import Optional
from urllib.parse import urlsplit

from flask import Flask, flash, jsonify, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

log = logging.getLogger("app.errors")


class AppError(Exception):
    """Base of every refusal the product explains to the user."""

    status_code = 400
    default_message = _l("The request could not be processed")

    def __init__(self, message: Optional[str] = None, *, field: Optional[str] = None):
        self._message = message
        #: the form field the message belongs next to, when there is one
        self.field = field
        super().__init__(message)

    @property
    def message(self) -> str:
        return str(self._message if self._message is not None else self.default_message)

    def __str__(self) -> str:
        return self.message


class NotFound(AppError, LookupError):
    """Unknown, or outside what the actor may see: never say which."""

    status_code = 404
    default_message = _l("The page or record does not exist, or is outside your scope")


class NotAllowed(AppError):
    """The actor may see this but not do it."""

    status_code = 403
    default_message = _l("You are not allowed to do this")


class InvalidInput(AppError):
    """Bad input or a business rule refused it; nothing was changed."""

    status_code = 422


class Conflict(InvalidInput):
    """The data changed meanwhile or already exists; nothing was changed."""

    status_code = 409
    default_message = _l("The data was changed by someone else meanwhile; nothing was changed, please retry")


class Unavailable(AppError):
    """A service the request needs (database, Redis, file store) is unreachable: retry later."""

    status_code = 503
    default_message = _l("The service is temporarily unavailable; nothing was changed, please retry in a moment")


#: HTTP errors raised by Flask/Werkzeug (abort(404), a bad method, a too-large body) in Chinese
HTTP_MESSAGES = {
    400: _l("The request is malformed"),
    401: _l("Please sign in first"),
    403: _l("You are not allowed to do this"),
    404: _l("The page or record does not exist, or is outside your scope"),
    405: _l("This operation is not supported here"),
    413: _l("The upload is too large"),
    422: _l("The request could not be processed"),
    429: _l("Too many requests; please wait a moment and retry"),
    500: _l("An internal error occurred; nothing was changed. Please retry or contact the administrator"),
    503: _l("The service is temporarily unavailable; nothing was changed, please retry in a moment"),
}

TITLES = {
    400: _l("Bad request"), 401: _l("Not signed in"), 403: _l("Operation not allowed"),
    404: _l("Not found"), 405: _l("Not supported"), 409: _l("Data changed"), 413: _l("Upload too large"),
    422: _l("Cannot be processed"), 429: _l("Too many requests"), 500: _l("Internal error"),
    503: _l("Service unavailable"),
}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _same_site_referrer() -> Optional[str]:
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def error_response(status: int, message: str):
    """The answer for an error: JSON on the API, a Chinese page otherwise."""
    if is_api_request():
        response = jsonify(message=message)
        response.status_code = status
        return response
    from flask import current_app

    return render_template(
        "errors/error.html", status=status, title=str(TITLES.get(status, TITLES[400])), message=message,
        appbuilder=current_app.appbuilder, base_template=current_app.appbuilder.base_template,
    ), status


def handle_app_error(exc: AppError):
    if is_api_request():
        log.info("API %s %s answered %s: %s", request.method, request.path, exc.status_code, exc.message)
    if isinstance(exc, InvalidInput) and not is_api_request() and request.method == "POST":
        back = _same_site_referrer()
        if back:
            flash(exc.message, "danger")
            return redirect(back)
    return error_response(exc.status_code, exc.message)


def handle_http_error(exc: HTTPException):
    status = exc.code or 500
    if status in (301, 302, 303, 307, 308) or exc.response is not None:
        return exc
    message = HTTP_MESSAGES.get(status)
    if message is None:
        return exc
    if is_api_request() and status >= 400:
        log.info("API %s %s answered %s", request.method, request.path, status)
    response = error_response(status, str(message))
    if status == 405 and isinstance(response, tuple):
        return response[0], status, {"Allow": ", ".join(exc.valid_methods or [])}
    return response


def handle_database_unavailable(exc: Exception):
    from app.extensions import db

    log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
    try:
        db.session.rollback()
    except Exception:  # pragma: no cover - the connection is gone already
        db.session.remove()
    return error_response(503, str(Unavailable.default_message))


def handle_unexpected(exc: Exception):
    """A 500 is a bug: log it with the traceback, tell the user nothing was changed."""
    from app.extensions import db

    if isinstance(exc, HTTPException):
        return handle_http_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    try:
        db.session.rollback()
    except Exception:  # pragma: no cover
        db.session.remove()
    return error_response(500, str(HTTP_MESSAGES[500]))


def register_error_handlers(app: Flask) -> None:
    """Registered once in create_app; views and APIs raise, never triage."""
    from sqlalchemy.exc import DisconnectionError, OperationalError

    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(DisconnectionError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)


def form_error(form, exc: AppError, default_field: Optional[str] = None) -> None:
    """Put a refusal next to its field (or the default one), else flash it; the form keeps its data."""
    name = exc.field or default_field
    if name and name in form:
        form[name].errors = list(form[name].errors) + [exc.message]
    else:
        flash(exc.message, "danger")


__all__ = [
    "AppError", "NotFound", "NotAllowed", "InvalidInput", "Conflict", "Unavailable",
    "register_error_handlers", "error_response", "form_error", "is_api_request",
]
