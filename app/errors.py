"""One error model for pages and the API: what went wrong, the status it answers with, a Chinese message.

Services raise these; nothing else needs to triage them. ``create_app`` registers the handlers once:

* ``NotFound``     → 404 (also for rows outside the viewer's scope: existence is never revealed);
* ``NotAllowed``   → 403 page saying what was refused and that nothing changed;
* ``InvalidInput`` → 422; form views catch it to show the message next to the field, anything
  uncaught is flashed and the user is sent back to the page they came from;
* ``Conflict``     → 409, an ``InvalidInput`` (someone else changed the data meanwhile, a duplicate);
* ``Unavailable``  → 503 with "please retry" (the database or another service is unreachable).

The JSON API answers the same cases with the same status codes and ``{"message": "..."}``.

Malformed input never answers 500 (docs/security.md, "Error answers"): ``check_api_request`` refuses
NUL characters, bad paging arguments, an unparsable ``q`` and a JSON body that is not an object up
front (400); values the database refuses anyway answer 400 (``malformed_input``); and every REST
resource, FAB's own included, answers through ``api_exception_response`` instead of FAB's ``@safe`` 500,
with Chinese messages (``chinese_error_body``). API refusals are logged on ``app.api``.
"""
from __future__ import annotations

import logging
import re
from typing import Optional
from urllib.parse import urlsplit

from flask import Flask, flash, jsonify, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

log = logging.getLogger("app.errors")
#: every refused or failed API request is logged here (method, path, status, message)
api_log = logging.getLogger("app.api")


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
        if status == 503:
            response.headers["Retry-After"] = "5"
        return response
    from flask import current_app

    if status == 503:
        # the database (or another service) may be away: a page that needs neither the user nor the menu,
        # rendered without the context processors (Flask-Login's would load the user from the database)
        page = current_app.jinja_env.get_template("errors/unavailable.html").render(
            status=status, title=str(TITLES[503]), message=message, request=request, config=current_app.config)
        return page, status, {"Retry-After": "5", "Content-Type": "text/html; charset=utf-8"}

    return render_template(
        "errors/error.html", status=status, title=str(TITLES.get(status, TITLES[400])), message=message,
        appbuilder=current_app.appbuilder, base_template=current_app.appbuilder.base_template,
    ), status


