"""Search-as-you-type pickers: no form ever lists a large table; the server returns ≤20 scoped matches."""
from __future__ import annotations

from typing import Any, Optional

from flask import abort, g, jsonify, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import Field
from wtforms.validators import StopValidation
from wtforms.widgets import html_params

from app.extensions import db
from app.models import Account, InternalDepartment, Organisation, OrganisationStatus, Person, TrainingProgramme
from app.scope import apply_scope

#: most matches one lookup returns
LOOKUP_LIMIT = 20

#: lookup name -> (model, columns searched, label function, allowed extra filters)
LOOKUPS: dict[str, tuple] = {
    "organisation": (Organisation, (Organisation.name,), lambda o: o.name, {"type"}),
    "department": (InternalDepartment, (InternalDepartment.name,), lambda d: d.name, {"organisation_id"}),
    "person": (Person, (Person.name, Person.id_number), lambda p: f"{p.name}（{p.id_number}）", {"status"}),
    "account": (Account, (Account.real_name, Account.username), lambda a: f"{a.real_name}（{a.username}）", set()),
}
LOOKUP_FOR_MODEL = {spec[0]: name for name, spec in LOOKUPS.items()}
#: lookups a view asks for by name (not every relation to the model): the training programmes of the
#: scope, by name prefix or by code (PX…) — the credit review's filter, where a subtree holds thousands
LOOKUPS["programme"] = (TrainingProgramme, (TrainingProgramme.name, TrainingProgramme.code),
                        lambda p: f"{p.name}（{p.code}）" if p.code else p.name, {"status"})
#: lookups over small tables (organisations, their departments) match anywhere in the name, as the
#: public pickers do; persons and accounts (millions of rows) keep the indexed prefix search
MATCH_ANYWHERE = {"organisation", "department"}


def _filter_values(column, value) -> list:
    """The comma-separated values of a picker filter, each checked against its column (else 422)."""
    from flask_babel import gettext

    from app.errors import InvalidInput
    from app.interface import parse_id

    values = [v for v in str(value).split(",") if v]
    enum_class = getattr(column.type, "enum_class", None)
    if enum_class is not None:
        valid = {m.value for m in enum_class}
        if any(v not in valid for v in values):
            raise InvalidInput(gettext("A search value is not valid; please check the search conditions"))
    elif column.key.endswith("_id"):
        ids = [parse_id(v) for v in values]
        if None in ids:
            raise InvalidInput(gettext("A search value is not valid; please check the search conditions"))
        values = ids
    return values


def _apply_filters(query, model, filters: dict):
    for key, value in filters.items():
        column = getattr(model, key)
        query = query.where(column.in_(_filter_values(column, value)))
    if model is Organisation:
        query = query.where(Organisation.status == OrganisationStatus.approved)
    return query


def scoped_lookup(name: str, term: str, filters: dict, limit: int = LOOKUP_LIMIT) -> list[tuple[int, str]]:
    """(id, label) of at most `limit` rows in the viewer's scope matching the term."""
    model, columns, label, allowed = LOOKUPS[name]
    query = _apply_filters(select(model), model, {k: v for k, v in filters.items() if k in allowed})
    term = (term or "").strip()
    if term and name in MATCH_ANYWHERE:
        query = query.where(columns[0].contains(term, autoescape=True)).order_by(columns[0])
    elif term:
        # a number is an ID prefix, anything else a name prefix: one indexed column, no OR
        column = columns[-1] if term[:1].isdigit() and len(columns) > 1 else columns[0]
        if name == "programme" and term[:2].upper() == "PX":  # a programme code
            column, term = columns[1], term.upper()
        query = query.where(column.startswith(term, autoescape=True))
    query = apply_scope(query, model).limit(limit)
    return [(obj.id, label(obj)) for obj in db.session.scalars(query)]


