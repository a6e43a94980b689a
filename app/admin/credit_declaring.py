"""学时申报 pages: a person declares their own hours (with evidence); a training base or an employer unit
declares for its trainees / staff (one ID number, a pasted list, or the Excel import) and sees what it declared.

The views only read the form and call ``app/services/credit/declaring.py`` (the path the imports share);
the review list belongs to the reviewing side.
"""
from __future__ import annotations

import re

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.actor import current_actor
from app.admin.attachments import AttachmentsField
from app.admin.imports import ImportView
from app.errors import InvalidInput, form_error
from app.extensions import db
from app.models import CreditChannel, CreditDeclarer, CreditRecord, LearningMode, Person, ReviewStatus, SubjectKind
from app.services import attachments
from app.services.credit import declaring
from app.services.credit.declaring import DeclarationRefused
from app.services.credit.rules import MAX_ACTIVITY, MAX_HOURS, MAX_QUANTITY, declarer_for
from app.services.transaction import transaction

PAGE_SIZE = 20
#: most ID numbers one form takes (more: the Excel import)
MAX_FORM_ROWS = 2000
_SPLIT = re.compile(r"[\s,，;；、]+")


def _page_of(query, page: int):
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.options(joinedload(CreditRecord.person)).limit(PAGE_SIZE)
                              .offset((page - 1) * PAGE_SIZE)).unique().all()
    return rows, total


def _page_argument() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 100_000))
    except ValueError:
        return 1


def _status_argument():
    value = request.args.get("status") or ""
    return ReviewStatus(value) if value in {s.value for s in ReviewStatus} else None


def _listing(declarer):
    query = declaring.declared_by(declarer)
    status = _status_argument()
    if status is not None:
        query = query.where(CreditRecord.status == status)
    year = request.args.get("year") or ""
    if year.isdigit() and len(year) == 4:
        query = query.where(CreditRecord.year == int(year))
    page = _page_argument()
    rows, total = _page_of(query, page)
    return dict(records=rows, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
                statuses=list(ReviewStatus), status=status.value if status else "", year=year)


def _problem_lines(exc: DeclarationRefused, labels: dict) -> list[str]:
    return [f"{labels.get(p.index, '')} {p.message}".strip() for p in exc.problems]


# ------------------------------------------------------------------ a person, for themself
class SelfDeclareForm(FlaskForm):
    source = RadioField(_l("Activity"), default="programme", choices=[
        ("programme", _l("An approved training programme")), ("standard", _l("A conversion standard")),
        ("other", _l("Other learning"))])
    programme_code = SelectField(_l("Programme"), validators=[Optional()], validate_choice=False)
    standard_code = SelectField(_l("Conversion standard"), validators=[Optional()], validate_choice=False)
    quantity = IntegerField(_l("Quantity"), validators=[Optional(), NumberRange(1, MAX_QUANTITY)])
    activity = StringField(_l("Activity details"), validators=[Optional(), Length(max=MAX_ACTIVITY)])
    subject_kind = SelectField(_l("Subject kind"), validators=[Optional()], validate_choice=False,
                               choices=[("", "")] + [(k.value, k.label) for k in SubjectKind])
    mode = SelectField(_l("Learning mode"), validators=[Optional()], validate_choice=False,
                       choices=[("", "")] + [(m.value, m.label) for m in LearningMode])
    hours = IntegerField(_l("Hours"), validators=[Optional(), NumberRange(1, MAX_HOURS)])
    completed_on = DateField(_l("Completion date"),
                             validators=[DataRequired(message=_l("Please enter the completion date"))])
    evidence = AttachmentsField(_l("Evidence files"))

    def load_choices(self, declarer) -> None:
        blank = [("", _("Please choose"))]
        self.programme_code.choices = blank + [(c, f"{c} {n}") for c, n in declaring.declarable_programmes(declarer)]
        self.standard_code.choices = blank + [
            (s.code, f"{s.code} {s.name}（{s.hours_per_unit}学时/{s.unit}）") for s in declaring.current_standards()]
        for select_field in (self.subject_kind, self.mode):
            select_field.choices = blank + select_field.choices[1:]

    def row(self, id_number: str) -> dict:
        source = self.source.data
        return {"id_number": id_number, "completed_on": self.completed_on.data,
                "programme_code": self.programme_code.data if source == "programme" else None,
                "standard_code": self.standard_code.data if source == "standard" else None,
                "quantity": self.quantity.data if source == "standard" else None,
                "activity": self.activity.data if source != "programme" else None,
                "subject_kind": self.subject_kind.data or None if source == "other" else None,
                "mode": self.mode.data or None if source == "other" else None,
                "hours": self.hours.data if source != "standard" else None}