def handle_app_error(exc: AppError):
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
    if status == 413:
        from flask import current_app
        from flask_babel import gettext

        limit = current_app.config.get("MAX_UPLOAD_BYTES") or 0
        message = gettext("The upload is too large: a file may be at most %(mb)d MB", mb=limit // (1024 * 1024))
    response = error_response(status, str(message))
    if status == 405 and isinstance(response, tuple):
        return response[0], status, {"Allow": ", ".join(exc.valid_methods or [])}
    return response


def outage(exc: BaseException) -> bool:
    """Whether a service the request needs went away (database, Redis, file store): retry later, a 503.

    SQLAlchemy's OperationalError/DisconnectionError/InterfaceError (connection refused or lost, server
    restarting), Redis connection errors and timeouts, and the object store's endpoint, connection and
    timeout errors or its own 5xx answers. The transaction rolled back; nothing was changed.
    """
    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

    if isinstance(exc, (OperationalError, DisconnectionError, InterfaceError)):
        return True
    try:
        import redis.exceptions as redis_errors

        if isinstance(exc, (redis_errors.ConnectionError, redis_errors.TimeoutError)):
            return True
    except ImportError:  # pragma: no cover - redis is pinned
        pass
    try:
        import botocore.exceptions as boto_errors

        if isinstance(exc, (boto_errors.ConnectionError, boto_errors.HTTPClientError)):
            return True
        if isinstance(exc, boto_errors.ClientError):
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            return int(status) >= 500
    except ImportError:  # pragma: no cover - boto3 is pinned
        pass
    return False


def handle_database_unavailable(exc: Exception):
    """503 with "please retry" for an outage (``outage``), on pages and the API; never a 500."""
    log.warning("service unavailable on %s %s: %s: %s", request.method, request.path, type(exc).__name__, exc)
    _rollback()
    return error_response(503, str(Unavailable.default_message))


def malformed_input(exc: BaseException) -> bool:
    """Whether the database (or its driver) refused a value the request carried: a number out of range,
    a value that is not one of an enumeration's, text the column cannot hold. The request is at fault,
    not the code, so the answer is 400 "bad request" and nothing is changed. Views validate input first;
    this is the net under that, so that no such input ever answers 500."""
    from sqlalchemy.exc import DataError, StatementError

    if isinstance(exc, (OverflowError, DataError)):
        return True
    if isinstance(exc, StatementError) and isinstance(exc.orig, (LookupError, OverflowError, DataError)):
        return True
    # psycopg2 refuses NUL characters in text before the statement is sent
    cause = getattr(exc, "orig", exc)
    return isinstance(cause, ValueError) and "NUL" in str(cause)


def _rollback() -> None:
    from app.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone already
        try:
            db.session.remove()
        except Exception:  # noqa: BLE001
            pass


def handle_unexpected(exc: Exception):
    """A 500 is a bug: log it with the traceback, tell the user nothing was changed."""
    from app.extensions import db

    if isinstance(exc, HTTPException):
        return handle_http_error(exc)
    if outage(exc):
        return handle_database_unavailable(exc)
    if malformed_input(exc):
        log.warning("malformed input on %s %s: %s", request.method, request.path, exc)
        _rollback()
        return error_response(400, str(HTTP_MESSAGES[400]))
    log.exception("unhandled error on %s %s", request.method, request.path)
    try:
        db.session.rollback()
    except Exception:  # pragma: no cover
        db.session.remove()
    return error_response(500, str(HTTP_MESSAGES[500]))


def api_exception_response(api, exc: BaseException):
    """The one error model for REST resources: what FAB's ``@safe`` would turn into a 500.

    ``install_api_error_model`` points every API's ``response_500`` here; ``@safe`` calls it while the
    exception is being handled, so the exception is known: a refusal keeps its status and Chinese
    message, HTTP errors (413, 404...) theirs, malformed input is a 400; only a real bug stays a 500.
    """
    if isinstance(exc, AppError):
        _rollback()
        return api.response(exc.status_code, message=exc.message)
    if isinstance(exc, HTTPException) and exc.code and exc.code < 500:
        _rollback()
        response = handle_http_error(exc)
        return response if not isinstance(response, HTTPException) else api.response(exc.code, message=str(exc))
    if outage(exc):
        log.warning("service unavailable on %s %s: %s: %s", request.method, request.path, type(exc).__name__, exc)
        _rollback()
        return api.response(503, message=str(Unavailable.default_message))
    if malformed_input(exc):
        log.warning("malformed input on %s %s: %s", request.method, request.path, exc)
        _rollback()
        return api.response(400, message=str(HTTP_MESSAGES[400]))
    _rollback()
    return api.response(500, message=str(HTTP_MESSAGES[500]))


def install_api_error_model(appbuilder) -> None:
    """Give every registered REST resource (ours, FAB's security and OpenAPI ones) the one error model."""
    import sys
    import types

    from flask_appbuilder.api import BaseApi

    def response_500(self, message=None):
        exc = sys.exc_info()[1]
        if exc is None:
            return self.response(500, message=str(HTTP_MESSAGES[500]))
        return api_exception_response(self, exc)

    def response(code, **kwargs):
        if code >= 400:
            kwargs = chinese_error_body(code, kwargs)
        return BaseApi.response(code, **kwargs)

    for view in appbuilder.baseviews:
        if isinstance(view, BaseApi):
            view.response_500 = types.MethodType(response_500, view)
            view.response = response


def chinese_error_body(status: int, body: dict) -> dict:
    """FAB and marshmallow answer in English ("Not found", "Not a valid integer."): the message users
    read is Chinese; field errors stay under "errors" and an English detail under "detail"."""
    message = body.get("message")
    if isinstance(message, str) and not message.isascii():
        return body
    body = dict(body)
    if isinstance(message, (dict, list)):
        body["errors"] = message
        body["message"] = str(_l("The submitted data is invalid; see errors for each field"))
        return body
    if message:
        body["detail"] = message
    body["message"] = str(HTTP_MESSAGES.get(status) or HTTP_MESSAGES[400 if status < 500 else 500])
    return body


#: list pages take page_<View> and psize_<View>: FAB's int() of anything else is a 500
_PAGING = re.compile(r"page_|psize_")


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def check_no_nul_characters():
    """No field of ours may hold a NUL character (PostgreSQL refuses it in text): 400 up front."""
    values = list(request.args.items(multi=True))
    if request.method in ("POST", "PUT", "PATCH"):
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values += list(request.form.items(multi=True))
        elif request.is_json:
            values.append(("", request.get_json(silent=True)))
    if any(_has_nul(k) or _has_nul(v) for k, v in values):
        return error_response(400, str(_l("The request contains characters that are not allowed")))
    return None


def check_list_arguments():
    """A page number or page size that is not a small whole number answers 400 (never reaches FAB)."""
    for key, value in request.args.items(multi=True):
        if _PAGING.search(key) and not (value.isdigit() and len(value) <= 6):
            return error_response(400, str(_l("The page number or page size is not valid")))
    return None


def check_api_request():
    """Malformed API input answers 400 before any view runs: a rison/JSON ``q`` that does not parse
    (FAB only catches some parser errors), a JSON body that is not an object."""
    refused = check_no_nul_characters()
    if refused is not None:
        return refused
    if not is_api_request():
        return check_list_arguments()
    value = request.args.get("q")
    if value:
        import json

        import prison

        parsed = None
        try:
            parsed = prison.loads(value)
        except Exception:  # noqa: BLE001 - any parser failure (incl. recursion) is the caller's input
            try:
                parsed = json.loads(value)
            except Exception:  # noqa: BLE001
                parsed = None
        if not isinstance(parsed, dict):
            return error_response(400, str(_l("The query argument q is not valid rison or JSON")))
    if request.method in ("POST", "PUT", "PATCH") and request.is_json:
        body = request.get_json(silent=True)
        if body is None and request.content_length:
            return error_response(400, str(_l("The request body is not valid JSON")))
        if body is not None and not isinstance(body, dict):
            return error_response(400, str(_l("The request body must be a JSON object")))
    return None


def log_api_refusal(response):
    """Every API answer of 400 and above is logged, whoever produced it (our handlers, FAB, JWT)."""
    if response.status_code >= 400 and is_api_request():
        message = ""
        if response.is_json:
            body = response.get_json(silent=True)
            if isinstance(body, dict):
                message = body.get("message") or body.get("msg") or ""
        level = logging.ERROR if response.status_code >= 500 else logging.WARNING
        api_log.log(level, "API %s %s answered %s: %s", request.method, request.path, response.status_code,
                    str(message)[:300])
    return response


def register_error_handlers(app: Flask) -> None:
    """Registered once in create_app; views and APIs raise, never triage."""
    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

    app.after_request(log_api_refusal)
    app.before_request(check_api_request)
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_error)
    for outage_class in (OperationalError, DisconnectionError, InterfaceError):
        app.register_error_handler(outage_class, handle_database_unavailable)
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
