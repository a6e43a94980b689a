"""学时学分审核 and 学时审验 (manual 5.2): credit records reviewed by the supervisory chain of the employer,
and the annual verification of each person's year.

Both tables carry the employer's path (``org_path``), so a reviewer's subtree is one index range: the
reviewing side is tested on the path, not by listing the subtree's organisations.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, select, true

from app.models import CreditRecord, CreditVerification, Person
from app.navigation import CREDIT_HOURS, VERIFICATION
from app.scope import Scope
from app.workflow.kinds import Kind, Menu, Side, declare
from app.workflow.states import Decision

RECORD_AREA = "CreditRecordReview"
VERIFICATION_AREA = "CreditVerificationReview"


@dataclass(frozen=True)
class PathSide(Side):
    """The supervisory chain tested on the item's copy of its organisation's path (one index range)."""

    path_column: str = "org_path"

    def condition(self, model, scope: Scope):
        if scope.is_all:
            return true()
        if scope.is_none:
            return false()
        path = getattr(model, self.path_column)
        covered = path.like(scope.prefix + "%")
        return and_(covered, path != scope.prefix) if self.strictly_above else covered


CHAIN = PathSide("chain", "employer_id", strictly_above=True)

COMMON_LABELS = {
    "person": _l("Full name"), "person.name": _l("Full name"), "person.id_number": _l("ID number"),
    "employer": _l("Employer unit"), "year": _l("Year"), "status": _l("Review status"),
    "status_text": _l("Review status"), "submitted_on": _l("Submitted on"), "submitted_by": _l("Submitted by"),
    "reviewed_on": _l("Reviewed on"), "reviewed_by": _l("Reviewed by"), "reject_reason": _l("Reject reason"),
}
RECORD_LABELS = {
    **COMMON_LABELS, "subject_kind": _l("Subject kind"), "mode": _l("Learning mode"),
    "activity": _l("Learning activity"), "hours": _l("Hours"), "completed_on": _l("Completed on"),
    "programme": _l("Training programme"), "standard": _l("Conversion standard"), "quantity": _l("Quantity"),
    "provider": _l("Training provider"), "declarer_type": _l("Declared by"),
    "declarer_org": _l("Declaring organisation"), "channel": _l("Channel"),
}
VERIFICATION_LABELS = {
    **COMMON_LABELS, "public_hours": _l("Public subject hours"),
    "professional_hours": _l("Professional subject hours"), "total_hours": _l("Total hours"),
    "required_hours": _l("Required hours"), "required_professional_hours": _l("Required professional hours"),
    "status_text": _l("Verification result"), "reject_reason": _l("Reason"),
}


def person_account(model):
    """SQL (correlated): the login of the person an item is about (nobody verifies their own hours)."""
    def subject():
        return select(Person.account_id).where(Person.id == model.person_id).correlate(model).scalar_subquery()

    return subject


def _approved_into_summaries(ids, actor, now) -> None:
    """pending → approved: the decided records move into their persons' approved sums (set-based delta)."""
    from app.services.credit import summary

    summary.apply_decision(ids, approved=True)


def _rejected_from_summaries(ids, actor, now) -> None:
    """pending → rejected: the decided records leave their persons' pending sums (set-based delta)."""
    from app.services.credit import summary

    summary.apply_decision(ids, approved=False)


def _record_mixin():
    from app.admin.credit import CreditRecordReviewMixin

    return CreditRecordReviewMixin


def _verification_mixin():
    from app.admin.credit import VerificationRecordMixin

    return VerificationRecordMixin


CREDIT_RECORD = declare(Kind(
    key="credit_record", model=CreditRecord, label=_l("Credit hour review"), area=RECORD_AREA,
    menu=Menu(CREDIT_HOURS, "Credit hour review", "fa-check-square-o"),
    sides=(CHAIN,), org_column="employer_id",
    list_columns=["person.name", "person.id_number", "employer", "year", "activity", "subject_kind", "mode",
                  "hours", "declarer_type", "submitted_on", "status_text"],
    show_columns=["person", "person.id_number", "employer", "year", "activity", "subject_kind", "mode", "hours",
                  "completed_on", "programme", "standard", "quantity", "provider", "declarer_type",
                  "declarer_org", "channel", "submitted_by", "submitted_on", "status_text", "reviewed_by",
                  "reviewed_on", "reject_reason"],
    search_columns=["year", "employer", "subject_kind", "mode", "status", "declarer_type", "programme", "person"],
    order_columns=["id", "year", "hours"], label_columns=RECORD_LABELS, base_order=("id", "desc"),
    subject_account=person_account(CreditRecord),
    describe=lambda r: f"{r.person.name} {r.year} {r.activity}（{r.hours}学时）",
    audit_label=_l("Credit record"),
    effects={Decision.approve: _approved_into_summaries, Decision.reject: _rejected_from_summaries},
    files=(("", _l("Evidence files")),), view_mixin=_record_mixin,
))

CREDIT_VERIFICATION = declare(Kind(
    key="credit_verification", model=CreditVerification, label=_l("Verification records"),
    area=VERIFICATION_AREA, menu=Menu(VERIFICATION, "Verification records", "fa-list-alt"),
    sides=(CHAIN,), org_column="employer_id",
    list_columns=["person.name", "person.id_number", "employer", "year", "public_hours", "professional_hours",
                  "required_hours", "status_text", "reviewed_on"],
    show_columns=["person", "person.id_number", "employer", "year", "public_hours", "professional_hours",
                  "required_hours", "required_professional_hours", "status_text", "reviewed_by", "reviewed_on",
                  "reject_reason"],
    search_columns=["year", "employer", "status", "person"],
    order_columns=["id", "year"], label_columns=VERIFICATION_LABELS, base_order=("id", "desc"),
    subject_account=person_account(CreditVerification),
    describe=lambda v: f"{v.person.name} {v.year}",
    audit_label=_l("Credit hours verification"), approve_label=_l("Verification passed"),
    show_template="credit/verification_show.html", files=(), view_mixin=_verification_mixin,
))
