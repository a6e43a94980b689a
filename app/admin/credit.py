"""学时学分审核 and 学时审验 pages: the credit-record review list's extras (decisions over a whole filter,
deletion, revocation), the verification page, the records a base or unit declared, a person's progress,
and the province's settings (年度学时要求, 授分标准). Each route validates through a service and renders.
"""
from __future__ import annotations

import datetime

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.actions import action
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import StringField

from app.actor import current_actor
from app.admin.lookup import AjaxRelationField
from app.errors import InvalidInput
from app.extensions import db
from app.interface import parse_id
from app.models import (CreditRecord, CreditRequirement, CreditStandard, LearningMode, Organisation, Person,
                        ReviewStatus, SubjectKind)
from app.navigation import MY_INFORMATION, SYSTEM, VERIFICATION, category
from app.roles import READ_WRITE
from app.scope import apply_scope, current_scope
from app.services.credit import review as review_service
from app.services.credit import settings as settings_service
from app.services.credit import verification as verification_service
from app.services.transaction import ServiceError
from app.workflow.states import Decision

NAME_MAX = 50


# ---------------------------------------------------------------------- filters of the record lists
class _PersonPrefix(BaseFilter):
    """A prefix of the person's name or ID number: one indexed range of person, within the viewer's scope."""

    column = "name"

    def apply(self, query, value):
        text = str(value or "").strip()
        if not text:
            return query
        if len(text) > NAME_MAX:
            raise InvalidInput(_("A search value is not valid; please check the search conditions"))
        field = getattr(Person, self.column)
        persons = select(Person.id).where(field.startswith(text.upper() if self.column == "id_number" else text,
                                                           autoescape=True))
        persons = apply_scope(persons, Person)
        return query.filter(CreditRecord.person_id.in_(persons))


class PersonNameStarts(_PersonPrefix):
    name = _l("Name starts with")
    column = "name"


class PersonIdNumberStarts(_PersonPrefix):
    name = _l("ID number starts with")
    column = "id_number"


def _filter_query_string() -> str:
    return request.query_string.decode() if request.query_string else ""