def public_organisation_lookup(types, term: str, exclude_prefix: Optional[str] = None, with_type: bool = False):
    """JSON of ≤20 approved organisations of the given types whose name contains the term.

    Used where no scope applies: public registration pages, choosing a new parent department, the
    receiving unit of a transfer. Names (and with ``with_type`` the type) only: nothing else is revealed.
    """
    query = (
        select(Organisation.id, Organisation.name, Organisation.type)
        .where(Organisation.status == OrganisationStatus.approved, Organisation.type.in_(list(types)))
        .order_by(Organisation.depth, Organisation.name)
        .limit(LOOKUP_LIMIT)
    )
    if exclude_prefix:
        query = query.where(~Organisation.path.startswith(exclude_prefix, autoescape=True))
    term = (term or "").strip()
    if term:
        query = query.where(Organisation.name.contains(term, autoescape=True))
    rows = db.session.execute(query).all()
    if with_type:
        return jsonify({"results": [{"id": r.id, "text": f"{r.name}（{r.type.label}）", "name": r.name,
                                     "type": str(r.type.label)} for r in rows]})
    return jsonify({"results": [{"id": r.id, "text": r.name} for r in rows]})


def public_organisation_name(org_id, types) -> str:
    """The name an anonymous page may echo for a chosen id: only an approved organisation of the types
    the page offers (anything else reads as nothing chosen; existence is never revealed)."""
    from app.interface import parse_id

    pk = parse_id(org_id)
    if pk is None:
        return ""
    name = db.session.scalar(
        select(Organisation.name).where(Organisation.id == pk, Organisation.status == OrganisationStatus.approved,
                                        Organisation.type.in_(list(types))))
    return name or ""


def scoped_get(name: str, pk: str, filters: dict) -> list[tuple[int, str]]:
    """One row by id, only if it is in scope (to show an already chosen value)."""
    model, _, label, allowed = LOOKUPS[name]
    from app.interface import parse_id

    pk_value = parse_id(pk)
    if pk_value is None:
        return []
    query = _apply_filters(select(model).where(model.id == pk_value), model,
                           {k: v for k, v in filters.items() if k in allowed})
    obj = db.session.scalar(apply_scope(query, model))
    return [(obj.id, label(obj))] if obj is not None else []


class LookupView(BaseView):
    """JSON for the pickers; any signed-in admin, always limited to their scope."""

    route_base = "/lookup"

    @expose("/<name>")
    def lookup(self, name):
        if name not in LOOKUPS:
            abort(404)
        user = g.get("user")
        if user is None or not user.is_authenticated:
            abort(401)
        filters = {k: v for k, v in request.args.items() if k not in ("q", "id")}
        if request.args.get("id"):
            rows = scoped_get(name, request.args["id"], filters)
        else:
            rows = scoped_lookup(name, request.args.get("q", ""), filters)
        return jsonify({"results": [{"id": pk, "text": text} for pk, text in rows]})


class AjaxSelectWidget:
    """A <select data-url> that org_picker.js turns into a Select2 asking the lookup endpoint."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("class", "form-control")
        params = html_params(name=field.name, **{"data-url": field.lookup_url(),
                                                 "data-placeholder": str(_l("Type to search")), **kwargs})
        option = ""
        if field.data is not None:
            option = f'<option value="{field.data.id}" selected>{escape(field.label_of(field.data))}</option>'
        return Markup(f"<select {params}><option value=\"\"></option>{option}</select>")


class AjaxRelationField(Field):
    """A many-to-one relation chosen by search; the chosen id is re-checked against the scope."""

    widget = AjaxSelectWidget()

    def __init__(self, label=None, validators=None, lookup: str = "organisation",
                 filters: Optional[dict] = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.lookup = lookup
        self.lookup_filters = filters or {}
        self._raw: Optional[str] = None

    def lookup_url(self) -> str:
        return url_for("LookupView.lookup", name=self.lookup, **self.lookup_filters)

    def label_of(self, obj: Any) -> str:
        return LOOKUPS[self.lookup][2](obj)

    def process_formdata(self, valuelist):
        self._raw = valuelist[0] if valuelist else None
        self.data = None
        if self._raw not in (None, "", "__None"):
            model = LOOKUPS[self.lookup][0]
            from app.interface import parse_id

            pk = parse_id(self._raw)
            if pk is None:
                return
            query = _apply_filters(select(model).where(model.id == pk), model, self.lookup_filters)
            self.data = db.session.scalar(apply_scope(query, model))

    def pre_validate(self, form):
        if self._raw not in (None, "", "__None") and self.data is None:
            # stop here: "required" would hide the real reason
            raise StopValidation(str(_l("The selected item does not exist or is outside your scope")))

    def _value(self):
        return str(self.data.id) if self.data is not None else ""
