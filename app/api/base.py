"""Scoped REST base: reads filtered by scope, writes refused (404) when they would leave it."""
from __future__ import annotations

from flask_appbuilder.api import ModelRestApi

from app import write_rules
from app.actor import current_actor
from app.admin.base import MAX_PAGE_SIZE, OutOfScope, scope_related_fields
from app.errors import AppError
from app.extensions import db
from app.scope import SCOPE_BASE_FILTER, is_scoped_model, object_in_scope
from app.services import audit
from app.services.transaction import transaction


def safe(f):
    """FAB's ``@safe`` turns every exception into a 500: ours lets the error model answer refusals
    (404/403/422/409/503 with a Chinese message) and keeps 500 for real faults."""
    import functools
    import logging

    from werkzeug.exceptions import HTTPException

    @functools.wraps(f)
    def wrapper(self, *args, **kwargs):
        try:
            return f(self, *args, **kwargs)
        except (AppError, HTTPException):
            raise
        except Exception:  # noqa: BLE001 - logged, answered as FAB does
            logging.getLogger("app.api").exception("API error on %s", f.__name__)
            db.session.rollback()
            return self.response_500()

    return wrapper


class ScopedModelRestApi(ModelRestApi):
    """ModelRestApi whose every endpoint respects the caller's data scope."""

    max_page_size = MAX_PAGE_SIZE
    page_size = 20
    #: JWT only: a cookie-authenticated API would need CSRF protection too
    allow_browser_login = False

    def __init__(self):
        self.base_filters = [SCOPE_BASE_FILTER] + list(self.base_filters or [])
        for attr in ("add_query_rel_fields", "edit_query_rel_fields"):
            setattr(self, attr, scope_related_fields(self.datamodel, getattr(self, attr)))
        super().__init__()
        if hasattr(self.datamodel, "on_created"):
            self.datamodel.on_created = self._audit_created

    def _get_field_info(self, field, filter_rel_field, page=None, page_size=None):
        """FAB translates a missing label or description with gettext(""), which answers the catalog's
        header ("Project-Id-Version: ..."): a field without one gets an empty text instead."""
        info = super()._get_field_info(field, filter_rel_field, page=page, page_size=page_size)
        if not self.description_columns.get(field.name):
            info["description"] = ""
        if not self.label_columns.get(field.name):
            info["label"] = field.name
        return info

    def _check_scope(self, item) -> None:
        if is_scoped_model(type(item)) and not object_in_scope(item):
            raise OutOfScope()

    def pre_add(self, item):
        self._check_scope(item)
        write_rules.run("before_add", current_actor(), item)

    def _audit_created(self, item):
        audit.record("create", item, actor=current_actor(), after=audit.snapshot(item))

    def pre_update(self, item):
        write_rules.check_update(item)
        self._check_scope(item)
        write_rules.run("before_update", current_actor(), item)
        before, after = audit.pending_changes(item)
        if after:
            audit.record("update", item, actor=current_actor(), before=before, after=after)

    def pre_delete(self, item):
        write_rules.run("before_delete", current_actor(), item)
        audit.record("delete", item, actor=current_actor(), before=audit.snapshot(item))

    def _refusal(self, exc: AppError):
        db.session.rollback()
        if isinstance(exc, OutOfScope):
            return self.response_404()
        return self.response(exc.status_code, message=exc.message)

    def _check_relation_values(self, columns) -> None:
        """A relation is given by the id of the row it points at; FAB would build a row from a nested
        object (and fail with a TypeError): anything but a whole number is refused first."""
        from flask import request
        from flask_babel import gettext

        from app.errors import InvalidInput
        from app.interface import parse_id

        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return
        for name in columns:
            if name not in body or not self.datamodel.is_relation(name):
                continue
            value = body[name]
            many = self.datamodel.is_relation_many_to_many(name) or self.datamodel.is_relation_one_to_many(name)
            values = value if many and isinstance(value, list) else [value]
            if any(v is not None and (isinstance(v, bool) or not isinstance(v, int) or parse_id(v) is None)
                   for v in values) or (many and not isinstance(value, list)):
                raise InvalidInput(gettext("%(field)s must be given as the number of an existing record",
                                           field=str(self.label_columns.get(name, name))), field=name)

    def post_headless(self):
        try:
            self._check_relation_values(self.add_columns)
            with transaction():
                return super().post_headless()
        except AppError as exc:
            return self._refusal(exc)

    def put_headless(self, pk):
        try:
            self._check_relation_values(self.edit_columns)
            with transaction():
                return super().put_headless(pk)
        except AppError as exc:
            return self._refusal(exc)

    def delete_headless(self, pk):
        try:
            with transaction():
                return super().delete_headless(pk)
        except AppError as exc:
            return self._refusal(exc)