# ---------------------------------------------------------------------- 学时学分审核 (review list extras)
class CreditRecordReviewMixin:
    """What the credit-record review list adds to every review list."""

    list_template = "credit/record_list.html"
    search_filters = {"person": [PersonNameStarts, PersonIdNumberStarts]}
    search_form_extra_fields = {
        "person": StringField(_l("Full name")),
        # picked by search: a subtree holds thousands of programmes (2,820 below the mid-level department
        # at 1M persons), which as a drop-down took most of the list page's time (docs/benchmark.md)
        "programme": AjaxRelationField(_l("Training programme"), lookup="programme"),
    }
    method_permission_name = {**READ_WRITE, "approve": "write", "reject": "write", "reject_form": "write",
                              "bulk": "write", "revoke_form": "write", "delete_records": "write",
                              "revoke": "write"}
    include_route_methods = {"list", "show", "action", "action_post", "reject_form", "bulk", "revoke_form"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._filters = self.datamodel.get_filters(self.search_columns, self.search_filters)

    @action("delete_records", _l("Delete"), _l("Delete the selected records? Approved records cannot be deleted."),
            "fa-trash", single=False)
    def delete_records(self, items):
        items = items if isinstance(items, list) else [items]
        try:
            count = review_service.delete_records([i.id for i in items], current_actor())
        except ServiceError as exc:
            flash(exc.message, "danger")
        else:
            flash(_("%(n)d records deleted", n=count), "success")
        return redirect(url_for(f"{self.endpoint}.list"))

    @action("revoke", _l("Revoke approval"), "", "fa-undo", single=False)
    def revoke(self, items):
        items = items if isinstance(items, list) else [items]
        return redirect(url_for(f"{self.endpoint}.revoke_form", ids=",".join(str(i.id) for i in items)))

    @expose("/revoke", methods=["GET", "POST"])
    @has_access
    def revoke_form(self):
        raw = request.values.get("ids", "")
        items = self._scoped_items([part for part in raw.split(",") if part][:review_service.MAX_BATCH])
        if not items:
            abort(404)
        reason = (request.form.get("reason") or "").strip()
        error = None
        if request.method == "POST":
            try:
                outcome = review_service.revoke_records([i.id for i in items], current_actor(), reason)
            except ServiceError as exc:
                error = exc.message
            else:
                flash(outcome.message(), "success" if outcome.done else "warning")
                return redirect(url_for(f"{self.endpoint}.list"))
        return self.render_template("credit/revoke.html", items=[self.kind.describe(i) for i in items], ids=raw,
                                    reason=reason, error=error, title=_("Revoke approval"),
                                    back=url_for(f"{self.endpoint}.list"))

    @expose("/bulk", methods=["GET", "POST"])
    @has_access
    def bulk(self):
        """批量通过 / 批量驳回 of everything matching the list's current filter: count first, then confirm."""
        from app.io.sources import filtered_ids, list_filter_args

        decision = request.values.get("decision", "")
        if decision not in (Decision.approve.value, Decision.reject.value):
            raise InvalidInput(_("Unknown decision"))
        actor = current_actor()
        model = self.kind.model
        matched = filtered_ids(self, model, list_filter_args(request.args), actor)
        id_select = select(model.id).where(model.id.in_(select(matched.subquery().c.id)),
                                           self.kind.visible(actor.scope))
        pending = id_select.where(model.status == ReviewStatus.pending, self.kind.decidable(actor.scope, actor.id))
        count = review_service.count_matching(pending)
        back = url_for(f"{self.endpoint}.list") + (
            "?" + "&".join(f"{k}={v}" for k, v in request.args.items(multi=True) if k.startswith("_flt_"))
            if any(k.startswith("_flt_") for k in request.args) else "")
        reason = (request.form.get("reason") or "").strip()
        error = None
        if request.method == "POST":
            try:
                how, result = review_service.decide_matching(self.kind.key, id_select, actor, decision, reason,
                                                             title=str(self.kind.label))
            except ServiceError as exc:
                error = exc.message
            else:
                if how == "job":
                    flash(_("The decision runs as a background job; follow it in My jobs"), "info")
                    return redirect(url_for("JobView.list", highlight=result.id))
                flash(result.message(), "success" if result.done else "warning")
                return redirect(back)
        return self.render_template("credit/bulk.html", title=_("Decide everything matching the filter"),
                                    count=count, decision=decision, reason=reason, error=error, back=back,
                                    query=_filter_query_string(), capped=count > review_service.FILTER_MAX,
                                    job_above=review_service.sync_max())


# ---------------------------------------------------------------------- 审验记录 (verification records)
class VerificationRecordMixin:
    """A decided verification changes only by a new decision with a reason (改判, audited)."""

    method_permission_name = {**READ_WRITE, "approve": "write", "reject": "write", "reject_form": "write",
                              "redecide": "write"}
    include_route_methods = {"list", "show", "action", "action_post", "reject_form", "redecide"}

    @expose("/redecide/<pk>", methods=["POST"])
    @has_access
    def redecide(self, pk):
        (item,) = self._scoped_items([pk])
        try:
            outcome = verification_service.redecide(current_actor(), [item.id], request.form.get("decision", ""),
                                                    request.form.get("reason"))
        except ServiceError as exc:
            flash(exc.message, "danger")
        else:
            flash(outcome.message(), "success" if outcome.done else "warning")
        return redirect(url_for(f"{self.endpoint}.show", pk=item.id))


# ---------------------------------------------------------------------- 学时审验 (the yearly page)
class VerificationView(BaseView):
    """Each person of the subtree against the year's rule, with a suggested result; confirm one by one, a
    selection or everything the filter matches."""

    route_base = "/credit/verification"
    default_view = "index"
    class_permission_name = "CreditVerificationReview"
    method_permission_name = {"index": "read", "confirm": "write", "confirm_all": "write"}

    def _query(self):
        return verification_service.Query.parse(request.values, datetime.date.today().year - 1)

    def _years(self):
        return list(db.session.scalars(select(CreditRequirement.year).order_by(CreditRequirement.year.desc())))

    @expose("/")
    @has_access
    def index(self):
        query = self._query()
        page_no = parse_id(request.args.get("page") or "1") or 1
        if page_no > 500:
            raise InvalidInput(_("A search value is not valid; please check the search conditions"))
        rule = db.session.get(CreditRequirement, query.year)
        count, rows = verification_service.page(current_scope(), query, page_no - 1)
        employer = db.session.get(Organisation, query.employer_id) if query.employer_id else None
        return self.render_template(
            "credit/verification.html", title=_("Annual credit hours verification"), query=query, rule=rule,
            rows=rows, count=count, page_no=page_no, page_size=verification_service.PAGE_SIZE,
            years=self._years(), employer=employer, states=verification_service.STATES,
            can_write=self.appbuilder.sm.has_access("can_write", self.class_permission_name))

    def _back(self, query):
        return url_for(".index", year=query.year, employer=query.employer_id or "", name=query.name,
                       state=query.state)

    @expose("/confirm", methods=["POST"])
    @has_access
    def confirm(self):
        """The chosen persons (a selection, or one)."""
        query = self._query()
        try:
            outcome = verification_service.confirm_persons(
                current_actor(), query.year, request.form.getlist("person"), request.form.get("decision", ""),
                request.form.get("reason"))
        except ServiceError as exc:
            flash(exc.message, "danger")
        else:
            flash(outcome.message(), "success" if outcome.done else "warning")
        return redirect(self._back(query))

    @expose("/confirm_all", methods=["GET", "POST"])
    @has_access
    def confirm_all(self):
        """Everything matching the filter: the count is shown and confirmed first."""
        query = self._query()
        decision = request.values.get("decision", "")
        if decision not in (Decision.approve.value, Decision.reject.value):
            raise InvalidInput(_("Unknown decision"))
        actor = current_actor()
        verification_service.rule_of(query.year)
        from sqlalchemy import func

        chosen = verification_service.persons_select(actor.scope, query)
        count = db.session.scalar(select(func.count()).select_from(
            chosen.limit(review_service.FILTER_MAX + 1).subquery()))
        reason = (request.form.get("reason") or "").strip()
        error = None
        if request.method == "POST":
            try:
                how, result = verification_service.confirm_matching(actor, query, decision, reason)
            except ServiceError as exc:
                error = exc.message
            else:
                if how == "job":
                    flash(_("The decision runs as a background job; follow it in My jobs"), "info")
                    return redirect(url_for("JobView.list", highlight=result.id))
                flash(result.message(), "success" if result.done else "warning")
                return redirect(self._back(query))
        return self.render_template("credit/bulk.html", title=_("Confirm the verification of everything matching"),
                                    count=count, decision=decision, reason=reason, error=error,
                                    back=self._back(query), query=_filter_query_string(),
                                    capped=count > review_service.FILTER_MAX, job_above=review_service.sync_max(),
                                    verification=True)


# ---------------------------------------------------------------------- 个人中心 › 学时进度
class MyCreditView(BaseView):
    """A person's years: approved public / professional / total hours against each year's rule."""

    route_base = "/me/credit"
    default_view = "index"
    class_permission_name = "SelfService"
    method_permission_name = {"index": "read"}

    @expose("/")
    @has_access
    def index(self):
        person = db.session.scalar(select(Person).where(Person.account_id == g.user.id))
        years = verification_service.own_progress(person.id) if person is not None else []
        return self.render_template("credit/my_progress.html", title=_("My credit hours"), person=person,
                                    years=years)


# ---------------------------------------------------------------------- 系统管理 › 年度学时要求 / 授分标准
class CreditRequirementView(BaseView):
    route_base = "/credit/requirements"
    default_view = "index"
    class_permission_name = "CreditSettings"
    method_permission_name = {"index": "read", "save": "write"}

    def _render(self, values=None, error=None, field=None):
        rules = db.session.scalars(select(CreditRequirement).order_by(CreditRequirement.year.desc())).all()
        return self.render_template("credit/requirements.html", title=_("Annual credit hour requirements"),
                                    rules=rules, values=values or {}, error=error, field=field)

    @expose("/")
    @has_access
    def index(self):
        year = parse_id(request.args.get("year") or "")
        rule = db.session.get(CreditRequirement, year) if year else None
        values = {}
        if rule is not None:
            values = dict(year=rule.year, total_hours=rule.total_hours,
                          professional_numerator=rule.professional_numerator,
                          professional_denominator=rule.professional_denominator, closed=rule.closed)
        return self._render(values)

    @expose("/save", methods=["POST"])
    @has_access
    def save(self):
        values = request.form.to_dict()
        try:
            rule = settings_service.save_requirement(current_actor(), values)
        except ServiceError as exc:
            return self._render(values, exc.message, exc.field), 422
        flash(_("The requirement of %(year)d was saved", year=rule.year), "success")
        return redirect(url_for(".index"))


class CreditStandardView(BaseView):
    route_base = "/credit/standards"
    default_view = "index"
    class_permission_name = "CreditSettings"
    method_permission_name = {"index": "read", "save": "write"}

    def _render(self, values=None, error=None, field=None):
        standards = db.session.scalars(select(CreditStandard).order_by(CreditStandard.code)).all()
        return self.render_template("credit/standards.html", title=_("Credit conversion standards"),
                                    standards=standards, values=values or {}, error=error, field=field,
                                    kinds=list(SubjectKind), modes=list(LearningMode))

    @expose("/")
    @has_access
    def index(self):
        standard_id = parse_id(request.args.get("id") or "")
        standard = db.session.get(CreditStandard, standard_id) if standard_id else None
        values = {}
        if standard is not None:
            values = dict(id=standard.id, code=standard.code, name=standard.name, unit=standard.unit,
                          hours_per_unit=standard.hours_per_unit, yearly_cap=standard.yearly_cap or "",
                          subject_kind=standard.subject_kind.value, mode=standard.mode.value,
                          first_year=standard.first_year, last_year=standard.last_year or "")
        return self._render(values)

    @expose("/save", methods=["POST"])
    @has_access
    def save(self):
        values = request.form.to_dict()
        raw_id = values.get("id") or ""
        standard_id = parse_id(raw_id) if raw_id else None
        if raw_id and standard_id is None:
            abort(404)
        try:
            settings_service.save_standard(current_actor(), values, standard_id)
        except ServiceError as exc:
            return self._render(values, exc.message, exc.field), 422
        flash(_("The standard was saved"), "success")
        return redirect(url_for(".index"))


def register(appbuilder) -> None:
    appbuilder.add_view(VerificationView, "Annual verification", label=_l("Annual credit hours verification"),
                        icon="fa-certificate", **category(VERIFICATION))
    appbuilder.add_view(MyCreditView, "My credit hours", label=_l("My credit hours"), icon="fa-line-chart",
                        **category(MY_INFORMATION))
    appbuilder.add_view(CreditRequirementView, "Credit requirements", label=_l("Annual credit hour requirements"),
                        icon="fa-sliders", **category(SYSTEM))
    appbuilder.add_view(CreditStandardView, "Credit standards", label=_l("Credit conversion standards"),
                        icon="fa-balance-scale", **category(SYSTEM))
