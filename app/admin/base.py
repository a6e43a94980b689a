"""Scoped base views: inheriting from these is what makes a view respect data scope."""
from __future__ import annotations

import datetime

from flask import abort, flash, redirect, request
from flask_appbuilder import ModelView, expose
from flask_appbuilder._compat import as_unicode
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.urltools import get_filter_args, get_order_args, get_page_args, get_page_size_args
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, Optional

from app import write_rules
from app.actor import current_actor
from app.errors import InvalidInput, NotAllowed, form_error
from app.extensions import db
from app.interface import parse_id
from app.scope import SCOPE_BASE_FILTER, is_scoped_model, object_in_scope
from app.services import audit
from app.services.transaction import transaction

MAX_PAGE_SIZE = 100


def scope_related_fields(datamodel, configured: dict | None) -> dict:
    """Related-field choices limited to scope for every relation to a scoped model."""
    result = {k: list(v) for k, v in (configured or {}).items()}
    for name in datamodel.get_columns_list():
        if datamodel.is_relation(name) and is_scoped_model(datamodel.get_related_model(name)):
            filters = result.setdefault(name, [])
            if SCOPE_BASE_FILTER not in filters:
                filters.insert(0, SCOPE_BASE_FILTER)
    return result


def enum_form_fields(datamodel, columns, labels: dict, configured: dict | None) -> dict:
    """Select fields for enum columns: FAB's EnumField raises instead of reporting a bad choice."""
    fields = dict(configured or {})
    for name in columns or []:
        if name in fields or name not in datamodel.list_columns or not datamodel.is_enum(name):
            continue
        column = datamodel.list_columns[name]
        enum_class = column.type.enum_class

        def coerce(value, enum_class=enum_class):
            if value in (None, "") or isinstance(value, enum_class):
                return value or None
            return enum_class(value)

        choices = [SelectChoice(m.value, m.label) for m in enum_class]
        if column.nullable:
            choices = [SelectChoice("", "—")] + choices
        fields[name] = SelectField(
            labels.get(name, name), choices=choices, coerce=coerce,
            validators=[Optional()] if column.nullable else [DataRequired()],
            widget=Select2Widget(),
        )
    return fields


def display_value(value):
    """How a stored value reads on a page: enum labels, 是/否, and blank for nothing."""
    if value is None:
        return ""
    if value is True:
        return str(_l("Yes"))
    if value is False:
        return str(_l("No"))
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%d")
    return value


def display_formatters(datamodel, columns, configured: dict | None) -> dict:
    """A formatter for every shown column FAB would print raw (None, True, enum values)."""
    formatters = dict(configured or {})
    for name in columns or []:
        if name in formatters:
            continue
        if name in datamodel.list_columns and datamodel.is_enum(name):
            enum_class = datamodel.list_columns[name].type.enum_class
            formatters[name] = lambda v, e=enum_class: e(v).label if v not in (None, "") else ""
        else:
            formatters[name] = display_value
    return formatters


def ajax_relation_fields(datamodel, columns, labels: dict, validators: dict, configured: dict | None,
                         relation_filters: dict) -> dict:
    """Every relation to a scoped model is picked by search, never by listing the table."""
    from app.admin.lookup import LOOKUP_FOR_MODEL, AjaxRelationField

    fields = dict(configured or {})
    for name in columns or []:
        if name in fields or not datamodel.is_relation(name) or datamodel.is_relation_many_to_many(name):
            continue
        lookup = LOOKUP_FOR_MODEL.get(datamodel.get_related_model(name))
        if lookup is None:
            continue
        fields[name] = AjaxRelationField(labels.get(name, name), validators=validators.get(name),
                                         lookup=lookup, filters=relation_filters.get(name))
    return fields


def reference_fields(datamodel, columns, labels: dict, validators: dict, configured: dict | None) -> dict:
    """Relations to the small reference tables come from a per-process cache, not a query per form."""
    from app.admin.fields import ReferenceSelectField
    from app.models import TitleLevel, TitleSeries

    fields = dict(configured or {})
    for name in columns or []:
        if name in fields or not datamodel.is_relation(name) or not datamodel.is_relation_many_to_one(name):
            continue
        model = datamodel.get_related_model(name)
        if model in (TitleSeries, TitleLevel):
            fields[name] = ReferenceSelectField(labels.get(name, name), validators=validators.get(name),
                                                model=model)
    return fields


def label_blank_choices(form_class) -> None:
    """WTForms 3.3 prints the value "__None" when FAB's blank choice has no label: give it one."""
    for value in vars(form_class).values():
        if isinstance(value, UnboundField) and value.kwargs.get("allow_blank"):
            value.kwargs.setdefault("blank_text", "—")
            if not value.kwargs["blank_text"]:
                value.kwargs["blank_text"] = "—"


