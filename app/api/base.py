"""Scoped REST base: reads filtered by scope, writes refused (404) when they would leave it."""
from __future__ import annotations

from flask_appbuilder.api import ModelRestApi

from app.admin.base import MAX_PAGE_SIZE, OutOfScope, scope_related_fields
from app.extensions import db
from app.scope import SCOPE_BASE_FILTER, is_scoped_model, object_in_scope
from app.services import audit
from app.services.transaction import transaction


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

    def _check_scope(self, item) -> None:
        if is_scoped_model(type(item)) and not object_in_scope(item):
            raise OutOfScope()

    def pre_add(self, item):
        self._check_scope(item)

    def post_add(self, item):
        with transaction():
            audit.record("create", item, after=audit.snapshot(item))

    def pre_update(self, item):
        self._check_scope(item)
        before, after = audit.pending_changes(item)
        if after:
            audit.record("update", item, before=before, after=after)

    def pre_delete(self, item):
        audit.record("delete", item, before=audit.snapshot(item))

    def post_headless(self):
        try:
            return super().post_headless()
        except OutOfScope:
            db.session.rollback()
            return self.response_404()

    def put_headless(self, pk):
        try:
            return super().put_headless(pk)
        except OutOfScope:
            db.session.rollback()
            return self.response_404()
