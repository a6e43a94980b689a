"""继教管理平台: the application factory."""
from __future__ import annotations

import os

from flask import Flask, flash, g, redirect, request, url_for

from config import INSTANCE_DIR, load_config

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")

#: endpoints a user who must change their password may still reach
_PASSWORD_CHANGE_ALLOWED = {"ChangePasswordView", "LoginView", "static", "appbuilder"}


def create_app(config=None) -> Flask:
    """Build the app, its database binding and its own AppBuilder; nothing runs at import."""
    from flask_appbuilder import AppBuilder

    from app import cli
    from app.extensions import db, migrate
    from app.security import AppSecurityManager
    from app.validators import fab_password_complexity
    from app.views import register_views

    app = Flask(__name__, instance_path=INSTANCE_DIR)
    _bounded_integer_urls(app)
    app.config.from_object(load_config(config))
    _engine_options(app)
    _trusted_proxies(app)
    from app.logs import configure_logging, register_request_ids

    configure_logging(app)
    register_request_ids(app)
    _compile_catalog(app.config["BABEL_TRANSLATION_DIRECTORIES"])
    app.config["FAB_PASSWORD_COMPLEXITY_VALIDATOR"] = fab_password_complexity
    _ensure_sqlite_folder(app.config["SQLALCHEMY_DATABASE_URI"])
    _fake_password_hash(app)
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    from app.replica import configure as configure_replica
    from app.storage import storage_from_config

    configure_replica(app, app.config.get("DATABASE_REPLICA_URL"))
    # a wrong STORAGE_BACKEND fails here, at start-up, not at the first upload
    app.extensions["jijiao_storage"] = storage_from_config(app.config, app.instance_path)
    with app.app_context():
        appbuilder = AppBuilder(security_manager_class=AppSecurityManager, update_perms=False)
        appbuilder.init_app(app, db.session)
        register_views(appbuilder)
    from app.admin.base import crud_link_templates

    app.jinja_env.globals["crud_link_templates"] = crud_link_templates
    from app.admin.navbar import cached_menu

    app.jinja_env.globals["cached_menu"] = cached_menu
    _protect_csrf(app)
    from app.errors import register_error_handlers

    register_error_handlers(app)
    from app.errors import install_api_error_model

    install_api_error_model(app.appbuilder)
    from app.headers import register_security_headers

    register_security_headers(app)
    from app.credentials import register_credentials

    register_credentials(app)
    cli.register(app)
    app.before_request(_require_password_change)
    from app.ops import register_ops

    register_ops(app)
    return app


def _engine_options(app: Flask) -> None:
    """The pool options the database URL needs (config.engine_options) under any the config sets."""
    from config import engine_options

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**engine_options(app.config["SQLALCHEMY_DATABASE_URI"]),
                                               **(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})}


def _trusted_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies (nginx: 1) the client address and scheme come from their
    X-Forwarded-For/-Proto headers: rate limits, audit addresses and METRICS_ALLOW see the real client."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _ensure_sqlite_folder(url: str) -> None:
    """The embedded SQLite file needs its folder; nothing else is created at start-up."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and len(url) > len(prefix):
        folder = os.path.dirname(url[len(prefix):])
        if folder:
            os.makedirs(folder, exist_ok=True)
def _bounded_integer_urls(app: Flask) -> None:
    """<int:...> in any route matches only ids a row can have: 2^63 in a URL is a 404, never a 500."""
    from werkzeug.routing import IntegerConverter

    from app.interface import MAX_ID

    class IdConverter(IntegerConverter):
        def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
            super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                             signed=signed)

    app.url_map.converters["int"] = IdConverter


def _fake_password_hash(app: Flask) -> None:
    """An unknown ID number costs one password check too, with the hashing the real ones use."""
    import secrets

    from werkzeug.security import generate_password_hash

    if not app.config.get("AUTH_DB_FAKE_PASSWORD_HASH_CHECK"):
        app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"] = generate_password_hash(
            secrets.token_hex(16), method=app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
            salt_length=app.config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16))


def _compile_catalog(directory: str) -> None:
    """The compiled catalog is a build product (not in git): build it when missing or older than the .po."""
    po = os.path.join(directory, "zh", "LC_MESSAGES", "messages.po")
    mo = po[:-3] + ".mo"
    if not os.path.exists(po):
        return
    if os.path.exists(mo) and os.path.getmtime(mo) >= os.path.getmtime(po):
        return
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(po, "rb") as source:
        catalog = read_po(source)
    tmp = f"{mo}.{os.getpid()}.tmp"
    with open(tmp, "wb") as target:
        write_mo(target, catalog)
    os.replace(tmp, mo)


def _require_password_change():
    """After an admin reset, the user must choose a new password before anything else."""
    if (request.endpoint or "").startswith("ops."):
        return None  # probes and metrics never load the user (no database behind /healthz)
    user = g.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if not getattr(user, "must_change_password", False):
        return None
    blueprint = (request.endpoint or "").split(".")[0]
    if blueprint in _PASSWORD_CHANGE_ALLOWED or request.endpoint in (None, "static"):
        return None
    if request.endpoint and request.endpoint.endswith(".logout"):
        return None
    from flask_babel import gettext as _

    flash(_("An administrator has reset your password: please choose a new password of your own "
            "before you continue."), "warning")
    return redirect(url_for("ChangePasswordView.this_form_get"))


def _protect_csrf(app: Flask) -> None:
    """CSRF on every form and action; the REST API authenticates by JWT only, so it is exempt."""
    from flask_appbuilder.api import BaseApi
    from flask_wtf.csrf import CSRFProtect

    csrf = CSRFProtect(app)
    for view in app.appbuilder.baseviews:
        if isinstance(view, BaseApi):
            csrf.exempt(view.blueprint)