class OutOfScope(InvalidInput):
    """Raised when a new or edited row would land outside the viewer's scope (the API answers 404)."""

    def __init__(self):
        super().__init__(str(_l("The selected organisation is outside your scope")))


class ScopedModelView(ModelView):
    """ModelView limited to the viewer's subtree on every path FAB offers."""

    page_size = 20
    #: extra conditions on what a relation picker offers, e.g. {"employer": {"type": "employer"}}
    relation_filters: dict = {}
    #: audit object type; defaults to the table name
    audit_object_type: str | None = None

    def __init__(self, **kwargs):
        self.base_filters = [SCOPE_BASE_FILTER] + list(self.base_filters or [])
        for attr in (
            "add_form_query_rel_fields",
            "edit_form_query_rel_fields",
            "search_form_query_rel_fields",
        ):
            setattr(self, attr, scope_related_fields(self.datamodel, getattr(self, attr)))
        self.add_form_extra_fields = enum_form_fields(
            self.datamodel, self.add_columns, self.label_columns, self.add_form_extra_fields)
        self.edit_form_extra_fields = enum_form_fields(
            self.datamodel, self.edit_columns, self.label_columns, self.edit_form_extra_fields)
        validators = self.validators_columns or {}
        self.add_form_extra_fields = ajax_relation_fields(
            self.datamodel, self.add_columns, self.label_columns, validators,
            self.add_form_extra_fields, self.relation_filters)
        self.edit_form_extra_fields = ajax_relation_fields(
            self.datamodel, self.edit_columns, self.label_columns, validators,
            self.edit_form_extra_fields, self.relation_filters)
        self.search_form_extra_fields = enum_form_fields(
            self.datamodel, self.search_columns, self.label_columns, self.search_form_extra_fields)
        self.search_form_extra_fields = ajax_relation_fields(
            self.datamodel, self.search_columns, self.label_columns, {},
            self.search_form_extra_fields, self.relation_filters)
        for attr, columns, checks in (
            ("add_form_extra_fields", self.add_columns, validators),
            ("edit_form_extra_fields", self.edit_columns, validators),
            ("search_form_extra_fields", self.search_columns, {}),
        ):
            setattr(self, attr, reference_fields(self.datamodel, columns, self.label_columns, checks,
                                                 getattr(self, attr)))
        super().__init__(**kwargs)
        # FAB's file download (unscoped) is never registered, nor action routes of a view without actions
        excluded = set(self.exclude_route_methods or set()) | {"download"}
        if not self.actions:
            excluded |= {"action", "action_post"}
        self.exclude_route_methods = excluded
        # a view without an add or edit screen writes nothing (FAB fills empty column lists with all)
        if not self.exposes("add"):
            self.add_columns = []
        if not self.exposes("edit"):
            self.edit_columns = []
        for form_class in (self.add_form, self.edit_form, self.search_form):
            if form_class is not None:
                label_blank_choices(form_class)
        shown = list(dict.fromkeys(list(self.list_columns) + list(self.show_columns)))
        self.formatters_columns = display_formatters(self.datamodel, shown, self.formatters_columns)
        if hasattr(self.datamodel, "set_list_columns"):
            self.datamodel.set_list_columns(self.list_columns)
        if hasattr(self.datamodel, "on_created"):
            self.datamodel.on_created = self._audit_created

    def exposes(self, method: str) -> bool:
        """Whether the view registers the route of one of its methods."""
        if self.include_route_methods is not None and method not in self.include_route_methods:
            return False
        return method not in (self.exclude_route_methods or set())

    # ----- list: bounded page size ------------------------------------------------
    def _get_list_widget(self, filters, page_size=None, **kwargs):
        try:
            size = int(page_size or self.page_size)
        except (TypeError, ValueError):
            size = self.page_size
        size = max(1, min(size, MAX_PAGE_SIZE))
        return super()._get_list_widget(filters, page_size=size, **kwargs)

    # ----- actions: load rows through the scope, 404 otherwise ---------------------
    def _scoped_items(self, pks: list[str]):
        ids = {parse_id(pk) for pk in pks}
        if None in ids:
            abort(404)
        if not ids:
            return []
        model = self.datamodel.obj
        query = db.session.query(model).filter(model.id.in_(ids))
        query = self.datamodel.apply_filters(query, self._base_filters)
        items = query.all()
        if len(items) != len(ids):
            abort(404)
        return items

    def _action_allowed(self, name: str) -> bool:
        """The view's action permission first (refused: 403), then the action by name (unknown: 404)."""
        general = "can_" + (self.method_permission_name or {}).get("action", "action")
        if not self.appbuilder.sm.has_access(general, self.class_permission_name):
            return False
        if name not in self.actions:
            abort(404)
        permission = self.get_action_permission_name(name)
        return self.appbuilder.sm.has_access(permission, self.class_permission_name)

    @expose("/action/<string:name>/<pk>", methods=["POST"])
    def action(self, name, pk):
        """One row's action: a POST (with the CSRF token), allowed actions only, the row in scope."""
        if not self._action_allowed(name):
            raise NotAllowed()
        (item,) = self._scoped_items([pk])
        return self.actions[name].func(item)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        name = request.form.get("action", "")
        if not self._action_allowed(name):
            raise NotAllowed()
        items = self._scoped_items(request.form.getlist("rowid"))
        if not items:
            flash(str(_l("No row selected")), "warning")
            return redirect(self.get_redirect())
        return self.actions[name].func(items)

    @expose("/download/<string:filename>")
    def download(self, filename):
        """FAB serves any file of UPLOAD_FOLDER here, unscoped: uploads go through scoped views instead."""
        abort(404)

    # ----- writes: the new state must stay in scope; every change audited ----------
    def _object_type(self) -> str:
        return self.audit_object_type or self.datamodel.obj.__tablename__

    def pre_add(self, item):
        if is_scoped_model(type(item)) and not object_in_scope(item):
            raise OutOfScope()
        write_rules.run("before_add", current_actor(), item)

    def _audit_created(self, item):
        """Runs after the INSERT, in the same transaction: the row and its audit row commit together."""
        audit.record("create", item, actor=current_actor(), object_type=self._object_type(),
                     after=audit.snapshot(item))

    def pre_update(self, item):
        write_rules.check_update(item)
        if is_scoped_model(type(item)) and not object_in_scope(item):
            raise OutOfScope()
        write_rules.run("before_update", current_actor(), item)
        before, after = audit.pending_changes(item)
        if after:
            audit.record("update", item, actor=current_actor(), object_type=self._object_type(),
                         before=before, after=after)

    def pre_delete(self, item):
        write_rules.run("before_delete", current_actor(), item)
        audit.record("delete", item, actor=current_actor(), object_type=self._object_type(),
                     before=audit.snapshot(item))

    # ----- add / edit / delete: one transaction with the audit row; a refusal keeps the form ----
    def _add(self):
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        if request.method == "POST":
            self._fill_form_exclude_cols(exclude_cols, form)
            if form.validate():
                self.process_form(form, True)
                item = self.datamodel.obj()
                try:
                    with transaction():
                        form.populate_obj(item)
                        self.pre_add(item)
                        self.datamodel.add(item)
                except InvalidInput as exc:
                    form_error(form, exc)
                else:
                    self.post_add(item)
                    flash(as_unicode(self.add_row_message), "success")
                    return None
        else:
            self.update_redirect()
        return self._get_add_widget(form=form, exclude_cols=exclude_cols)

    def _edit(self, pk):
        pages, page_sizes, orders = get_page_args(), get_page_size_args(), get_order_args()
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        pk = self.datamodel.get_pk_value(item)
        if request.method == "POST":
            form = self.edit_form.refresh(request.form)
            self._fill_form_exclude_cols(exclude_cols, form)
            form._id = pk
            if form.validate():
                self.process_form(form, False)
                try:
                    with transaction():
                        form.populate_obj(item)
                        self.pre_update(item)
                        self.datamodel.edit(item)
                except InvalidInput as exc:
                    form_error(form, exc)
                else:
                    self.post_update(item)
                    flash(as_unicode(self.edit_row_message), "success")
                    return None
        else:
            form = self.edit_form.refresh(obj=item)
            self.prefill_form(form, pk)
            self.update_redirect()
        widgets = self._get_edit_widget(form=form, exclude_cols=exclude_cols)
        return self._get_related_views_widgets(item, filters={}, orders=orders, pages=pages,
                                               page_sizes=page_sizes, widgets=widgets)

    def _delete(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        try:
            with transaction():
                self.pre_delete(item)
                self.datamodel.delete(item)
        except InvalidInput as exc:
            flash(exc.message, "danger")
        else:
            self.post_delete(item)
            flash(as_unicode(self.delete_row_message), "success")
        self.update_redirect()


def crud_link_templates(modelview_name: str, filters) -> dict:
    """Show/edit/delete URLs of a list page with a '__pk__' placeholder, built once per request."""
    from flask import current_app, g

    cache = g.setdefault("_crud_links", {})
    key = (modelview_name, id(filters))
    if key not in cache:
        jinja_filters = current_app.jinja_env.filters
        links = {}
        for name in ("show", "edit", "delete"):
            path = jinja_filters["safe_url_for"](f"{modelview_name}.{name}", pk="__pk__")
            if path and name != "delete":
                path = jinja_filters["set_link_filters"](path, filters)
            links[name] = path
        cache[key] = links
    return cache[key]