class CreditSelfView(BaseView):
    """学时申报 in 个人中心: the person's own records with their status, and a form to declare more."""

    route_base = "/me/declare-credit"
    default_view = "index"
    class_permission_name = "SelfService"
    method_permission_name = {"index": "read", "declare": "write"}

    def _render(self, declarer, form):
        return self.render_template("credit/self.html", title=_("Credit hours declaration"), form=form,
                                    **_listing(declarer))

    @expose("/")
    @has_access
    def index(self):
        declarer = declarer_for(current_actor(), CreditChannel.form)
        form = SelfDeclareForm(formdata=None)
        form.load_choices(declarer)
        return self._render(declarer, form)

    @expose("/declare", methods=["POST"])
    @has_access
    def declare(self):
        actor = current_actor()
        declarer = declarer_for(actor, CreditChannel.form)
        form = SelfDeclareForm()
        form.load_choices(declarer)
        if not form.validate_on_submit():
            return self._render(declarer, form)
        person = db.session.get(Person, declarer.person_id)
        evidence = []
        try:
            evidence = form.evidence.checked()
            with transaction():
                ids = declaring.declare(declarer, [form.row(person.id_number)])
                attachments.attach("credit_record", ids[0], person.org_path, evidence, actor=actor)
        except DeclarationRefused as exc:
            field = {"programme_code": form.programme_code, "standard_code": form.standard_code,
                     "quantity": form.quantity, "activity": form.activity, "subject_kind": form.subject_kind,
                     "mode": form.mode, "hours": form.hours, "completed_on": form.completed_on}.get(exc.field)
            (field or form.completed_on).errors = list(getattr(field or form.completed_on, "errors", []) or []) + [
                exc.message]
            return self._render(declarer, form)
        except InvalidInput as exc:
            form_error(form, exc, "evidence")
            return self._render(declarer, form)
        finally:
            for checked in evidence:
                checked.close()
        flash(_("Your credit hours were declared and wait for review"), "success")
        return redirect(url_for(".index"))


# ------------------------------------------------------------------ a base or a unit, for others
class OrgDeclareForm(FlaskForm):
    programme_code = SelectField(_l("Programme"), validators=[Optional()], validate_choice=False)
    standard_code = SelectField(_l("Conversion standard"), validators=[Optional()], validate_choice=False)
    quantity = IntegerField(_l("Quantity"), validators=[Optional(), NumberRange(1, MAX_QUANTITY)])
    activity = StringField(_l("Activity details"), validators=[Optional(), Length(max=MAX_ACTIVITY)])
    hours = IntegerField(_l("Hours"), validators=[Optional(), NumberRange(1, MAX_HOURS)])
    completed_on = DateField(_l("Completion date"),
                             validators=[DataRequired(message=_l("Please enter the completion date"))])
    id_numbers = TextAreaField(_l("ID numbers"), validators=[
        DataRequired(message=_l("Enter at least one ID number")), Length(max=MAX_FORM_ROWS * 20)])

    def load_choices(self, declarer) -> None:
        blank = [("", _("Please choose"))]
        self.programme_code.choices = blank + [(c, f"{c} {n}") for c, n in declaring.declarable_programmes(declarer)]
        self.standard_code.choices = blank + (
            [] if declarer.type == CreditDeclarer.training_base else
            [(s.code, f"{s.code} {s.name}（{s.hours_per_unit}学时/{s.unit}）") for s in declaring.current_standards()])

    def numbers(self) -> list[str]:
        return [n for n in _SPLIT.split(self.id_numbers.data or "") if n]


class CreditDeclareView(BaseView):
    """学时申报 of a base (its programmes' trainees) or a unit (代报, its staff): what it declared, and the form."""

    route_base = "/credit/declared"
    default_view = "list"
    class_permission_name = "CreditDeclaration"
    method_permission_name = {"list": "read", "declare": "write"}

    @expose("/list/")
    @has_access
    def list(self):
        declarer = declarer_for(current_actor(), CreditChannel.form)
        return self.render_template("credit/declared.html", title=_("Declared credit hours"),
                                    is_base=declarer.type == CreditDeclarer.training_base, **_listing(declarer))

    def _form_page(self, declarer, form, problems=None):
        return self.render_template("credit/declare.html", title=_("Declare credit hours"), form=form,
                                    is_base=declarer.type == CreditDeclarer.training_base, problems=problems or [],
                                    max_rows=MAX_FORM_ROWS)

    @expose("/declare", methods=["GET", "POST"])
    @has_access
    def declare(self):
        declarer = declarer_for(current_actor(), CreditChannel.form)
        form = OrgDeclareForm(formdata=request.form if request.method == "POST" else None)
        form.load_choices(declarer)
        if request.method != "POST" or not form.validate_on_submit():
            return self._form_page(declarer, form)
        numbers = form.numbers()
        if len(numbers) > MAX_FORM_ROWS:
            form.id_numbers.errors = [_("At most %(n)d ID numbers at a time; use the Excel import for more",
                                        n=MAX_FORM_ROWS)]
            return self._form_page(declarer, form)
        base = {"programme_code": form.programme_code.data or None, "standard_code": form.standard_code.data or None,
                "quantity": form.quantity.data, "activity": form.activity.data or None, "hours": form.hours.data,
                "completed_on": form.completed_on.data}
        try:
            ids = declaring.declare(declarer, [dict(base, id_number=n) for n in numbers])
        except DeclarationRefused as exc:
            labels = {i: _("Line %(n)d (%(id)s):", n=i, id=n[:18]) for i, n in enumerate(numbers, start=1)}
            return self._form_page(declarer, form, _problem_lines(exc, labels))
        flash(_("%(n)d records declared; they wait for review", n=len(ids)), "success")
        return redirect(url_for(".list"))


class CreditImportView(ImportView):
    """学时批量导入 (app/io/credit_import.py) for training bases and employer units."""

    route_base = "/credit/import"
    class_permission_name = "CreditDeclaration"
    importer_name = "credit"
    back_endpoint = "CreditDeclareView.list"


def register(appbuilder) -> None:
    from app.navigation import CREDIT_HOURS, MY_INFORMATION, category

    appbuilder.add_view(CreditSelfView, "Declare my credit hours", label=_l("Credit hours declaration"),
                        icon="fa-graduation-cap", **category(MY_INFORMATION))
    appbuilder.add_view(CreditDeclareView, "Credit declaration", label=_l("Credit hours declaration"),
                        icon="fa-pencil-square", **category(CREDIT_HOURS))
    appbuilder.add_view_no_menu(CreditImportView)
